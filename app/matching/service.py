"""Matching wired to data: candidates from the search backend, profiles from the database, the engine ranks."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.authorization import actor_for_organization, require_person
from app.accounts.permissions import Principal
from app.errors import InvalidInputError, NotFoundError
from app.listings.schemas import ListingKind
from app.listings.service import effective_status, listing_service
from app.listings.visibility import owner_visible
from app.matching import repository
from app.matching.concepts import narrowest
from app.matching.engine import COMMON_WORDS, DEFAULT_WEIGHTS, Match, Weights, rank, score
from app.matching.profiles import need_texts, owner_names, profile
from app.matching.schemas import SubscriptionCreate
from app.metrics import MATCHING_DURATION
from app.models import MatchSubscription, Notification
from app.models.base import utcnow
from app.organizations.service import organization_service
from app.search.backend import RangeFilter, SearchBackend, SearchQuery, TermFilter
from app.search.documents import Fields
from app.search.index_config import DEMANDS, OFFERS
from app.search.text import cjk_bigrams, fold_word, without_names, words

log = structlog.get_logger(__name__)
CANDIDATES = 100
# The words of a listing, not the concept labels the index adds: concepts are scored on their own.
LISTING_TEXTS = (Fields.SEARCH_TITLE, Fields.SEARCH_SUMMARY, Fields.SEARCH_DESCRIPTION)
ORGANIZATION_LISTINGS = 10


def candidate_query(need: Any, owner: Any) -> str:
    """A listing's words as a "find any of these" query: its owner's name and the words every listing has
    left out, Japanese as character pairs."""
    need_text = without_names(" ".join([need.title, need.summary, *need_texts(need)]), owner_names(owner))
    latin = [w for w in words(need_text) if fold_word(w) not in COMMON_WORDS]
    return " ".join([*dict.fromkeys(latin), *dict.fromkeys(cjk_bigrams(need_text))])[:400]


@dataclass(frozen=True)
class RankedMatch:
    match: Match
    listing: Any
    owner: Any
    bookmarked: bool


@dataclass(frozen=True)
class OrganizationMatch:
    score: float
    score_for_us: float
    score_for_them: float
    organization: Any
    our_listing_id: uuid.UUID
    best: RankedMatch


class MatchingService:
    async def _candidates(
        self, session: AsyncSession, backend: SearchBackend, need: Any, owner: Any
    ) -> list[tuple[Any, Any, float]]:
        """Published counterparts: by words (any of them, the owner's name left out) and by shared concepts,
        from the search index."""
        index = DEMANDS if need.kind == ListingKind.OFFER.value else OFFERS
        visible = RangeFilter("expires_at", gt=utcnow().timestamp())
        relevance: dict[str, float] = {}
        try:
            text = candidate_query(need, owner)
            by_words = await backend.search(
                index,
                SearchQuery(
                    q=text,
                    filters=(visible,),
                    limit=CANDIDATES,
                    highlight=False,
                    match_any=True,
                    fuzzy=False,
                    with_total=False,
                    fields=LISTING_TEXTS,
                ),
            )
            best = max((h.score or 0.0 for h in by_words.hits), default=0.0) or 1.0
            relevance = {h.id: (h.score or 0.0) / best for h in by_words.hits}
            concepts = tuple(dict.fromkeys([*(need.concepts or []), *(need.inferred_concepts or [])]))
            own = tuple(narrowest(concepts))
            # the need's own topics first: a broader one (aquaculture, for shrimp-pond sensors) can tag more
            # listings than a page of candidates holds, and which of them a page brings is arbitrary
            for group in ([own, concepts] if own != concepts else [concepts]) if concepts else []:
                by_concepts = await backend.search(
                    index,
                    SearchQuery(
                        filters=(visible, TermFilter("concepts", group)),
                        limit=CANDIDATES,
                        highlight=False,
                        with_total=False,
                    ),
                )
                for hit in by_concepts.hits:
                    relevance.setdefault(hit.id, 0.0)
                if len(by_concepts.hits) == CANDIDATES:
                    break  # a full page of the own topics: the broader ones would only add noise
        except Exception as error:  # search down: match on the database's view of the same field
            log.warning("matching_without_search", error=repr(error))
            rows = await repository.same_field(
                session, "demand" if index == DEMANDS else "offer", need.field, CANDIDATES
            )
            return [(listing, owner, 0.0) for listing, owner in rows if listing.organization_id != need.organization_id]
        rows = await repository.candidates_with_owners(session, [uuid.UUID(i) for i in relevance])
        return [
            (listing, owner, relevance[str(listing.id)])
            for listing, owner in rows
            if listing.organization_id != need.organization_id and effective_status(listing).value == "published"
        ]

    async def rank_for(
        self,
        session: AsyncSession,
        backend: SearchBackend,
        need: Any,
        owner: Any,
        *,
        limit: int,
        min_score: float,
        weights: Weights = DEFAULT_WEIGHTS,
    ) -> list[RankedMatch]:
        with MATCHING_DURATION.time():
            return await self._rank_for(session, backend, need, owner, limit, min_score, weights)

    async def _rank_for(
        self,
        session: AsyncSession,
        backend: SearchBackend,
        need: Any,
        owner: Any,
        limit: int,
        min_score: float,
        weights: Weights,
    ) -> list[RankedMatch]:
        candidates = await self._candidates(session, backend, need, owner)
        feedback = await repository.feedback(session, need.id)
        dismissed = frozenset(str(i) for i, action in feedback.items() if action == "dismiss")
        by_id = {str(listing.id): (listing, candidate_owner) for listing, candidate_owner, _ in candidates}
        profiles = [profile(listing, o, relevance) for listing, o, relevance in candidates]
        ranked = rank(
            profile(need, owner),
            profiles,
            utcnow(),
            weights=weights,
            exclude=dismissed,
            limit=limit,
            min_score=min_score,
        )
        return [
            RankedMatch(m, *by_id[m.candidate_id], bookmarked=feedback.get(uuid.UUID(m.candidate_id)) == "bookmark")
            for m in ranked
        ]

    async def for_listing(
        self,
        session: AsyncSession,
        backend: SearchBackend,
        principal: Principal | None,
        kind: ListingKind,
        listing_id: uuid.UUID,
        *,
        limit: int,
        min_score: float,
    ) -> tuple[Any, list[RankedMatch]]:
        """A listing the caller may see (published ones: anyone; others: the owner side) and its counterparts."""
        listing, owner = await listing_service.get_for_viewer(session, principal, kind, listing_id)
        return listing, await self.rank_for(session, backend, listing, owner, limit=limit, min_score=min_score)

    async def set_feedback(
        self,
        session: AsyncSession,
        principal: Principal,
        kind: ListingKind,
        listing_id: uuid.UUID,
        candidate_id: uuid.UUID,
        action: str | None,
    ) -> None:
        """The owner side dismisses or bookmarks a candidate it can see (404 otherwise, not a conflict)."""
        listing, _owner = await listing_service.get_for_viewer(session, principal, kind, listing_id)
        await actor_for_organization(session, principal, listing.organization_id)
        if action is not None:
            other = ListingKind.DEMAND if kind is ListingKind.OFFER else ListingKind.OFFER
            await listing_service.get_for_viewer(session, principal, other, candidate_id)
        await repository.set_feedback(session, listing.id, candidate_id, action)

    async def for_organization(
        self, session: AsyncSession, backend: SearchBackend, organization_id: uuid.UUID, *, limit: int
    ) -> list[OrganizationMatch]:
        """Counterpart organisations: both sides' listings must fit (harmonic mean of the two directions).
        Only listings that name their owner take part: the result names organisations."""
        await organization_service.get(session, organization_id)
        own = (await repository.published_of(session, organization_id))[:ORGANIZATION_LISTINGS]
        best_for_us: dict[uuid.UUID, tuple[uuid.UUID, RankedMatch]] = {}
        for listing, owner in own:
            for found in await self.rank_for(session, backend, listing, owner, limit=50, min_score=0.0):
                if not owner_visible(found.listing, None):
                    continue  # an anonymous counterpart must not name its owner as a counterpart organisation
                other = found.owner.id
                if other not in best_for_us or found.match.score > best_for_us[other][1].match.score:
                    best_for_us[other] = (listing.id, found)
        now = utcnow()
        results = []
        ordered = sorted(best_for_us.items(), key=lambda item: -item[1][1].match.score)[: limit * 3]
        for other_id, (our_listing_id, found) in ordered:
            theirs = (await repository.published_of(session, other_id))[:ORGANIZATION_LISTINGS]
            for_them = max(
                (
                    score(profile(t, t_owner), profile(o, o_owner), now).score
                    for t, t_owner in theirs
                    for o, o_owner in own
                    if t.kind != o.kind
                ),
                default=0.0,
            )
            for_us = found.match.score
            combined = 2 * for_us * for_them / (for_us + for_them) if for_us and for_them else 0.0
            if combined > 0:
                results.append(
                    OrganizationMatch(round(combined, 4), for_us, for_them, found.owner, our_listing_id, found)
                )
        results.sort(key=lambda r: (-r.score, str(r.organization.id)))
        return results[:limit]

    # --- alerts and notifications ---------------------------------------------------------

    async def subscribe(
        self, session: AsyncSession, principal: Principal, payload: SubscriptionCreate
    ) -> MatchSubscription:
        require_person(principal)
        if payload.listing_id is not None:
            pairs = await repository.listings_with_owners(session, [payload.listing_id])
            if not pairs:
                raise InvalidInputError.for_field(["body", "listing_id"], "no such listing", "not_found")
            listing = pairs[0][0]
            await actor_for_organization(session, principal, listing.organization_id)
            watched = "demand" if listing.kind == "offer" else "offer"
        elif payload.query and payload.kind:
            watched = payload.kind
        else:
            raise InvalidInputError.for_field(["body"], "give listing_id, or kind and query", "missing")
        subscription = MatchSubscription(
            organization_id=principal.organization_id,
            listing_id=payload.listing_id,
            kind=watched,
            query=payload.query,
            filters={"field": payload.field.value} if payload.field else {},
            threshold=payload.threshold,
        )
        session.add(subscription)
        await session.flush()
        return subscription

    async def subscriptions(self, session: AsyncSession, principal: Principal) -> list[MatchSubscription]:
        return await repository.subscriptions_of(session, principal.organization_id)

    async def unsubscribe(self, session: AsyncSession, principal: Principal, subscription_id: uuid.UUID) -> None:
        subscription = await repository.get_subscription(session, subscription_id)
        if subscription is None or subscription.organization_id != principal.organization_id:
            raise NotFoundError("No such subscription.")
        subscription.active = False

    async def notifications(
        self, session: AsyncSession, principal: Principal, unread_only: bool, page: Any
    ) -> tuple[list[Notification], int, Any]:
        return await repository.notifications_of(session, principal.organization_id, unread_only, page)

    async def mark_read(self, session: AsyncSession, principal: Principal, notification_id: uuid.UUID) -> Notification:
        notification = await repository.get_notification(session, notification_id)
        if notification is None or notification.organization_id != principal.organization_id:
            raise NotFoundError("No such notification.")
        if notification.read_at is None:
            notification.read_at = utcnow()
        return notification


matching_service = MatchingService()
