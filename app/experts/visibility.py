"""The one rule for what of an expert profile a reader sees (API answers, search documents, matches).

Tiers, as ORCID's: `public` (everyone), `members` (signed-in people and keys of verified
organisations), `private` (the owner's side only). Contact details are never public: the owner sees
them here, a requester only through an accepted consultation request.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import IntEnum
from typing import Any

from app.experts.schemas import (
    DEFAULT_VISIBILITY,
    ConsentRead,
    ExpertContactRead,
    ExpertField,
    ExpertRead,
    Tier,
)


class Reader(IntEnum):
    """How much of a profile a reader may see; each level sees the tiers of the levels below."""

    PUBLIC = 0
    MEMBER = 1
    OWNER = 2


_SEES = {Reader.PUBLIC: {Tier.PUBLIC}, Reader.MEMBER: {Tier.PUBLIC, Tier.MEMBERS}, Reader.OWNER: set(Tier)}


def tiers(expert: Any) -> dict[ExpertField, Tier]:
    """Every field's tier: the owner's choices over the defaults."""
    chosen = {
        ExpertField(k): Tier(v) for k, v in (expert.visibility or {}).items() if k in ExpertField.__members__.values()
    }
    return DEFAULT_VISIBILITY | chosen


def visible_fields(expert: Any, reader: Reader) -> set[ExpertField]:
    allowed = _SEES[reader]
    return {field for field, tier in tiers(expert).items() if tier in allowed}


def is_stale(expert: Any, now: datetime, stale_days: int) -> bool:
    return bool(now - expert.last_confirmed_at > timedelta(days=stale_days))


def present(expert: Any, reader: Reader, now: datetime, stale_days: int) -> ExpertRead:
    shown = visible_fields(expert, reader)
    owner = reader is Reader.OWNER

    def value(field: ExpertField) -> Any:
        return getattr(expert, field.value) if field in shown else None

    return ExpertRead(
        id=expert.id,
        organization_id=expert.organization_id,
        listed_by=expert.listed_by,
        name=expert.name,
        title=value(ExpertField.TITLE),
        affiliation_organization_id=expert.affiliation_organization_id if ExpertField.AFFILIATION in shown else None,
        affiliation=value(ExpertField.AFFILIATION),
        country=expert.country,
        city=value(ExpertField.CITY),
        overseas_vietnamese=expert.overseas_vietnamese,
        languages=value(ExpertField.LANGUAGES),
        headline=expert.headline,
        bio=value(ExpertField.BIO),
        concepts=list(expert.concepts or []),
        inferred_concepts=list(expert.inferred_concepts or []),
        keywords=value(ExpertField.KEYWORDS),
        industry_years=value(ExpertField.INDUSTRY_YEARS),
        highest_trl=value(ExpertField.HIGHEST_TRL),
        publications_count=value(ExpertField.PUBLICATIONS_COUNT),
        patents_count=value(ExpertField.PATENTS_COUNT),
        orcid=value(ExpertField.ORCID),
        offers=list(expert.offers or []),
        availability=value(ExpertField.AVAILABILITY),
        fee_basis=value(ExpertField.FEE_BASIS),
        hidden=sorted(set(ExpertField) - shown, key=list(ExpertField).index),
        contact=contact_of(expert) if owner else None,
        consent=ConsentRead.model_validate(expert.consent) if owner and expert.consent else None,
        visibility=tiers(expert) if owner else None,
        last_confirmed_at=expert.last_confirmed_at,
        stale=is_stale(expert, now, stale_days),
        source=expert.source,
        version=expert.version,
        created_at=expert.created_at,
        updated_at=expert.updated_at,
    )


def contact_of(expert: Any) -> ExpertContactRead | None:
    contact = expert.contact or {}
    if not contact.get("email"):
        return None
    return ExpertContactRead(email=contact["email"], phone=contact.get("phone"))


def public_texts(expert: Any) -> dict[str, str]:
    """What of the profile's words anyone may read: the search index and matching see these only,
    so that neither a hit nor a ranking reveals a members-only or private field."""
    shown = visible_fields(expert, Reader.PUBLIC)
    return {
        "name": expert.name,
        "title": expert.title or "" if ExpertField.TITLE in shown else "",
        "affiliation": expert.affiliation or "" if ExpertField.AFFILIATION in shown else "",
        "headline": expert.headline or "",
        "bio": expert.bio or "" if ExpertField.BIO in shown else "",
        "keywords": " · ".join(expert.keywords or []) if ExpertField.KEYWORDS in shown else "",
    }


def public_profile_text(expert: Any) -> str:
    """The public words that say what the expert knows, as matching compares them with a listing."""
    texts = public_texts(expert)
    return "\n".join(t for t in (texts["headline"], texts["bio"], texts["keywords"], texts["title"]) if t)
