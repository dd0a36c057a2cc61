"""Broker mandates: a client lets an intermediary act for it."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from app.accounts.authorization import NotYourOrganizationError
from app.accounts.exceptions import AccountRequiredError
from app.api.deps import CurrentPrincipal, SessionDep
from app.api.idempotency import ExchangeRoute
from app.api.openapi import declare_problems
from app.errors import InvalidInputError, problem_responses
from app.mandates.schemas import MandateCreate, MandateRead
from app.mandates.service import NotAnIntermediaryError, mandate_service, to_read
from app.pagination import LinksDep, Page, PageDep

router = APIRouter(prefix="/mandates", tags=["mandates"], route_class=ExchangeRoute)


@router.post(
    "",
    summary="Grant a mandate",
    status_code=status.HTTP_201_CREATED,
    response_model=MandateRead,
    responses=problem_responses(401, 403, 404, 422),
)
async def grant_mandate(payload: MandateCreate, principal: CurrentPrincipal, session: SessionDep) -> MandateRead:
    """The caller's organisation lets an intermediary's brokers act on its behalf."""
    return to_read(await mandate_service.grant(session, principal, payload))


@router.get(
    "",
    summary="List mandates",
    response_model=Page[MandateRead],
    responses=problem_responses(401, 422),
)
async def list_mandates(
    principal: CurrentPrincipal, session: SessionDep, page: PageDep, links: LinksDep
) -> Page[MandateRead]:
    """Mandates the caller's organisation granted or received (all of them for moderators)."""
    items, total = await mandate_service.list_page(session, principal, page)
    return links(Page.of([to_read(m) for m in items], total, page))


@router.get(
    "/{mandate_id}",
    summary="Get a mandate",
    response_model=MandateRead,
    responses=problem_responses(401, 404, 422),
)
async def get_mandate(mandate_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep) -> MandateRead:
    """One mandate, visible to its two parties and moderators."""
    return to_read(await mandate_service.get(session, principal, mandate_id))


@router.post(
    "/{mandate_id}/revoke",
    summary="Revoke a mandate",
    response_model=MandateRead,
    responses=problem_responses(401, 403, 404, 422),
)
async def revoke_mandate(mandate_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep) -> MandateRead:
    """Either party ends the mandate; the broker can no longer act for the client."""
    return to_read(await mandate_service.revoke(session, principal, mandate_id))


declare_problems(
    router,
    {
        "grant_mandate": [AccountRequiredError, NotYourOrganizationError, NotAnIntermediaryError, InvalidInputError],
        "get_mandate": [NotYourOrganizationError],
        "revoke_mandate": [AccountRequiredError, NotYourOrganizationError],
    },
)
