"""Technology offers and demands: browse, read, create, change, and move through the lifecycle.

Both resources share one set of handlers, built by `listing_router` for each kind.
"""

# No `from __future__ import annotations`: the handlers are built in a closure, and
# FastAPI must resolve their annotations (the per-kind schemas) at runtime.

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, Path, Query, Request, Response, status
from pydantic import StringConstraints
from starlette.convertors import StringConvertor, register_url_convertor

from app.accounts.authorization import NotYourOrganizationError
from app.accounts.permissions import Principal
from app.api.deps import CurrentPrincipal, OptionalPrincipal, SessionDep
from app.api.idempotency import ExchangeRoute
from app.api.openapi import declare_headers, declare_problems
from app.errors import InvalidInputError, PermissionDeniedError, problem_responses
from app.idempotency.service import IdempotencyKeyReusedError
from app.listings.exceptions import (
    InvalidTransitionError,
    PreconditionFailedError,
    PreconditionRequiredError,
    UnknownConceptError,
)
from app.listings.schemas import (
    DemandCreate,
    DemandRead,
    DemandUpdate,
    IpStatus,
    ListingFilters,
    ListingKind,
    ListingSort,
    ListingStatus,
    OfferCreate,
    OfferRead,
    OfferUpdate,
    Rejection,
    Renewal,
    TransferType,
)
from app.listings.service import listing_service, present
from app.organizations.schemas import OrganizationKind
from app.pagination import ANY_OF, MAX_VALUES, LinksDep, Page, PageDep
from app.validation import Timestamp
from app.vocabulary import FieldCode, Language


class ListingIdConvertor(StringConvertor):
    """A listing id segment, but not `{id}.jsonld`: that path is the listing's schema.org document
    (`app.api.routes.open_data`), and must not be taken for a malformed id by the other methods."""

    regex = r"[^/]+(?<!\.jsonld)"


register_url_convertor("listing_id", ListingIdConvertor())

IfMatch = Annotated[str | None, Header(description="The `ETag` of the version you read; required to change or delete.")]


def _filters(
    field: Annotated[
        list[FieldCode] | None, Query(max_length=MAX_VALUES, description=f"Technology field. {ANY_OF}")
    ] = None,
    concept: Annotated[
        list[Annotated[str, StringConstraints(max_length=64)]] | None,
        Query(max_length=MAX_VALUES, description=f"Taxonomy concept id. {ANY_OF}"),
    ] = None,
    trl_min: Annotated[
        int | None, Query(ge=1, le=9, description="Lowest TRL (offers) / minimum TRL (demands).")
    ] = None,
    trl_max: Annotated[int | None, Query(ge=1, le=9, description="Highest TRL.")] = None,
    ip_status: Annotated[list[IpStatus] | None, Query(max_length=MAX_VALUES, description=ANY_OF)] = None,
    transfer_type: Annotated[list[TransferType] | None, Query(max_length=MAX_VALUES, description=ANY_OF)] = None,
    owner_kind: Annotated[
        list[OrganizationKind] | None,
        Query(max_length=MAX_VALUES, description=f"Kind of the owning organisation. {ANY_OF}"),
    ] = None,
    organization_id: Annotated[
        list[uuid.UUID] | None, Query(max_length=MAX_VALUES, description=f"Owning organisation. {ANY_OF}")
    ] = None,
    country: Annotated[
        list[Annotated[str, StringConstraints(min_length=2, max_length=2)]] | None,
        Query(max_length=MAX_VALUES, description=f"ISO 3166-1 alpha-2. {ANY_OF}"),
    ] = None,
    province: Annotated[
        list[Annotated[str, StringConstraints(max_length=128)]] | None, Query(max_length=MAX_VALUES, description=ANY_OF)
    ] = None,
    language: Annotated[
        list[Language] | None, Query(max_length=MAX_VALUES, description=f"Original language. {ANY_OF}")
    ] = None,
    status: Annotated[
        list[ListingStatus] | None,
        Query(
            max_length=MAX_VALUES,
            description=f"Public callers see published listings; owners also their own; moderators all. {ANY_OF}",
        ),
    ] = None,
    proposed_for_city: Annotated[bool | None, Query(description="Offers proposed for transfer in the city.")] = None,
    created_from: Annotated[Timestamp | None, Query()] = None,
    created_to: Annotated[Timestamp | None, Query()] = None,
    updated_from: Annotated[Timestamp | None, Query()] = None,
    updated_to: Annotated[Timestamp | None, Query()] = None,
    sort: Annotated[ListingSort, Query(description="Sort order.")] = ListingSort.NEWEST,
) -> ListingFilters:
    return ListingFilters(
        field=field,
        concept=concept,
        trl_min=trl_min,
        trl_max=trl_max,
        ip_status=ip_status,
        transfer_type=transfer_type,
        owner_kind=owner_kind,
        organization_id=organization_id,
        country=country,
        province=province,
        language=language,
        status=status,
        proposed_for_city=proposed_for_city,
        created_from=created_from,
        created_to=created_to,
        updated_from=updated_from,
        updated_to=updated_to,
        sort=sort,
    )


FiltersDep = Annotated[ListingFilters, Depends(_filters)]
READ_ERRORS = problem_responses(404, 422)
WRITE_ERRORS = problem_responses(401, 403, 404, 409, 412, 422, 428)
CREATE_ERRORS = problem_responses(401, 403, 409, 422)


@dataclass(frozen=True)
class KindSpec:
    kind: ListingKind
    noun: str
    create: type[OfferCreate] | type[DemandCreate]
    update: type[OfferUpdate] | type[DemandUpdate]
    read: type[OfferRead] | type[DemandRead]


def _with_etag(body: OfferRead | DemandRead, response: Response) -> OfferRead | DemandRead:
    response.headers["ETag"] = f'"{body.version}"'
    return body


def listing_router(spec: KindSpec) -> APIRouter:
    """The endpoints of one listing kind; offers and demands differ only in their schemas."""
    kind, noun = spec.kind, spec.noun
    plural = f"{noun}s"
    router = APIRouter(prefix=f"/{plural}", tags=[plural], route_class=ExchangeRoute)
    create_schema, update_schema, read_schema = spec.create, spec.update, spec.read
    a_noun = f"{'an' if noun[0] in 'aeiou' else 'a'} {noun}"

    @router.get(
        "",
        name=f"list_{plural}",
        summary=f"Browse {plural}",
        response_model=Page[read_schema],  # type: ignore[valid-type]
        responses=READ_ERRORS,
    )
    async def browse_listings(
        session: SessionDep, principal: OptionalPrincipal, filters: FiltersDep, page: PageDep, links: LinksDep
    ) -> Page[Any]:
        """Filter, sort and paginate; the public sees published listings within their validity."""
        rows, total = await listing_service.list_page(session, principal, kind, filters, page)
        revealed = await listing_service.revealed_to(session, principal, [listing.id for listing, _ in rows])
        items = [present(listing, owner, principal, listing.id in revealed) for listing, owner in rows]
        return links(Page.of(items, total, page))

    @router.post(
        "",
        name=f"create_{noun}",
        summary=f"Create {a_noun}",
        status_code=status.HTTP_201_CREATED,
        response_model=read_schema,
        responses=CREATE_ERRORS,
    )
    async def create_listing(
        request: Request,
        payload: Annotated[create_schema, Body()],  # type: ignore[valid-type]
        response: Response,
        principal: CurrentPrincipal,
        session: SessionDep,
    ) -> OfferRead | DemandRead:
        """Create a draft owned by the caller's organisation (or a client's, under mandate)."""
        listing, owner = await listing_service.create(session, principal, kind, payload)
        response.headers["Location"] = f"{request.url.path}/{listing.id}"
        return _with_etag(present(listing, owner, principal), response)

    @router.get(
        f"/{{{noun}_id:listing_id}}",
        name=f"get_{noun}",
        summary=f"Get {a_noun}",
        response_model=read_schema,
        responses=READ_ERRORS,
    )
    async def get_listing(
        listing_id: Annotated[uuid.UUID, _path(noun)],
        response: Response,
        session: SessionDep,
        principal: OptionalPrincipal,
    ) -> OfferRead | DemandRead:
        """One listing with its `ETag`; unpublished ones only for their owner side and moderators."""
        listing, owner = await listing_service.get_for_viewer(session, principal, kind, listing_id)
        revealed = await listing_service.revealed_to(session, principal, [listing.id])
        return _with_etag(present(listing, owner, principal, listing.id in revealed), response)

    @router.patch(
        f"/{{{noun}_id:listing_id}}",
        name=f"update_{noun}",
        summary=f"Update {a_noun}",
        response_model=read_schema,
        responses=WRITE_ERRORS,
    )
    async def update_listing(
        listing_id: Annotated[uuid.UUID, _path(noun)],
        payload: Annotated[update_schema, Body()],  # type: ignore[valid-type]
        response: Response,
        principal: CurrentPrincipal,
        session: SessionDep,
        if_match: IfMatch = None,
    ) -> OfferRead | DemandRead:
        """Change fields; `If-Match` must carry the current `ETag` (412 when stale, 428 when missing)."""
        listing, owner = await listing_service.update(session, principal, kind, listing_id, payload, if_match)
        return _with_etag(present(listing, owner, principal), response)

    @router.delete(
        f"/{{{noun}_id:listing_id}}",
        name=f"delete_{noun}",
        summary=f"Delete {a_noun}",
        status_code=status.HTTP_204_NO_CONTENT,
        responses=WRITE_ERRORS,
    )
    async def delete_listing(
        listing_id: Annotated[uuid.UUID, _path(noun)],
        request: Request,
        principal: CurrentPrincipal,
        session: SessionDep,
        if_match: IfMatch = None,
    ) -> None:
        """Delete the listing; `If-Match` is required."""
        storage = request.app.state.document_storage
        await listing_service.delete(session, principal, storage, kind, listing_id, if_match)

    async def move(
        action: str,
        listing_id: uuid.UUID,
        response: Response,
        principal: Principal,
        session: Any,
        if_match: str | None,
        reason: str | None = None,
        expires_at: datetime | None = None,
    ) -> OfferRead | DemandRead:
        listing, owner = await listing_service.transition(
            session,
            principal,
            kind,
            listing_id,
            action,
            reason=reason,
            expires_at=expires_at,
            if_match=if_match,
        )
        return _with_etag(present(listing, owner, principal), response)

    item = f"/{{{noun}_id}}"

    @router.post(
        f"{item}/submit",
        name=f"submit_{noun}",
        summary=f"Submit {a_noun} for moderation",
        response_model=read_schema,
        responses=WRITE_ERRORS,
    )
    async def submit_listing(
        listing_id: Annotated[uuid.UUID, _path(noun)],
        response: Response,
        principal: CurrentPrincipal,
        session: SessionDep,
        if_match: IfMatch = None,
    ) -> OfferRead | DemandRead:
        """Owner side: draft or rejected → submitted."""
        return await move("submit", listing_id, response, principal, session, if_match)

    @router.post(
        f"{item}/publish",
        name=f"publish_{noun}",
        summary=f"Publish {a_noun}",
        response_model=read_schema,
        responses=WRITE_ERRORS,
    )
    async def publish_listing(
        listing_id: Annotated[uuid.UUID, _path(noun)],
        response: Response,
        principal: CurrentPrincipal,
        session: SessionDep,
        if_match: IfMatch = None,
    ) -> OfferRead | DemandRead:
        """Moderators: submitted → published."""
        return await move("publish", listing_id, response, principal, session, if_match)

    @router.post(
        f"{item}/reject",
        name=f"reject_{noun}",
        summary=f"Reject {a_noun}",
        response_model=read_schema,
        responses=WRITE_ERRORS,
    )
    async def reject_listing(
        listing_id: Annotated[uuid.UUID, _path(noun)],
        payload: Rejection,
        response: Response,
        principal: CurrentPrincipal,
        session: SessionDep,
        if_match: IfMatch = None,
    ) -> OfferRead | DemandRead:
        """Moderators: submitted → rejected, with the reason the owner will read."""
        return await move("reject", listing_id, response, principal, session, if_match, reason=payload.reason)

    @router.post(
        f"{item}/withdraw",
        name=f"withdraw_{noun}",
        summary=f"Withdraw {a_noun}",
        response_model=read_schema,
        responses=WRITE_ERRORS,
    )
    async def withdraw_listing(
        listing_id: Annotated[uuid.UUID, _path(noun)],
        response: Response,
        principal: CurrentPrincipal,
        session: SessionDep,
        if_match: IfMatch = None,
    ) -> OfferRead | DemandRead:
        """Owner side: submitted → draft; published or expired → archived."""
        return await move("withdraw", listing_id, response, principal, session, if_match)

    @router.post(
        f"{item}/renew",
        name=f"renew_{noun}",
        summary=f"Renew {a_noun}",
        response_model=read_schema,
        responses=WRITE_ERRORS,
    )
    async def renew_listing(
        listing_id: Annotated[uuid.UUID, _path(noun)],
        response: Response,
        principal: CurrentPrincipal,
        session: SessionDep,
        payload: Annotated[Renewal | None, Body()] = None,
        if_match: IfMatch = None,
    ) -> OfferRead | DemandRead:
        """Owner side: extend the validity (12 months from now by default); expired → published."""
        expires_at = payload.expires_at if payload else None
        return await move("renew", listing_id, response, principal, session, if_match, expires_at=expires_at)

    return router


def _path(noun: str) -> Any:
    return Path(alias=f"{noun}_id", description=f"The {noun}'s id.")


offers_router = listing_router(KindSpec(ListingKind.OFFER, "offer", OfferCreate, OfferUpdate, OfferRead))
demands_router = listing_router(KindSpec(ListingKind.DEMAND, "demand", DemandCreate, DemandUpdate, DemandRead))


def _declare_listing_problems(router: APIRouter, noun: str) -> None:
    owner_side = (NotYourOrganizationError, PermissionDeniedError)
    versioned = (PreconditionFailedError, PreconditionRequiredError)
    declare_problems(
        router,
        {
            f"list_{noun}s": [InvalidInputError],
            f"create_{noun}": [*owner_side, UnknownConceptError, IdempotencyKeyReusedError, InvalidInputError],
            f"update_{noun}": [*owner_side, *versioned, InvalidTransitionError, UnknownConceptError, InvalidInputError],
            f"delete_{noun}": [*owner_side, *versioned, InvalidTransitionError],
            **{
                f"{action}_{noun}": [*owner_side, *versioned, InvalidTransitionError, InvalidInputError]
                for action in ("submit", "publish", "reject", "withdraw", "renew")
            },
        },
    )

    declare_headers(
        router,
        {
            f"create_{noun}": ["ETag", "Location", "Idempotent-Replayed"],
            **{
                f"{action}_{noun}": ["ETag"]
                for action in ("get", "update", "submit", "publish", "reject", "withdraw", "renew")
            },
        },
    )


_declare_listing_problems(offers_router, "offer")
_declare_listing_problems(demands_router, "demand")
