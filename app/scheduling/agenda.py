"""Agendas: a participant's or a table's meetings in time order, as JSON, iCalendar (RFC 5545) or CSV.

Participants see the published schedule; organisers see the current (possibly draft) one."""

from __future__ import annotations

import uuid
from datetime import datetime

import icalendar
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.permissions import Principal
from app.csv_text import csv_text
from app.errors import NotFoundError
from app.events import repository
from app.events.schemas import Agenda, AgendaItem, RequestStatus
from app.events.service import EventContext, event_service
from app.models import EventParticipant, MeetingRequest
from app.models.base import utcnow

PRODUCT_ID = "-//techex//Technology exchange agendas//EN"


class TableNotFoundError(NotFoundError):
    code = "TableNotFound"
    title = "No such table or booth in this event"


def _slot_of(meeting: MeetingRequest, published: bool) -> int | None:
    return meeting.published_slot if published else meeting.slot


async def _scheduled(session: AsyncSession, context: EventContext, published: bool) -> list[tuple[MeetingRequest, int]]:
    meetings = await repository.requests_of(session, context.event.id, RequestStatus.ACCEPTED.value)
    result = []
    for meeting in meetings:
        slot = _slot_of(meeting, published)
        if slot is not None and slot < len(context.slots):
            result.append((meeting, slot))
    return sorted(result, key=lambda pair: (pair[1], str(pair[0].id)))


async def participant_agenda(
    session: AsyncSession, principal: Principal, event_id: uuid.UUID, participant_id: uuid.UUID
) -> Agenda:
    event = await event_service.get(session, principal, event_id)
    participant = await event_service.participant(session, event, participant_id)
    await event_service.participant_actor(session, principal, event, participant)
    organiser = await event_service.is_organizer(session, principal, event)
    published = not organiser
    context = await event_service.context(session, event)
    everyone = {p.id: p for p in await repository.participants_of(session, event.id)}
    orgs = await repository.organizations(session, [p.organization_id for p in everyone.values()])
    items = []
    for meeting, slot in await _scheduled(session, context, published):
        if participant.id not in (meeting.requester_id, meeting.recipient_id):
            continue
        other = everyone[meeting.recipient_id if meeting.requester_id == participant.id else meeting.requester_id]
        items.append(_item(context, meeting, slot, published, other, orgs[other.organization_id].name))
    owner = f"{orgs[participant.organization_id].name} — {participant.representative}"
    return Agenda(
        event_id=event.id,
        event=event.name,
        owner=owner,
        schedule_status=event.schedule_status,
        timezone=event.timezone,
        venue=event.venue,
        items=items,
    )


async def table_agenda(session: AsyncSession, principal: Principal, event_id: uuid.UUID, table: str) -> Agenda:
    """A shared table's (`7`) or a booth's (`B3`) meetings, for the organisers' floor staff."""
    event = await event_service.get(session, principal, event_id)
    await event_service.organizer_actor(session, principal, event)
    context = await event_service.context(session, event)
    everyone = {p.id: p for p in await repository.participants_of(session, event.id)}
    orgs = await repository.organizations(session, [p.organization_id for p in everyone.values()])
    booths = {p.booth for p in everyone.values() if p.booth}
    max_tables = max((s.tables for s in context.slots), default=0)
    if table not in booths and not (table.isdigit() and 1 <= int(table) <= max_tables):
        raise TableNotFoundError()
    items = []
    for meeting, slot in await _scheduled(session, context, published=False):
        here = (
            meeting.booth == table
            if table in booths
            else (meeting.booth is None and str(meeting.table_number) == table)
        )
        if here:
            item = _item(context, meeting, slot, False, None, None)
            item.participants = [
                f"{orgs[everyone[pid].organization_id].name} — {everyone[pid].representative}"
                for pid in (meeting.requester_id, meeting.recipient_id)
            ]
            items.append(item)
    label = f"Booth {table}" if table in booths else f"Table {table}"
    return Agenda(
        event_id=event.id,
        event=event.name,
        owner=label,
        schedule_status=event.schedule_status,
        timezone=event.timezone,
        venue=event.venue,
        items=items,
    )


def _item(
    context: EventContext,
    meeting: MeetingRequest,
    slot: int,
    published: bool,
    other: EventParticipant | None,
    other_name: str | None,
) -> AgendaItem:
    timing = context.slots[slot]
    return AgendaItem(
        meeting_id=meeting.id,
        slot=slot,
        starts_at=timing.starts_at,
        ends_at=timing.ends_at,
        table_number=meeting.table_number,
        booth=meeting.booth,
        counterpart_id=other.id if other else None,
        counterpart=f"{other_name} — {other.representative}" if other else None,
    )


def _place(item: AgendaItem) -> str:
    return f"Booth {item.booth}" if item.booth else f"Table {item.table_number}" if item.table_number else ""


def to_ical(agenda: Agenda, now: datetime | None = None) -> bytes:
    """One VEVENT per meeting with a stable UID, so calendar apps update rather than duplicate on re-import."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", f"{agenda.event} — {agenda.owner}")
    stamp = now or utcnow()
    for item in agenda.items:
        entry = icalendar.Event()
        entry.add("uid", f"{item.meeting_id}@techex")
        entry.add("dtstamp", stamp)
        entry.add("dtstart", item.starts_at)
        entry.add("dtend", item.ends_at)
        title = item.counterpart or " / ".join(item.participants)
        entry.add("summary", f"{agenda.event}: {title}")
        location = ", ".join(part for part in (_place(item), agenda.venue or "") if part)
        if location:
            entry.add("location", location)
        entry.add("status", "CONFIRMED" if agenda.schedule_status == "final" else "TENTATIVE")
        calendar.add_component(entry)
    return bytes(calendar.to_ical())


def to_csv(agenda: Agenda) -> str:
    """A printable sheet: one row per meeting, local times of the event's timezone, opened in Excel as UTF-8."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(agenda.timezone)
    rows = []
    for item in agenda.items:
        start, end = item.starts_at.astimezone(zone), item.ends_at.astimezone(zone)
        rows.append(
            [
                item.slot,
                start.date().isoformat(),
                start.strftime("%H:%M"),
                end.strftime("%H:%M"),
                _place(item),
                item.counterpart or " / ".join(item.participants),
            ]
        )
    return csv_text(["slot", "date", "start", "end", "place", "with"], rows)
