"""Proposed connection sessions: from the published listings of a field, which organisations are worth
inviting, which meetings would fill the day, and how many of them are strong matches."""

from __future__ import annotations

import uuid
from datetime import datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.authorization import actor_for_organization
from app.accounts.permissions import Principal
from app.events import repository
from app.events.schemas import (
    CandidateMeeting,
    EventCreate,
    EventKind,
    ParticipantCreate,
    ParticipantRole,
    Proposal,
    ProposalCreate,
    ProposedParticipant,
    SessionCreate,
)
from app.matching.engine import Profile, reciprocal
from app.matching.profiles import profile
from app.models import Listing
from app.models.base import utcnow
from app.search.text import fold, words
from app.taxonomy.data import get_taxonomy

CANDIDATE_LISTINGS = 400
LISTINGS_PER_ORGANIZATION = 5
SESSIONS = (("Sáng", time(8, 30), time(11, 30)), ("Chiều", time(13, 30), time(16, 30)))
MEETING_MINUTES = 20


def _on_theme(listings: list[Listing], theme: str | None) -> list[Listing]:
    """Listings that mention a word of the theme; all of them when too few do."""
    if not theme:
        return listings
    wanted = {w for w in words(fold(theme)) if len(w) > 2}
    chosen = [x for x in listings if wanted & set(words(fold(" ".join([x.title, x.summary or ""]))))]
    return chosen if len({x.organization_id for x in chosen}) >= 4 else listings


async def propose(session: AsyncSession, principal: Principal, payload: ProposalCreate) -> Proposal:
    await actor_for_organization(session, principal, payload.organizer_organization_id)
    listings = _on_theme(
        await repository.published_in_field(session, payload.field.value, CANDIDATE_LISTINGS), payload.theme
    )
    by_org: dict[uuid.UUID, list[Listing]] = {}
    for listing in listings:
        by_org.setdefault(listing.organization_id, []).append(listing)
    owners = await repository.organizations(session, list(by_org))
    now = utcnow()
    profiles: dict[uuid.UUID, list[Profile]] = {
        org: [profile(x, owners[org]) for x in items[:LISTINGS_PER_ORGANIZATION]] for org, items in by_org.items()
    }
    roles = {org: _role({x.kind for x in items}) for org, items in by_org.items()}
    pairs: list[tuple[float, uuid.UUID, uuid.UUID]] = []
    orgs = sorted(by_org, key=str)
    for i, a in enumerate(orgs):
        for b in orgs[i + 1 :]:
            result = reciprocal(profiles[a], profiles[b], now)
            if result.score > 0:
                pairs.append((result.score, a, b))
    pairs.sort(key=lambda p: (-p[0], str(p[1]), str(p[2])))
    # invite the organisations of the best pairs until the capacity is reached
    chosen: list[uuid.UUID] = []
    for _score, a, b in pairs:
        for org in (a, b):
            if org not in chosen and len(chosen) < payload.capacity:
                chosen.append(org)
    chosen_set = set(chosen)
    slots_per_day = sum(
        int((datetime.combine(payload.date, end) - datetime.combine(payload.date, start)).seconds // 60)
        // MEETING_MINUTES
        for _name, start, end in SESSIONS
    )
    room = slots_per_day * payload.tables
    candidates = [CandidateMeeting(a=a, b=b, score=s) for s, a, b in pairs if a in chosen_set and b in chosen_set]
    candidates = candidates[:room]
    label = payload.theme or _field_name(payload.field.value)
    zone = ZoneInfo(payload.timezone)
    participants = [
        ProposedParticipant(
            organization_id=org,
            organization=owners[org].name,
            role=roles[org],
            listing_ids=[x.id for x in by_org[org][:LISTINGS_PER_ORGANIZATION]],
        )
        for org in chosen
    ]
    event = EventCreate(
        name=f"Kết nối cung cầu công nghệ: {label}",
        kind=EventKind.MATCHMAKING,
        organizer_organization_id=payload.organizer_organization_id,
        field=payload.field,
        theme=payload.theme,
        timezone=payload.timezone,
        sessions=[
            SessionCreate(
                name=name,
                starts_at=datetime.combine(payload.date, start, zone),
                ends_at=datetime.combine(payload.date, end, zone),
                meeting_minutes=MEETING_MINUTES,
                tables=payload.tables,
            )
            for name, start, end in SESSIONS
        ],
        participants=[
            ParticipantCreate(
                organization_id=p.organization_id,
                representative=p.organization,
                role=p.role,
                listing_ids=p.listing_ids,
            )
            for p in participants
        ],
    )
    return Proposal(
        theme=label,
        participants=participants,
        candidate_meetings=candidates,
        expected_strong_matches=sum(1 for c in candidates if c.score >= payload.strong_match),
        event=event,
    )


def _role(kinds: set[str]) -> ParticipantRole:
    if kinds == {"offer"}:
        return ParticipantRole.SUPPLIER
    if kinds == {"demand"}:
        return ParticipantRole.SEEKER
    return ParticipantRole.BOTH


def _field_name(code: str) -> str:
    found = next((f for f in get_taxonomy().fields if f.code == code), None)
    return found.labels["vi"] if found else code
