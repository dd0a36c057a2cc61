"""Expressions of interest in listings, their answers and their message threads."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query, status

from app.accounts.authorization import NotYourOrganizationError
from app.api.deps import CurrentPrincipal, SessionDep, SettingsDep
from app.api.idempotency import ExchangeRoute
from app.api.openapi import declare_problems
from app.deals.schemas import InterestCreate, InterestDecline, InterestRead, InterestStatus, MessageCreate, MessageRead
from app.deals.service import InterestExistsError, interest_service
from app.errors import InvalidInputError, PermissionDeniedError, problem_responses
from app.listings.exceptions import InvalidTransitionError, ListingNotFoundError
from app.pagination import ANY_OF, MAX_VALUES, KeysetPageDep, LinksDep, Page, PageDep, values

router = APIRouter(prefix="/interests", tags=["interests"], route_class=ExchangeRoute)
WRITE_ERRORS = problem_responses(401, 403, 404, 409, 422)


@router.post(
    "",
    summary="Express interest in a listing",
    status_code=status.HTTP_201_CREATED,
    response_model=InterestRead,
    responses=WRITE_ERRORS,
)
async def create_interest(
    payload: InterestCreate, principal: CurrentPrincipal, session: SessionDep, settings: SettingsDep
) -> InterestRead:
    """Tell the owner of a published offer or demand that your organisation is interested."""
    interest = await interest_service.create(session, principal, payload)
    return await interest_service.present(session, interest, principal, settings.interest_response_days)


@router.get("", summary="List interests", response_model=Page[InterestRead], responses=problem_responses(401, 422))
async def list_interests(
    principal: CurrentPrincipal,
    session: SessionDep,
    settings: SettingsDep,
    page: PageDep,
    links: LinksDep,
    role: Annotated[Literal["sent", "received"] | None, Query(description="Sent or received; both by default.")] = None,
    status_filter: Annotated[
        list[InterestStatus] | None, Query(alias="status", max_length=MAX_VALUES, description=ANY_OF)
    ] = None,
) -> Page[InterestRead]:
    """Interests your organisation sent or received, newest first (moderators: all)."""
    items, total = await interest_service.list_page(session, principal, role, values(status_filter), page)
    reads = await interest_service.present_all(session, items, principal, settings.interest_response_days)
    return links(Page.of(reads, total, page))


@router.get(
    "/{interest_id}", summary="Get an interest", response_model=InterestRead, responses=problem_responses(401, 404, 422)
)
async def get_interest(
    interest_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep, settings: SettingsDep
) -> InterestRead:
    """One interest, for its two parties and moderators."""
    interest = await interest_service.get(session, principal, interest_id)
    return await interest_service.present(session, interest, principal, settings.interest_response_days)


@router.post("/{interest_id}/accept", summary="Accept an interest", response_model=InterestRead, responses=WRITE_ERRORS)
async def accept_interest(
    interest_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep, settings: SettingsDep
) -> InterestRead:
    """The listing's owner accepts; an anonymous listing's owner becomes visible to that party only."""
    interest = await interest_service.accept(session, principal, interest_id)
    return await interest_service.present(session, interest, principal, settings.interest_response_days)


@router.post(
    "/{interest_id}/decline", summary="Decline an interest", response_model=InterestRead, responses=WRITE_ERRORS
)
async def decline_interest(
    interest_id: uuid.UUID,
    payload: InterestDecline,
    principal: CurrentPrincipal,
    session: SessionDep,
    settings: SettingsDep,
) -> InterestRead:
    """The listing's owner declines, with a coded reason (and a message, optionally)."""
    interest = await interest_service.decline(session, principal, interest_id, payload)
    return await interest_service.present(session, interest, principal, settings.interest_response_days)


@router.post(
    "/{interest_id}/withdraw", summary="Withdraw an interest", response_model=InterestRead, responses=WRITE_ERRORS
)
async def withdraw_interest(
    interest_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep, settings: SettingsDep
) -> InterestRead:
    """The interested party withdraws a pending interest."""
    interest = await interest_service.withdraw(session, principal, interest_id)
    return await interest_service.present(session, interest, principal, settings.interest_response_days)


@router.get(
    "/{interest_id}/messages",
    summary="Read the thread",
    response_model=Page[MessageRead],
    responses=problem_responses(401, 404, 422),
)
async def list_messages(
    interest_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep, page: KeysetPageDep, links: LinksDep
) -> Page[MessageRead]:
    """The messages between the two parties, oldest first. `next_cursor` continues after the last message
    seen, so messages written meanwhile are neither skipped nor repeated."""
    interest, (messages, total, last) = await interest_service.thread(session, principal, interest_id, page)
    reads = await interest_service.present_messages(session, interest, principal, messages)
    return links(Page.of(reads, total, page, last_key=last))


@router.post(
    "/{interest_id}/messages",
    summary="Write in the thread",
    status_code=status.HTTP_201_CREATED,
    response_model=MessageRead,
    responses=WRITE_ERRORS,
)
async def post_message(
    interest_id: uuid.UUID, payload: MessageCreate, principal: CurrentPrincipal, session: SessionDep
) -> MessageRead:
    """Either party writes to the other while the interest is pending or accepted."""
    interest, message = await interest_service.post_message(session, principal, interest_id, payload.body)
    [read] = await interest_service.present_messages(session, interest, principal, [message])
    return read


_PARTY = (NotYourOrganizationError, InvalidTransitionError)
declare_problems(
    router,
    {
        "create_interest": [ListingNotFoundError, InterestExistsError, NotYourOrganizationError, InvalidInputError],
        "get_interest": [NotYourOrganizationError],
        "accept_interest": _PARTY,
        "decline_interest": _PARTY,
        "withdraw_interest": _PARTY,
        "list_messages": [NotYourOrganizationError],
        "post_message": [NotYourOrganizationError, PermissionDeniedError, InvalidTransitionError],
    },
)
