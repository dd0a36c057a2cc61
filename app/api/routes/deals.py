"""Deals: technology transactions, from first record to completion."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Query, Response, status

from app.accounts.authorization import NotYourOrganizationError
from app.api.deps import CurrentPrincipal, SessionDep, SettingsDep
from app.api.idempotency import ExchangeRoute
from app.api.openapi import declare_headers, declare_problems
from app.deals.schemas import DealConfirmation, DealCreate, DealRead, DealStage, DealUpdate, StageChange
from app.deals.service import NotADealPartyError, deal_service
from app.errors import InvalidInputError, PermissionDeniedError, problem_responses
from app.listings.exceptions import InvalidTransitionError, PreconditionFailedError, PreconditionRequiredError
from app.pagination import ANY_OF, MAX_VALUES, LinksDep, Page, PageDep, values

router = APIRouter(prefix="/deals", tags=["deals"], route_class=ExchangeRoute)
WRITE_ERRORS = problem_responses(401, 403, 404, 409, 412, 422, 428)
ACTION_ERRORS = problem_responses(401, 403, 404, 409, 422)


def _with_etag(deal: DealRead, response: Response) -> DealRead:
    response.headers["ETag"] = f'"{deal.version}"'
    return deal


@router.post(
    "", summary="Record a deal", status_code=status.HTTP_201_CREATED, response_model=DealRead, responses=ACTION_ERRORS
)
async def create_deal(
    payload: DealCreate, response: Response, principal: CurrentPrincipal, session: SessionDep, settings: SettingsDep
) -> DealRead:
    """A party (or its mandated broker, or a moderator) records a deal; it counts once the other side confirms it."""
    deal = await deal_service.create(session, principal, payload, settings.deal_value_review_vnd)
    return _with_etag(DealRead.model_validate(deal), response)


@router.get("", summary="List deals", response_model=Page[DealRead], responses=problem_responses(401, 422))
async def list_deals(
    principal: CurrentPrincipal,
    session: SessionDep,
    page: PageDep,
    links: LinksDep,
    stage: Annotated[list[DealStage] | None, Query(max_length=MAX_VALUES, description=ANY_OF)] = None,
    confirmation: Annotated[list[DealConfirmation] | None, Query(max_length=MAX_VALUES, description=ANY_OF)] = None,
) -> Page[DealRead]:
    """Deals your organisation is a party or broker to (moderators: all), by stage and confirmation."""
    items, total = await deal_service.list_page(session, principal, values(stage), page, values(confirmation))
    return links(Page.of([DealRead.model_validate(d) for d in items], total, page))


@router.get("/{deal_id}", summary="Get a deal", response_model=DealRead, responses=problem_responses(401, 404, 422))
async def get_deal(
    deal_id: uuid.UUID, response: Response, principal: CurrentPrincipal, session: SessionDep
) -> DealRead:
    """One deal with its `ETag`, for its parties, its broker and moderators."""
    deal, _actor = await deal_service.get(session, principal, deal_id)
    return _with_etag(DealRead.model_validate(deal), response)


@router.patch("/{deal_id}", summary="Update a deal", response_model=DealRead, responses=WRITE_ERRORS)
async def update_deal(
    deal_id: uuid.UUID,
    payload: DealUpdate,
    response: Response,
    principal: CurrentPrincipal,
    session: SessionDep,
    settings: SettingsDep,
    if_match: Annotated[str | None, Header(description="The `ETag` you read.")] = None,
) -> DealRead:
    """Change terms (value, currency, origin, confidentiality …); `If-Match` required; changing a term the
    statistics use asks the other side to confirm again."""
    deal = await deal_service.update(session, principal, deal_id, payload, if_match, settings.deal_value_review_vnd)
    return _with_etag(DealRead.model_validate(deal), response)


@router.post("/{deal_id}/confirm", summary="Confirm a deal", response_model=DealRead, responses=ACTION_ERRORS)
async def confirm_deal(
    deal_id: uuid.UUID, response: Response, principal: CurrentPrincipal, session: SessionDep, settings: SettingsDep
) -> DealRead:
    """Confirm the deal for the side you act for (or as a moderator); it counts in the statistics once confirmed."""
    deal = await deal_service.confirm(session, principal, deal_id, settings.deal_value_review_vnd)
    return _with_etag(DealRead.model_validate(deal), response)


@router.post(
    "/{deal_id}/stage", summary="Move a deal to its next stage", response_model=DealRead, responses=ACTION_ERRORS
)
async def change_deal_stage(
    deal_id: uuid.UUID,
    payload: StageChange,
    response: Response,
    principal: CurrentPrincipal,
    session: SessionDep,
    settings: SettingsDep,
) -> DealRead:
    """negotiating → signed → in_progress → completed, or cancelled; the step's date is recorded. Setting the
    signature date takes back the other side's confirmation, which it then gives again."""
    deal = await deal_service.change_stage(
        session, principal, deal_id, payload.stage, payload.on, settings.deal_value_review_vnd
    )
    return _with_etag(DealRead.model_validate(deal), response)


_PARTY = (NotADealPartyError, NotYourOrganizationError)
declare_problems(
    router,
    {
        "create_deal": [NotYourOrganizationError, PermissionDeniedError, InvalidInputError],
        "get_deal": _PARTY,
        "update_deal": [*_PARTY, InvalidInputError, PreconditionFailedError, PreconditionRequiredError],
        "confirm_deal": [*_PARTY, InvalidTransitionError],
        "change_deal_stage": [*_PARTY, InvalidTransitionError, InvalidInputError],
    },
)
declare_headers(
    router,
    {name: ["ETag"] for name in ("create_deal", "get_deal", "update_deal", "confirm_deal", "change_deal_stage")},
)
