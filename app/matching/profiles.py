"""From listings (mapped objects or rows) to the engine's profiles."""

from __future__ import annotations

from typing import Any

from app.listings.visibility import owner_visible
from app.matching.engine import Profile
from app.search.text import without_names
from app.taxonomy.data import get_taxonomy


def profile(listing: Any, owner: Any, relevance: float = 0.0) -> Profile:
    texts = [listing.title, listing.summary, listing.description or "", *need_texts(listing)]
    for translation in (listing.translations or {}).values():
        texts += [translation.get("title") or "", translation.get("summary") or ""]
    is_offer = listing.kind == "offer"
    low = listing.price_min if is_offer else listing.budget_min
    high = listing.price_max if is_offer else listing.budget_max
    return Profile(
        id=str(listing.id),
        kind=listing.kind,
        field=listing.field,
        concepts=frozenset(listing.concepts or []),
        inferred_concepts=frozenset(listing.inferred_concepts or []),
        subfields=subfields_of([*(listing.concepts or []), *(listing.inferred_concepts or [])]),
        text=without_names("\n".join(t for t in texts if t), owner_names(owner)),
        trl=listing.trl,
        min_trl=listing.min_trl,
        price_min=float(low) if low is not None else None,
        price_max=float(high) if high is not None else None,
        transfer_types=frozenset(listing.transfer_types or []),
        country=listing.country,
        province=(listing.deployment_province if not is_offer else None) or listing.province,
        target_countries=frozenset(listing.target_countries or []),
        languages=frozenset([*(listing.languages or []), listing.language]),
        text_languages=frozenset([listing.language, *(listing.translations or {})]),
        updated_at=listing.updated_at,
        # a verified owner vouches for its listing only where it is named
        owner_verified=bool(owner.verified) and owner_visible(listing, None),
        search_relevance=relevance,
    )


def need_texts(listing: Any) -> list[str]:
    """A demand's problem and requirements: often where its substance is (offers have neither)."""
    return [getattr(listing, "problem_statement", None) or "", getattr(listing, "requirements", None) or ""]


def owner_names(owner: Any) -> list[str]:
    """An organisation's name in every language it gave: left out of what its listings are about."""
    return [owner.name, *(owner.name_i18n or {}).values()]


def subfields_of(concept_ids: list[str]) -> frozenset[str]:
    concepts = get_taxonomy().concepts
    return frozenset(concepts[c].subfield for c in concept_ids if c in concepts)
