"""Service requests: appraisal, valuation, legal and other intermediary services, from request to rating."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query, status

from app.accounts.authorization import NotYourOrganizationError
from app.api.deps import CurrentPrincipal, SessionDep
from app.api.idempotency import ExchangeRoute
from app.api.openapi import declare_problems
from app.engagements.schemas import (
    Delivery,
    QuoteAccept,
    QuoteCreate,
    QuoteRead,
    RatingCreate,
    ServiceRequestCreate,
    ServiceRequestRead,
    ServiceStatus,
    ServiceType,
)
from app.engagements.service import (
    AlreadyRatedError,
    NotAProviderError,
    NotTheProviderError,
    NotTheRequesterError,
    QuoteExistsError,
    QuoteNotFoundError,
    ServiceRequestNotFoundError,
    service_request_service,
)
from app.errors import InvalidInputError, PermissionDeniedError, problem_responses
from app.listings.exceptions import InvalidTransitionError, PreconditionFailedError
from app.pagination import ANY_OF, MAX_VALUES, LinksDep, Page, PageDep, values

router = APIRouter(prefix="/service-requests", tags=["service-requests"], route_class=ExchangeRoute)
WRITE_ERRORS = problem_responses(401, 403, 404, 409, 412, 422)
Read = ServiceRequestRead


@router.post(
    "",
    summary="Request a service",
    status_code=status.HTTP_201_CREATED,
    response_model=ServiceRequestRead,
    responses=problem_responses(401, 403, 409, 422),
)
async def create_service_request(
    payload: ServiceRequestCreate, principal: CurrentPrincipal, session: SessionDep
) -> Read:
    """A party of an offer, demand, interest or deal (or its mandated broker) asks intermediaries for a service."""
    request = await service_request_service.create(session, principal, payload)
    return await service_request_service.present(session, principal, request)


@router.get(
    "", summary="List service requests", response_model=Page[ServiceRequestRead], responses=problem_responses(401, 422)
)
async def list_service_requests(
    principal: CurrentPrincipal,
    session: SessionDep,
    page: PageDep,
    links: LinksDep,
    role: Annotated[
        Literal["requested", "provided", "market"] | None,
        Query(
            description="`requested` by your organisation, `provided` (quoted or accepted) by it, or the open "
            "`market` (intermediaries); all three by default."
        ),
    ] = None,
    status_filter: Annotated[
        list[ServiceStatus] | None, Query(alias="status", max_length=MAX_VALUES, description=ANY_OF)
    ] = None,
    service_type: Annotated[list[ServiceType] | None, Query(max_length=MAX_VALUES, description=ANY_OF)] = None,
) -> Page[ServiceRequestRead]:
    """Requests your organisation made or quoted on, and, for intermediaries, those taking quotes; newest first."""
    items, total = await service_request_service.list_page(
        session, principal, role, values(status_filter), values(service_type), page
    )
    reads = await service_request_service.present_all(session, principal, items)
    return links(Page.of(reads, total, page))


@router.get(
    "/{service_request_id}",
    summary="Get a service request",
    response_model=ServiceRequestRead,
    responses=problem_responses(401, 404, 422),
)
async def get_service_request(service_request_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep) -> Read:
    """One request with the quotes you may see."""
    request = await service_request_service.get(session, principal, service_request_id)
    return await service_request_service.present(session, principal, request)


@router.post(
    "/{service_request_id}/quotes",
    summary="Quote for a service",
    status_code=status.HTTP_201_CREATED,
    response_model=QuoteRead,
    responses=WRITE_ERRORS,
)
async def create_quote(
    service_request_id: uuid.UUID, payload: QuoteCreate, principal: CurrentPrincipal, session: SessionDep
) -> QuoteRead:
    """An intermediary quotes fee, currency and days to deliver while the request takes quotes."""
    _request, quote = await service_request_service.quote(session, principal, service_request_id, payload)
    return QuoteRead.model_validate(quote)


@router.post(
    "/{service_request_id}/quotes/{quote_id}/withdraw",
    summary="Withdraw a quote",
    response_model=ServiceRequestRead,
    responses=WRITE_ERRORS,
)
async def withdraw_quote(
    service_request_id: uuid.UUID, quote_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep
) -> Read:
    """The provider withdraws its quote before one is accepted."""
    request = await service_request_service.withdraw_quote(session, principal, service_request_id, quote_id)
    return await service_request_service.present(session, principal, request)


@router.post(
    "/{service_request_id}/accept",
    summary="Accept a quote",
    response_model=ServiceRequestRead,
    responses=WRITE_ERRORS,
)
async def accept_quote(
    service_request_id: uuid.UUID, payload: QuoteAccept, principal: CurrentPrincipal, session: SessionDep
) -> Read:
    """The requester accepts one quote; the others are rejected and its provider does the work."""
    request = await service_request_service.accept(session, principal, service_request_id, payload)
    return await service_request_service.present(session, principal, request)


@router.post(
    "/{service_request_id}/deliver",
    summary="Deliver the service",
    response_model=ServiceRequestRead,
    responses=WRITE_ERRORS,
)
async def deliver_service(
    service_request_id: uuid.UUID, payload: Delivery, principal: CurrentPrincipal, session: SessionDep
) -> Read:
    """The chosen provider delivers its structured result (a valuation states a range and its method)."""
    request = await service_request_service.deliver(session, principal, service_request_id, payload)
    return await service_request_service.present(session, principal, request)


@router.post(
    "/{service_request_id}/close",
    summary="Close a delivered service",
    response_model=ServiceRequestRead,
    responses=WRITE_ERRORS,
)
async def close_service_request(
    service_request_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep
) -> Read:
    """The requester accepts the delivery and closes the request."""
    request = await service_request_service.close(session, principal, service_request_id)
    return await service_request_service.present(session, principal, request)


@router.post(
    "/{service_request_id}/cancel",
    summary="Cancel a service request",
    response_model=ServiceRequestRead,
    responses=WRITE_ERRORS,
)
async def cancel_service_request(
    service_request_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep
) -> Read:
    """The requester cancels before delivery."""
    request = await service_request_service.cancel(session, principal, service_request_id)
    return await service_request_service.present(session, principal, request)


@router.post(
    "/{service_request_id}/rating",
    summary="Rate the other side",
    response_model=ServiceRequestRead,
    responses=WRITE_ERRORS,
)
async def rate_service(
    service_request_id: uuid.UUID, payload: RatingCreate, principal: CurrentPrincipal, session: SessionDep
) -> Read:
    """Once delivered, the requester rates the provider and the provider the requester (1–5), once each."""
    request = await service_request_service.rate(session, principal, service_request_id, payload)
    return await service_request_service.present(session, principal, request)


_FOUND = [ServiceRequestNotFoundError]
_STEP = [*_FOUND, InvalidTransitionError, PreconditionFailedError]
declare_problems(
    router,
    {
        "create_service_request": [NotYourOrganizationError, InvalidInputError],
        "get_service_request": _FOUND,
        "create_quote": [*_STEP, NotYourOrganizationError, NotAProviderError, QuoteExistsError],
        "withdraw_quote": [*_STEP, QuoteNotFoundError, NotTheProviderError],
        "accept_quote": [*_STEP, NotTheRequesterError, InvalidInputError],
        "deliver_service": [*_STEP, NotTheProviderError, InvalidInputError],
        "close_service_request": [*_STEP, NotTheRequesterError],
        "cancel_service_request": [*_STEP, NotTheRequesterError],
        "rate_service": [*_STEP, PermissionDeniedError, AlreadyRatedError],
    },
)
