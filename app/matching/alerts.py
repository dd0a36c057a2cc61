"""Alerts: when a listing is published, the subscriptions it satisfies get a notification."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.matching import repository
from app.matching.engine import score
from app.matching.profiles import profile
from app.models import Listing, Notification
from app.models.base import utcnow
from app.search.text import QueryTerms, fold, words
from app.webhooks import events as webhooks

NEW_MATCH = "new_match"  # the notification kind of an alert; the statistics count them as matches sent


def _matches_query(listing: Listing, query: str, filters: dict[str, Any]) -> bool:
    """A saved search is satisfied when every word of it (typos tolerated) is in the titles or summary."""
    if filters.get("field") and listing.field != filters["field"]:
        return False
    query_words = QueryTerms.parse(query + " ").folded_words
    texts = [listing.title, listing.summary, *(t.get("title") or "" for t in (listing.translations or {}).values())]
    tokens = {fold(w) for text in texts for w in words(text)}
    return bool(query_words) and all(
        any(QueryTerms((word,), (word,), (), False).matches(token) for token in tokens) for word in query_words
    )


async def notify_new_listing(session: AsyncSession, listing: Listing, owner: Any) -> int:
    """Record a notification for each active subscription the newly published listing satisfies."""
    now = utcnow()
    candidate = profile(listing, owner)
    sent = 0
    for subscription in await repository.active_subscriptions(session, listing.kind):
        if subscription.organization_id == listing.organization_id:
            continue
        value: float | None = None
        if subscription.listing_id is not None:
            pairs = await repository.listings_with_owners(session, [subscription.listing_id])
            if not pairs:
                continue
            value = score(profile(*pairs[0]), candidate, now).score
            if value < subscription.threshold:
                continue
        elif not (subscription.query and _matches_query(listing, subscription.query, subscription.filters or {})):
            continue
        session.add(
            Notification(
                organization_id=subscription.organization_id,
                kind=NEW_MATCH,
                payload={
                    "subscription_id": str(subscription.id),
                    "listing_id": str(listing.id),
                    "kind": listing.kind,
                    "reference": listing.reference,
                    "title": listing.title,
                    "score": value,
                },
            )
        )
        # Thin: the new listing's id and kind, never its owner (an anonymous listing hides it).
        webhooks.emit(
            session,
            subscription.organization_id,
            "match.suggested",
            listing.id,
            kind=listing.kind,
            subscription_id=subscription.id,
        )
        sent += 1
    return sent
