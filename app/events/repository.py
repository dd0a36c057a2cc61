"""Queries on events, their sessions, participants, meeting requests and outcomes."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.listings.visibility import names_owner
from app.models import (
    Event,
    EventParticipant,
    EventSession,
    Listing,
    MeetingOutcome,
    MeetingRequest,
    Organization,
)
from app.pagination import PageParams, paginate


async def get_event(session: AsyncSession, event_id: uuid.UUID, *, lock: bool = False) -> Event | None:
    """`lock` holds the row (`FOR UPDATE`) until commit, so concurrent status changes run one after the other."""
    return await session.get(Event, event_id, with_for_update=lock or None, populate_existing=lock)


async def lock_event(session: AsyncSession, event_id: uuid.UUID) -> Event | None:
    """The event, row-locked until the transaction ends: writers of its schedule go one at a time.

    PostgreSQL: `SELECT … FOR UPDATE`. SQLite has no row locks (the clause is left out); its write
    transactions (`BEGIN IMMEDIATE`) are exclusive already."""
    statement = select(Event).where(Event.id == event_id).with_for_update().execution_options(populate_existing=True)
    return await session.scalar(statement)


async def list_events(
    session: AsyncSession,
    visible_to: uuid.UUID | None,
    status: list[str] | None,
    field: list[str] | None,
    page: PageParams,
) -> tuple[list[Event], int]:
    """Events other than drafts, plus the drafts `visible_to` organises (all drafts when None)."""
    statement = select(Event).order_by(Event.starts_at.desc().nulls_last(), Event.created_at.desc(), Event.id)
    if visible_to is not None:
        statement = statement.where(or_(Event.status != "draft", Event.organizer_organization_id == visible_to))
    if status:
        statement = statement.where(Event.status.in_(status))
    if field:
        statement = statement.where(Event.field.in_(field))
    return await paginate(session, statement, page)


async def sessions_of(session: AsyncSession, event_id: uuid.UUID) -> list[EventSession]:
    statement = select(EventSession).where(EventSession.event_id == event_id).order_by(EventSession.starts_at)
    return list((await session.scalars(statement)).all())


async def get_session(session: AsyncSession, event_id: uuid.UUID, session_id: uuid.UUID) -> EventSession | None:
    found = await session.get(EventSession, session_id)
    return found if found is not None and found.event_id == event_id else None


async def participants_of(session: AsyncSession, event_id: uuid.UUID) -> list[EventParticipant]:
    statement = (
        select(EventParticipant)
        .where(EventParticipant.event_id == event_id)
        .order_by(EventParticipant.created_at, EventParticipant.id)
    )
    return list((await session.scalars(statement)).all())


async def get_participant(
    session: AsyncSession, event_id: uuid.UUID, participant_id: uuid.UUID
) -> EventParticipant | None:
    found = await session.get(EventParticipant, participant_id)
    return found if found is not None and found.event_id == event_id else None


async def lock_participants(
    session: AsyncSession, event_id: uuid.UUID, participant_ids: list[uuid.UUID]
) -> dict[uuid.UUID, EventParticipant]:
    """The participants, row-locked (`FOR UPDATE`) until commit and read afresh.

    Writers that touch a participant's status and its meeting requests lock the participants first,
    in id order, then the requests: a withdrawal and an accept (or a new request) of the same
    participant run one after the other, and never wait on each other in a cycle.
    """
    statement = (
        select(EventParticipant)
        .where(EventParticipant.event_id == event_id, EventParticipant.id.in_(sorted(set(participant_ids))))
        .order_by(EventParticipant.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return {p.id: p for p in (await session.scalars(statement)).all()}


async def open_requests_of(
    session: AsyncSession, event_id: uuid.UUID, participant_id: uuid.UUID
) -> list[MeetingRequest]:
    """The participant's pending and accepted requests, row-locked until commit and read afresh."""
    statement = (
        select(MeetingRequest)
        .where(
            MeetingRequest.event_id == event_id,
            or_(MeetingRequest.requester_id == participant_id, MeetingRequest.recipient_id == participant_id),
            MeetingRequest.status.in_(("pending", "accepted")),
        )
        .order_by(MeetingRequest.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return list((await session.scalars(statement)).all())


async def requests_of(session: AsyncSession, event_id: uuid.UUID, status: str | None = None) -> list[MeetingRequest]:
    statement = select(MeetingRequest).where(MeetingRequest.event_id == event_id)
    if status is not None:
        statement = statement.where(MeetingRequest.status == status)
    return list((await session.scalars(statement.order_by(MeetingRequest.created_at, MeetingRequest.id))).all())


async def get_request(
    session: AsyncSession, event_id: uuid.UUID, request_id: uuid.UUID, *, lock: bool = False
) -> MeetingRequest | None:
    found = await session.get(MeetingRequest, request_id, with_for_update=lock or None, populate_existing=lock)
    return found if found is not None and found.event_id == event_id else None


async def sent_count(session: AsyncSession, participant_id: uuid.UUID) -> int:
    statement = select(func.count()).where(
        MeetingRequest.requester_id == participant_id, MeetingRequest.status.in_(("pending", "accepted"))
    )
    return int((await session.scalar(statement)) or 0)


async def organizations(session: AsyncSession, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Organization]:
    if not ids:
        return {}
    rows = await session.scalars(select(Organization).where(Organization.id.in_(set(ids))))
    return {o.id: o for o in rows}


async def published_listings(
    session: AsyncSession, organization_ids: Sequence[uuid.UUID], listing_ids: Sequence[uuid.UUID] = ()
) -> list[Listing]:
    """Published listings of these organisations (only `listing_ids` when given)."""
    statement = select(Listing).where(Listing.status == "published")
    if listing_ids:
        statement = statement.where(Listing.id.in_(set(listing_ids)))
    else:
        statement = statement.where(Listing.organization_id.in_(set(organization_ids)))
    return list((await session.scalars(statement.order_by(Listing.updated_at.desc(), Listing.id))).all())


async def published_in_field(session: AsyncSession, field: str, limit: int) -> list[Listing]:
    """Published listings of a field that name their owner: a proposal names the organisations it invites."""
    statement = (
        select(Listing)
        .where(Listing.status == "published", Listing.field == field, names_owner())
        .order_by(Listing.updated_at.desc(), Listing.id)
        .limit(limit)
    )
    return list((await session.scalars(statement)).all())


async def outcomes_of(session: AsyncSession, meeting_ids: Sequence[uuid.UUID]) -> list[MeetingOutcome]:
    if not meeting_ids:
        return []
    statement = select(MeetingOutcome).where(MeetingOutcome.meeting_id.in_(set(meeting_ids)))
    return list((await session.scalars(statement)).all())


async def outcome(session: AsyncSession, meeting_id: uuid.UUID, participant_id: uuid.UUID) -> MeetingOutcome | None:
    statement = select(MeetingOutcome).where(
        MeetingOutcome.meeting_id == meeting_id, MeetingOutcome.participant_id == participant_id
    )
    return (await session.scalars(statement)).first()


def as_dict(rows: Sequence[Any]) -> dict[Any, Any]:
    return {row.id: row for row in rows}
