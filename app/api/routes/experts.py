"""The expert network: profiles, ORCID import, freshness, experts for a listing, consultation requests."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query, Request, Response, status
from pydantic import StringConstraints

from app.accounts.authorization import NotYourOrganizationError
from app.accounts.exceptions import AccountRequiredError
from app.api.deps import CurrentPrincipal, OptionalPrincipal, SessionDep, SettingsDep
from app.api.idempotency import ExchangeRoute
from app.api.openapi import declare_headers, declare_problems
from app.api.routes.matching import content_language
from app.api.routes.search import SearchDep
from app.deals.service import DealNotFoundError
from app.errors import InvalidInputError, problem_responses
from app.experts.orcid import OrcidBadResponseError, OrcidRecordNotFoundError, OrcidUnavailableError
from app.experts.schemas import (
    ConsultationCreate,
    ConsultationDecline,
    ConsultationOutcomeUpdate,
    ConsultationRead,
    ExpertCreate,
    ExpertMatchCandidate,
    ExpertMatchesResponse,
    ExpertMatchRead,
    ExpertProposal,
    ExpertRead,
    ExpertReason,
    ExpertUpdate,
    OrcidImport,
)
from app.experts.service import (
    ConsultationCapReachedError,
    ConsultationNotFoundError,
    ConsultationStateError,
    ExpertNotFoundError,
    ExpertUnavailableError,
    NotTheExpertError,
    OwnExpertError,
    RankedExpert,
    expert_service,
)
from app.experts.visibility import is_stale, present
from app.idempotency.service import IdempotencyKeyReusedError
from app.listings.exceptions import (
    ListingNotFoundError,
    PreconditionFailedError,
    PreconditionRequiredError,
    UnknownConceptError,
)
from app.listings.schemas import ListingKind
from app.matching.explain import explain, negotiate
from app.models import Expert
from app.models.base import utcnow
from app.pagination import ANY_OF, MAX_VALUES, LinksDep, Page, PageDep

router = APIRouter(prefix="/experts", tags=["experts"], route_class=ExchangeRoute)
consultations_router = APIRouter(prefix="/consultations", tags=["experts"], route_class=ExchangeRoute)
matches_router = APIRouter(tags=["experts"], route_class=ExchangeRoute)

IfMatch = Annotated[str | None, Header(description="The `ETag` of the version you read; required to change or delete.")]
AcceptLanguage = Annotated[
    str | None,
    Header(description="Language of the reasons: the best of vi, en, ja (`ja, en;q=0.5`); without one, the listing's."),
]
Country = Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{2}$")]
READ_ERRORS = problem_responses(404, 422)
# Only a UUID is an expert's id: `/experts/import-orcid` is another resource, which answers GET with 405.
EXPERT_PATH = "/{expert_id:uuid}"
WRITE_ERRORS = problem_responses(401, 403, 404, 409, 412, 422, 428)


async def _read(session: SessionDep, principal: OptionalPrincipal, expert: Expert, settings: SettingsDep) -> ExpertRead:
    reader = await expert_service.reader(session, principal, expert)
    return present(expert, reader, utcnow(), settings.expert_stale_days)


def _etag(response: Response, body: ExpertRead) -> ExpertRead:
    response.headers["ETag"] = f'"{body.version}"'
    return body


@router.get("", summary="Browse experts", response_model=Page[ExpertRead], responses=READ_ERRORS)
async def list_experts(
    session: SessionDep,
    principal: OptionalPrincipal,
    settings: SettingsDep,
    page: PageDep,
    links: LinksDep,
    country: Annotated[list[Country] | None, Query(max_length=MAX_VALUES, description=f"Residence. {ANY_OF}")] = None,
    overseas_vietnamese: Annotated[bool | None, Query(description="Only overseas Vietnamese (or only not).")] = None,
    organization_id: Annotated[
        list[uuid.UUID] | None, Query(max_length=MAX_VALUES, description=f"Owning organisation. {ANY_OF}")
    ] = None,
) -> Page[ExpertRead]:
    """Profiles by name, each showing what this reader may see; search by topic at `/search/experts`."""
    experts, total = await expert_service.list_page(
        session,
        page,
        country=[c.upper() for c in country] if country else None,
        overseas=overseas_vietnamese,
        organization_id=organization_id,
    )
    items = [await _read(session, principal, e, settings) for e in experts]
    return links(Page.of(items, total, page))


@router.post(
    "",
    summary="Create an expert profile",
    status_code=status.HTTP_201_CREATED,
    response_model=ExpertRead,
    responses=problem_responses(401, 403, 409, 422),
)
async def create_expert(
    request: Request,
    payload: ExpertCreate,
    response: Response,
    principal: CurrentPrincipal,
    session: SessionDep,
    settings: SettingsDep,
) -> ExpertRead:
    """The caller lists themself (`listed_by: self`), or their organisation lists one of its staff with the
    person's consent recorded (`listed_by: organization`)."""
    expert = await expert_service.create(session, principal, payload)
    response.headers["Location"] = f"{request.url.path}/{expert.id}"
    return _etag(response, await _read(session, principal, expert, settings))


@router.post(
    "/import-orcid",
    summary="Propose a profile from an ORCID record",
    response_model=ExpertProposal,
    responses=problem_responses(401, 404, 422, 502, 503),
)
async def import_orcid(payload: OrcidImport, principal: CurrentPrincipal, settings: SettingsDep) -> ExpertProposal:
    """Read the public ORCID record (name, affiliations, works, keywords) and propose a profile for the
    expert to check and send to `POST /experts`; nothing is saved."""
    return await expert_service.propose_from_orcid(settings, payload.orcid)


@router.get(EXPERT_PATH, summary="Get an expert", response_model=ExpertRead, responses=READ_ERRORS)
async def get_expert(
    expert_id: uuid.UUID, response: Response, session: SessionDep, principal: OptionalPrincipal, settings: SettingsDep
) -> ExpertRead:
    """One profile with the fields this reader may see (public, members, or all for the owner side)."""
    expert = await expert_service.get(session, expert_id)
    return _etag(response, await _read(session, principal, expert, settings))


@router.patch(EXPERT_PATH, summary="Update an expert profile", response_model=ExpertRead, responses=WRITE_ERRORS)
async def update_expert(
    expert_id: uuid.UUID,
    payload: ExpertUpdate,
    response: Response,
    principal: CurrentPrincipal,
    session: SessionDep,
    settings: SettingsDep,
    if_match: IfMatch = None,
) -> ExpertRead:
    """The owner side changes fields and visibility; a change also confirms the profile is current."""
    expert = await expert_service.update(session, principal, expert_id, payload, if_match)
    return _etag(response, await _read(session, principal, expert, settings))


@router.delete(
    EXPERT_PATH, summary="Delete an expert profile", status_code=status.HTTP_204_NO_CONTENT, responses=WRITE_ERRORS
)
async def delete_expert(
    expert_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep, if_match: IfMatch = None
) -> None:
    """The owner side removes the profile (and withdraws the person's listing); `If-Match` is required."""
    await expert_service.delete(session, principal, expert_id, if_match)


@router.post(
    "/{expert_id}/confirm",
    summary="Confirm a profile is current",
    response_model=ExpertRead,
    responses=problem_responses(401, 403, 404, 422),
)
async def confirm_expert(
    expert_id: uuid.UUID, response: Response, principal: CurrentPrincipal, session: SessionDep, settings: SettingsDep
) -> ExpertRead:
    """The owner side confirms the profile: it is fresh for another 12 months."""
    expert = await expert_service.confirm(session, principal, expert_id)
    return _etag(response, await _read(session, principal, expert, settings))


@router.post(
    "/{expert_id}/consultations",
    summary="Ask an expert for a consultation",
    status_code=status.HTTP_201_CREATED,
    response_model=ConsultationRead,
    responses=problem_responses(401, 404, 409, 422, 429),
)
async def request_consultation(
    expert_id: uuid.UUID,
    payload: ConsultationCreate,
    request: Request,
    response: Response,
    principal: CurrentPrincipal,
    session: SessionDep,
    settings: SettingsDep,
) -> ConsultationRead:
    """Your organisation asks the expert about a demand, an offer or a deal; the expert's contact details are
    revealed when they accept. Each organisation may send `EXPERT_REQUESTS_PER_ORG_PER_MONTH` requests per
    calendar month (UTC)."""
    created = await expert_service.request(session, principal, settings, expert_id, payload)
    response.headers["Location"] = f"{request.url.path.rsplit('/experts/', 1)[0]}/consultations/{created.id}"
    return (await expert_service.present_requests(session, principal, [created]))[0]


@consultations_router.get(
    "",
    summary="List consultation requests",
    response_model=Page[ConsultationRead],
    responses=problem_responses(401, 422),
)
async def list_consultations(
    principal: CurrentPrincipal,
    session: SessionDep,
    page: PageDep,
    links: LinksDep,
    role: Annotated[
        Literal["sent", "received"] | None, Query(description="Only those your organisation sent, or received.")
    ] = None,
) -> Page[ConsultationRead]:
    """Requests your organisation sent or its experts received, newest first (moderators: all)."""
    items, total = await expert_service.requests(session, principal, page, role)
    return links(Page.of(await expert_service.present_requests(session, principal, items), total, page))


@consultations_router.get(
    "/{consultation_id}",
    summary="Get a consultation request",
    response_model=ConsultationRead,
    responses=problem_responses(401, 404, 422),
)
async def get_consultation(
    consultation_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep
) -> ConsultationRead:
    """One request, for its two sides and moderators."""
    request, _expert = await expert_service.get_request(session, principal, consultation_id)
    return (await expert_service.present_requests(session, principal, [request]))[0]


@consultations_router.post(
    "/{consultation_id}/accept",
    summary="Accept a consultation request",
    response_model=ConsultationRead,
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def accept_consultation(
    consultation_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep
) -> ConsultationRead:
    """The expert's side accepts: the requester now sees the expert's contact details."""
    request = await expert_service.answer(session, principal, consultation_id, accept=True)
    return (await expert_service.present_requests(session, principal, [request]))[0]


@consultations_router.post(
    "/{consultation_id}/decline",
    summary="Decline a consultation request",
    response_model=ConsultationRead,
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def decline_consultation(
    consultation_id: uuid.UUID, payload: ConsultationDecline, principal: CurrentPrincipal, session: SessionDep
) -> ConsultationRead:
    """The expert's side declines (`{}`, or with a reason); contact details stay hidden."""
    request = await expert_service.answer(session, principal, consultation_id, accept=False, reason=payload.reason)
    return (await expert_service.present_requests(session, principal, [request]))[0]


@consultations_router.put(
    "/{consultation_id}/outcome",
    summary="Record a consultation's outcome",
    response_model=ConsultationRead,
    responses=problem_responses(401, 404, 409, 422),
)
async def record_consultation_outcome(
    consultation_id: uuid.UUID, payload: ConsultationOutcomeUpdate, principal: CurrentPrincipal, session: SessionDep
) -> ConsultationRead:
    """Either side says what came of an accepted request: advice given, an engagement, or no fit."""
    request = await expert_service.record_outcome(session, principal, consultation_id, payload)
    return (await expert_service.present_requests(session, principal, [request]))[0]


def _matches(
    listing_id: uuid.UUID, found: list[RankedExpert], language: str, limit: int, stale_days: int
) -> ExpertMatchesResponse:
    now = utcnow()
    items = []
    for position, ranked in enumerate(found, start=1):
        explanation = explain(ranked.match.reasons, language)
        expert = ranked.expert
        items.append(
            ExpertMatchRead(
                rank=position,
                score=ranked.match.score,
                expertise=ranked.match.expertise,
                evidence=ranked.match.evidence,
                expert=ExpertMatchCandidate(
                    id=expert.id,
                    name=expert.name,
                    headline=expert.headline,
                    country=expert.country,
                    overseas_vietnamese=expert.overseas_vietnamese,
                    offers=list(expert.offers or []),
                    stale=is_stale(expert, now, stale_days),
                ),
                reasons=[
                    ExpertReason(feature=r.feature, contribution=r.contribution, text=t) for r, t in explanation.fits
                ],
                gaps=[
                    ExpertReason(feature=r.feature, contribution=r.contribution, text=t) for r, t in explanation.gaps
                ],
            )
        )
    return ExpertMatchesResponse(listing_id=listing_id, language=language, items=items, total=len(items), limit=limit)


Limit = Annotated[int, Query(ge=1, le=100, description="How many experts.")]
MinScore = Annotated[float, Query(ge=0, le=1, description="Leave out weaker matches.")]


@matches_router.get(
    "/demands/{demand_id}/experts",
    summary="Experts for a demand",
    response_model=ExpertMatchesResponse,
    responses=problem_responses(401, 404, 422),
)
async def experts_for_demand(
    demand_id: uuid.UUID,
    session: SessionDep,
    backend: SearchDep,
    principal: OptionalPrincipal,
    settings: SettingsDep,
    response: Response,
    accept_language: AcceptLanguage = None,
    limit: Limit = 10,
    min_score: MinScore = 0.0,
) -> ExpertMatchesResponse:
    """Who can solve this need: experts ranked by expertise, then evidence, each with the reasons."""
    listing, found = await expert_service.for_listing(
        session, backend, principal, settings, ListingKind.DEMAND, demand_id, limit=limit, min_score=min_score
    )
    language = negotiate(accept_language, default=listing.language)
    content_language(response, language)
    return _matches(demand_id, found, language, limit, settings.expert_stale_days)


@matches_router.get(
    "/offers/{offer_id}/experts",
    summary="Experts for an offer",
    response_model=ExpertMatchesResponse,
    responses=problem_responses(401, 404, 422),
)
async def experts_for_offer(
    offer_id: uuid.UUID,
    session: SessionDep,
    backend: SearchDep,
    principal: OptionalPrincipal,
    settings: SettingsDep,
    response: Response,
    accept_language: AcceptLanguage = None,
    limit: Limit = 10,
    min_score: MinScore = 0.0,
) -> ExpertMatchesResponse:
    """Who can assess this technology or help a buyer adopt it, ranked and explained."""
    listing, found = await expert_service.for_listing(
        session, backend, principal, settings, ListingKind.OFFER, offer_id, limit=limit, min_score=min_score
    )
    language = negotiate(accept_language, default=listing.language)
    content_language(response, language)
    return _matches(offer_id, found, language, limit, settings.expert_stale_days)


_OWNER_SIDE = [NotYourOrganizationError, ExpertNotFoundError]
_VERSIONED = [PreconditionFailedError, PreconditionRequiredError]
declare_problems(
    router,
    {
        "list_experts": [InvalidInputError],
        "create_expert": [AccountRequiredError, UnknownConceptError, IdempotencyKeyReusedError, InvalidInputError],
        "import_orcid": [OrcidRecordNotFoundError, OrcidBadResponseError, OrcidUnavailableError],
        "get_expert": [ExpertNotFoundError],
        "update_expert": [*_OWNER_SIDE, *_VERSIONED, UnknownConceptError, InvalidInputError],
        "delete_expert": [*_OWNER_SIDE, *_VERSIONED],
        "confirm_expert": _OWNER_SIDE,
        "request_consultation": [
            ExpertNotFoundError,
            ListingNotFoundError,
            OwnExpertError,
            ExpertUnavailableError,
            ConsultationCapReachedError,
            DealNotFoundError,
            IdempotencyKeyReusedError,
        ],
    },
)
declare_headers(
    router,
    {
        "create_expert": ["ETag", "Location", "Idempotent-Replayed"],
        "get_expert": ["ETag"],
        "update_expert": ["ETag"],
        "confirm_expert": ["ETag"],
        "request_consultation": ["Location", "Idempotent-Replayed"],
    },
)
declare_problems(
    matches_router,
    {"experts_for_demand": [ListingNotFoundError], "experts_for_offer": [ListingNotFoundError]},
)
declare_problems(
    consultations_router,
    {
        "get_consultation": [ConsultationNotFoundError],
        "accept_consultation": [ConsultationNotFoundError, NotTheExpertError, ConsultationStateError],
        "decline_consultation": [ConsultationNotFoundError, NotTheExpertError, ConsultationStateError],
        "record_consultation_outcome": [ConsultationNotFoundError, ConsultationStateError],
    },
)
