"""Organisations, their members, invitations and API keys."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, Response, status
from pydantic import StringConstraints

from app.accounts.authorization import NotYourOrganizationError
from app.accounts.exceptions import AccountRequiredError, OrgAdminRequiredError
from app.accounts.schemas import (
    AccountRead,
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyRead,
    InvitationCreate,
    InvitationCreated,
    InvitationRead,
    MemberUpdate,
)
from app.accounts.service import BrokerRoleNotAllowedError, account_service
from app.api.deps import CurrentPrincipal, NoStore, SessionDep
from app.api.idempotency import ExchangeRoute
from app.api.openapi import declare_headers, declare_problems
from app.errors import InvalidInputError, PermissionDeniedError, problem_responses
from app.organizations.exceptions import OrganizationInUseError, ServicesNotAllowedError
from app.organizations.schemas import (
    OrganizationCreate,
    OrganizationFilters,
    OrganizationKind,
    OrganizationRead,
    OrganizationUpdate,
    VerificationUpdate,
)
from app.organizations.service import etag as organization_etag
from app.organizations.service import organization_service
from app.pagination import ANY_OF, MAX_VALUES, LinksDep, Page, PageDep
from app.vocabulary import FieldCode

router = APIRouter(prefix="/organizations", tags=["organizations"], route_class=ExchangeRoute)
members_router = APIRouter(prefix="/organizations/{organization_id}", tags=["members"], route_class=ExchangeRoute)
keys_router = APIRouter(
    prefix="/organizations/{organization_id}/api-keys", tags=["api-keys"], route_class=ExchangeRoute
)

WRITE_ERRORS = problem_responses(401, 403, 404, 409, 422)


def _filters(
    kind: Annotated[
        list[OrganizationKind] | None, Query(max_length=MAX_VALUES, description=f"Organisation kind. {ANY_OF}")
    ] = None,
    country: Annotated[
        list[Annotated[str, StringConstraints(min_length=2, max_length=2)]] | None,
        Query(max_length=MAX_VALUES, description=f"ISO 3166-1 alpha-2. {ANY_OF}"),
    ] = None,
    verified: Annotated[bool | None, Query(description="Verified by a moderator.")] = None,
    sector: Annotated[
        list[FieldCode] | None, Query(max_length=MAX_VALUES, description=f"Has this technology field. {ANY_OF}")
    ] = None,
    q: Annotated[str | None, Query(max_length=100, description="Part of the name.")] = None,
) -> OrganizationFilters:
    return OrganizationFilters(kind=kind, country=country, verified=verified, sector=sector, q=q)


@router.get(
    "",
    summary="List organisations",
    response_model=Page[OrganizationRead],
    responses=problem_responses(422),
)
async def list_organizations(
    session: SessionDep,
    page: PageDep,
    links: LinksDep,
    filters: Annotated[OrganizationFilters, Depends(_filters)],
) -> Page[OrganizationRead]:
    """Public directory of organisations, filtered and paginated."""
    items, total = await organization_service.list_page(session, filters, page)
    return links(Page.of([OrganizationRead.model_validate(o) for o in items], total, page))


@router.post(
    "",
    summary="Create an organisation",
    status_code=status.HTTP_201_CREATED,
    response_model=OrganizationRead,
    responses=WRITE_ERRORS,
)
async def create_organization(
    payload: OrganizationCreate, principal: CurrentPrincipal, session: SessionDep
) -> OrganizationRead:
    """Moderators register an organisation directly; everyone else registers an account."""
    return OrganizationRead.model_validate(await organization_service.create(session, principal, payload))


@router.get(
    "/{organization_id}",
    summary="Get an organisation",
    response_model=OrganizationRead,
    responses=problem_responses(404, 422),
)
async def get_organization(organization_id: uuid.UUID, response: Response, session: SessionDep) -> OrganizationRead:
    """Public profile of one organisation, with its `ETag` (what a moderator verifies against)."""
    organization = await organization_service.get(session, organization_id)
    response.headers["ETag"] = organization_etag(organization)
    return OrganizationRead.model_validate(organization)


@router.patch(
    "/{organization_id}",
    summary="Update an organisation",
    response_model=OrganizationRead,
    responses=WRITE_ERRORS,
)
async def update_organization(
    organization_id: uuid.UUID,
    payload: OrganizationUpdate,
    response: Response,
    principal: CurrentPrincipal,
    session: SessionDep,
) -> OrganizationRead:
    """Change the profile: its members, a broker under mandate, or a moderator."""
    organization = await organization_service.update(session, principal, organization_id, payload)
    response.headers["ETag"] = organization_etag(organization)
    return OrganizationRead.model_validate(organization)


@router.delete(
    "/{organization_id}",
    summary="Delete an organisation",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=WRITE_ERRORS,
)
async def delete_organization(
    organization_id: uuid.UUID, request: Request, principal: CurrentPrincipal, session: SessionDep
) -> None:
    """Administrators delete an organisation that has no accounts left."""
    await organization_service.delete(session, principal, request.app.state.document_storage, organization_id)


@router.put(
    "/{organization_id}/verification",
    summary="Verify an organisation",
    response_model=OrganizationRead,
    responses=problem_responses(401, 403, 404, 409, 412, 422, 428),
)
async def set_verification(
    organization_id: uuid.UUID,
    payload: VerificationUpdate,
    response: Response,
    principal: CurrentPrincipal,
    session: SessionDep,
    if_match: Annotated[
        str | None,
        Header(
            alias="If-Match",
            description="To verify: the `ETag` of the organisation as you checked it (412 if it changed since).",
        ),
    ] = None,
) -> OrganizationRead:
    """Moderators mark an organisation's identity as checked — as they read it (`If-Match`) — or withdraw it."""
    organization = await organization_service.set_verified(
        session, principal, organization_id, payload.verified, if_match
    )
    response.headers["ETag"] = organization_etag(organization)
    return OrganizationRead.model_validate(organization)


@members_router.get(
    "/members",
    summary="List members",
    response_model=Page[AccountRead],
    responses=problem_responses(401, 403, 404, 422),
)
async def list_members(
    organization_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep, page: PageDep, links: LinksDep
) -> Page[AccountRead]:
    """Accounts of the organisation, for its members and moderators."""
    items, total = await account_service.list_members(session, principal, organization_id, page)
    return links(Page.of([AccountRead.model_validate(a) for a in items], total, page))


@members_router.patch(
    "/members/{account_id}",
    summary="Update a member",
    response_model=AccountRead,
    responses=WRITE_ERRORS,
)
async def update_member(
    organization_id: uuid.UUID,
    account_id: uuid.UUID,
    payload: MemberUpdate,
    principal: CurrentPrincipal,
    session: SessionDep,
) -> AccountRead:
    """Organisation admins change a member's role, admin flag or access."""
    account = await account_service.update_member(session, principal, organization_id, account_id, payload)
    return AccountRead.model_validate(account)


@members_router.post(
    "/invitations",
    summary="Invite a person",
    status_code=status.HTTP_201_CREATED,
    response_model=InvitationCreated,
    responses=WRITE_ERRORS,
    dependencies=[NoStore],
)
async def create_invitation(
    organization_id: uuid.UUID,
    payload: InvitationCreate,
    principal: CurrentPrincipal,
    session: SessionDep,
) -> InvitationCreated:
    """Organisation admins invite a person; the token, shown once, lets them register into it."""
    invitation, token = await account_service.invite(session, principal, organization_id, payload)
    return InvitationCreated(**InvitationRead.model_validate(invitation).model_dump(), token=token)


@members_router.get(
    "/invitations",
    summary="List invitations",
    response_model=Page[InvitationRead],
    responses=problem_responses(401, 403, 404, 422),
)
async def list_invitations(
    organization_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep, page: PageDep, links: LinksDep
) -> Page[InvitationRead]:
    """Invitations of the organisation, newest first, for its admins."""
    items, total = await account_service.list_invitations(session, principal, organization_id, page)
    return links(Page.of([InvitationRead.model_validate(i) for i in items], total, page))


@members_router.delete(
    "/invitations/{invitation_id}",
    summary="Revoke an invitation",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=WRITE_ERRORS,
)
async def revoke_invitation(
    organization_id: uuid.UUID,
    invitation_id: uuid.UUID,
    principal: CurrentPrincipal,
    session: SessionDep,
) -> None:
    """Organisation admins withdraw an invitation that was not used yet."""
    await account_service.revoke_invitation(session, principal, organization_id, invitation_id)


@keys_router.post(
    "",
    summary="Create an API key",
    status_code=status.HTTP_201_CREATED,
    response_model=ApiKeyCreated,
    responses=WRITE_ERRORS,
    dependencies=[NoStore],
)
async def create_api_key(
    organization_id: uuid.UUID,
    payload: ApiKeyCreate,
    principal: CurrentPrincipal,
    session: SessionDep,
) -> ApiKeyCreated:
    """Organisation admins create a key for an integration; the key is shown only in this response."""
    key, plaintext = await account_service.create_api_key(session, principal, organization_id, payload)
    return ApiKeyCreated(**ApiKeyRead.model_validate(key).model_dump(), key=plaintext)


@keys_router.get(
    "",
    summary="List API keys",
    response_model=Page[ApiKeyRead],
    responses=problem_responses(401, 403, 404, 422),
)
async def list_api_keys(
    organization_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep, page: PageDep, links: LinksDep
) -> Page[ApiKeyRead]:
    """The organisation's keys with their last use; never the secrets."""
    items, total = await account_service.list_api_keys(session, principal, organization_id, page)
    return links(Page.of([ApiKeyRead.model_validate(k) for k in items], total, page))


@keys_router.delete(
    "/{api_key_id}",
    summary="Revoke an API key",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=WRITE_ERRORS,
)
async def revoke_api_key(
    organization_id: uuid.UUID,
    api_key_id: uuid.UUID,
    principal: CurrentPrincipal,
    session: SessionDep,
) -> None:
    """Organisation admins revoke a key; requests with it get 401 from then on."""
    await account_service.revoke_api_key(session, principal, organization_id, api_key_id)


_ADMIN = (AccountRequiredError, NotYourOrganizationError, OrgAdminRequiredError)
declare_problems(
    router,
    {
        "create_organization": [ServicesNotAllowedError],
        "update_organization": [NotYourOrganizationError, ServicesNotAllowedError],
        "delete_organization": [NotYourOrganizationError, PermissionDeniedError, OrganizationInUseError],
    },
)
declare_problems(
    members_router,
    {
        "list_members": [*_ADMIN, PermissionDeniedError],
        "update_member": [*_ADMIN, InvalidInputError],
        "create_invitation": [*_ADMIN, BrokerRoleNotAllowedError],
        "list_invitations": _ADMIN,
        "revoke_invitation": _ADMIN,
    },
)
declare_problems(keys_router, {"create_api_key": _ADMIN, "list_api_keys": _ADMIN, "revoke_api_key": _ADMIN})
declare_headers(router, {name: ["ETag"] for name in ("get_organization", "update_organization", "set_verification")})
