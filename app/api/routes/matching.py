"""Ranked, explained counterparts; dismiss and bookmark; alerts and notifications."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Query, Response, status

from app.accounts.authorization import NotYourOrganizationError
from app.accounts.exceptions import AccountRequiredError
from app.accounts.permissions import Principal
from app.api.deps import CurrentPrincipal, OptionalPrincipal, SessionDep
from app.api.idempotency import ExchangeRoute
from app.api.openapi import declare_problems
from app.api.routes.search import SearchDep
from app.errors import InvalidInputError, NotFoundError, problem_responses
from app.listings.schemas import ListingKind
from app.listings.visibility import owner_visible, revealed_to
from app.matching.explain import explain, negotiate
from app.matching.schemas import (
    CandidateSummary,
    FeedbackUpdate,
    MatchesResponse,
    MatchRead,
    NotificationRead,
    OrganizationMatchesResponse,
    OrganizationMatchRead,
    OrganizationSummary,
    ReasonRead,
    SubscriptionCreate,
    SubscriptionRead,
)
from app.matching.service import RankedMatch, matching_service
from app.pagination import KeysetPageDep, LinksDep, Page, PageDep, window

router = APIRouter(tags=["matching"], route_class=ExchangeRoute)
AcceptLanguage = Annotated[
    str | None,
    Header(
        description="Language of the reasons: the best of vi, en, ja by quality value (`ja, en;q=0.5`); "
        "without one, the listing's own language. The answer says which in Content-Language."
    ),
]
Limit = Annotated[int, Query(ge=1, le=100, description="How many matches.")]
MinScore = Annotated[float, Query(ge=0, le=1, description="Leave out weaker matches.")]
READ_ERRORS = problem_responses(401, 404, 422)
WRITE_ERRORS = problem_responses(401, 403, 404, 422)


def _reasons(found: RankedMatch, language: str) -> tuple[list[ReasonRead], list[ReasonRead]]:
    """The fits worth a line and the gaps, in the reader's language."""
    explanation = explain(found.match.reasons, language)
    fits = [ReasonRead(feature=r.feature, contribution=r.contribution, text=text) for r, text in explanation.fits]
    gaps = [ReasonRead(feature=r.feature, contribution=r.contribution, text=text) for r, text in explanation.gaps]
    return fits, gaps


def content_language(response: Response, language: str) -> None:
    """Say which language the reasons are in, and that another Accept-Language may get another answer."""
    response.headers["Content-Language"] = language
    vary = response.headers.get("Vary")
    response.headers["Vary"] = f"{vary}, Accept-Language" if vary else "Accept-Language"


def _response(
    listing_id: uuid.UUID,
    found: list[RankedMatch],
    language: str,
    principal: Principal | None,
    revealed: set[uuid.UUID],
    limit: int,
) -> MatchesResponse:
    items = []
    for position, match in enumerate(found, start=1):
        listing, owner = match.listing, match.owner
        shown = owner_visible(listing, principal, listing.id in revealed)
        candidate = CandidateSummary(
            id=listing.id,
            kind=listing.kind,
            reference=listing.reference,
            title=listing.title,
            field=listing.field,
            trl=listing.trl,
            min_trl=listing.min_trl,
            organization_id=owner.id if shown else None,
            organization_name=owner.name if shown else None,
        )
        fits, gaps = _reasons(match, language)
        items.append(
            MatchRead(
                rank=position,
                score=match.match.score,
                candidate=candidate,
                reasons=fits,
                gaps=gaps,
                bookmarked=match.bookmarked,
            )
        )
    return MatchesResponse(listing_id=listing_id, language=language, items=items, total=len(items), limit=limit)


@router.get(
    "/demands/{demand_id}/matches",
    summary="Matching offers for a demand",
    response_model=MatchesResponse,
    responses=READ_ERRORS,
)
async def matches_for_demand(
    demand_id: uuid.UUID,
    session: SessionDep,
    backend: SearchDep,
    principal: OptionalPrincipal,
    response: Response,
    accept_language: AcceptLanguage = None,
    limit: Limit = 20,
    min_score: MinScore = 0.0,
) -> MatchesResponse:
    """Published offers ranked for this demand, each with its score and the reasons behind it."""
    listing, found = await matching_service.for_listing(
        session, backend, principal, ListingKind.DEMAND, demand_id, limit=limit, min_score=min_score
    )
    revealed = await revealed_to(session, principal, [m.listing.id for m in found])
    language = negotiate(accept_language, default=listing.language)
    content_language(response, language)
    return _response(demand_id, found, language, principal, revealed, limit)


@router.get(
    "/offers/{offer_id}/matches",
    summary="Matching demands for an offer",
    response_model=MatchesResponse,
    responses=READ_ERRORS,
)
async def matches_for_offer(
    offer_id: uuid.UUID,
    session: SessionDep,
    backend: SearchDep,
    principal: OptionalPrincipal,
    response: Response,
    accept_language: AcceptLanguage = None,
    limit: Limit = 20,
    min_score: MinScore = 0.0,
) -> MatchesResponse:
    """Published demands ranked for this offer, each with its score and the reasons behind it."""
    listing, found = await matching_service.for_listing(
        session, backend, principal, ListingKind.OFFER, offer_id, limit=limit, min_score=min_score
    )
    revealed = await revealed_to(session, principal, [m.listing.id for m in found])
    language = negotiate(accept_language, default=listing.language)
    content_language(response, language)
    return _response(offer_id, found, language, principal, revealed, limit)


@router.put(
    "/demands/{demand_id}/matches/{candidate_id}",
    summary="Dismiss or bookmark an offer proposed for a demand",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=WRITE_ERRORS,
)
async def set_demand_match_feedback(
    demand_id: uuid.UUID,
    candidate_id: uuid.UUID,
    payload: FeedbackUpdate,
    principal: CurrentPrincipal,
    session: SessionDep,
) -> None:
    """The demand's owner side dismisses a candidate (it never comes back) or bookmarks it."""
    await matching_service.set_feedback(session, principal, ListingKind.DEMAND, demand_id, candidate_id, payload.action)


@router.put(
    "/offers/{offer_id}/matches/{candidate_id}",
    summary="Dismiss or bookmark a demand proposed for an offer",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=WRITE_ERRORS,
)
async def set_offer_match_feedback(
    offer_id: uuid.UUID,
    candidate_id: uuid.UUID,
    payload: FeedbackUpdate,
    principal: CurrentPrincipal,
    session: SessionDep,
) -> None:
    """The offer's owner side dismisses a candidate (it never comes back) or bookmarks it."""
    await matching_service.set_feedback(session, principal, ListingKind.OFFER, offer_id, candidate_id, payload.action)


@router.get(
    "/organizations/{organization_id}/matches",
    summary="Counterpart organisations",
    response_model=OrganizationMatchesResponse,
    responses=problem_responses(404, 422),
)
async def matches_for_organization(
    organization_id: uuid.UUID,
    session: SessionDep,
    backend: SearchDep,
    response: Response,
    accept_language: AcceptLanguage = None,
    limit: Limit = 10,
) -> OrganizationMatchesResponse:
    """Organisations whose published listings fit this one's in both directions (harmonic mean of the two)."""
    results = await matching_service.for_organization(session, backend, organization_id, limit=limit)
    language = negotiate(accept_language)
    content_language(response, language)
    items = []
    for position, result in enumerate(results, start=1):
        fits, gaps = _reasons(result.best, language)
        items.append(
            OrganizationMatchRead(
                rank=position,
                score=result.score,
                score_for_you=result.score_for_us,
                score_for_them=result.score_for_them,
                organization=OrganizationSummary.model_validate(result.organization, from_attributes=True),
                best_pair={"your_listing_id": result.our_listing_id, "their_listing_id": result.best.listing.id},
                reasons=fits,
                gaps=gaps,
            )
        )
    return OrganizationMatchesResponse(
        organization_id=organization_id, language=language, items=items, total=len(items), limit=limit
    )


@router.post(
    "/match-subscriptions",
    summary="Subscribe to new matches",
    status_code=status.HTTP_201_CREATED,
    response_model=SubscriptionRead,
    responses=WRITE_ERRORS,
    tags=["notifications"],
)
async def create_subscription(
    payload: SubscriptionCreate, principal: CurrentPrincipal, session: SessionDep
) -> SubscriptionRead:
    """Be notified when a newly published listing matches one of yours (above a threshold) or a saved search."""
    return SubscriptionRead.model_validate(await matching_service.subscribe(session, principal, payload))


@router.get(
    "/match-subscriptions",
    summary="List subscriptions",
    response_model=Page[SubscriptionRead],
    responses=problem_responses(401, 422),
    tags=["notifications"],
)
async def list_subscriptions(
    principal: CurrentPrincipal, session: SessionDep, page: PageDep, links: LinksDep
) -> Page[SubscriptionRead]:
    """Your organisation's match alerts."""
    subscriptions, total = window(await matching_service.subscriptions(session, principal), page)
    return links(Page.of([SubscriptionRead.model_validate(s) for s in subscriptions], total, page))


@router.delete(
    "/match-subscriptions/{subscription_id}",
    summary="Stop a subscription",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=WRITE_ERRORS,
    tags=["notifications"],
)
async def delete_subscription(subscription_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep) -> None:
    """Stop an alert of your organisation."""
    await matching_service.unsubscribe(session, principal, subscription_id)


@router.get(
    "/notifications",
    summary="List notifications",
    response_model=Page[NotificationRead],
    responses=problem_responses(401, 422),
    tags=["notifications"],
)
async def list_notifications(
    principal: CurrentPrincipal,
    session: SessionDep,
    page: KeysetPageDep,
    links: LinksDep,
    unread: Annotated[bool, Query(description="Only unread ones.")] = False,
) -> Page[NotificationRead]:
    """Your organisation's notifications, newest first (delivery channels come later; this is the record).
    Follow `next_cursor`: new notifications arriving meanwhile do not shift the pages."""
    items, total, last = await matching_service.notifications(session, principal, unread, page)
    return links(Page.of([NotificationRead.model_validate(n) for n in items], total, page, last_key=last))


@router.post(
    "/notifications/{notification_id}/read",
    summary="Mark a notification read",
    response_model=NotificationRead,
    responses=WRITE_ERRORS,
    tags=["notifications"],
)
async def read_notification(
    notification_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep
) -> NotificationRead:
    """Mark one of your organisation's notifications as read."""
    return NotificationRead.model_validate(await matching_service.mark_read(session, principal, notification_id))


declare_problems(
    router,
    {
        "matches_for_demand": [NotYourOrganizationError],
        "matches_for_offer": [NotYourOrganizationError],
        "set_demand_match_feedback": [NotYourOrganizationError],
        "set_offer_match_feedback": [NotYourOrganizationError],
        "matches_for_organization": [NotYourOrganizationError],
        "create_subscription": [AccountRequiredError, NotYourOrganizationError, InvalidInputError],
        "delete_subscription": [NotFoundError],
        "read_notification": [NotFoundError],
    },
)
