"""Scheduling wired to data: an event's accepted meetings become an engine instance, the solver runs in a
worker thread (CP-SAT releases the interpreter while it searches), and the result is written back.

The solve happens between two short transactions — read, solve, write — so no database lock is held
while the solver thinks (on SQLite every other write would wait for it). The write locks the event
(`FOR UPDATE`; on SQLite the write transaction itself is exclusive) and is refused if the meetings or
the event changed since the read, among others by another computation stored meanwhile: of two
computations at once, one is stored and the other is told to run again (409 ScheduleChanged).

When the event sets a fairness bound and no schedule within it is found, the best one is kept only
as a draft marked unfair and the answer is a 409 FairScheduleNotFound; publishing it needs the
organiser's explicit `accept_unfair`."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.permissions import Principal
from app.audit import service as audit
from app.audit.service import AuditAction
from app.db import Database, unit_of_work
from app.errors import ConflictError, InvalidInputError
from app.events import repository
from app.events.schemas import EventStatus, MeetingUpdate, ObjectiveRead, RequestStatus, ScheduleReport, ScheduleRequest
from app.events.service import EventContext, EventStateError, event_service, notify, request_status
from app.metrics import SCHEDULE_DURATION, SCHEDULE_GAP, SCHEDULE_RUNS
from app.models import Event, EventParticipant, MeetingRequest
from app.scheduling.engine import (
    Instance,
    Meeting,
    Objective,
    Participant,
    Schedule,
    SchedulingError,
    Slot,
    solve,
)
from app.webhooks import events as webhooks

PRIORITY_SCALE = 100  # reciprocal scores in [0, 1] become integer weights 1..101
SCHEDULABLE = {EventStatus.REGISTRATION_OPEN, EventStatus.BOOKING_OPEN, EventStatus.SCHEDULED}


class ScheduleChangedError(ConflictError):
    code = "ScheduleChanged"
    title = "The meetings or the schedule changed while the schedule was computed; run it again"


class FairScheduleNotFoundError(ConflictError):
    """The schedule is stored as an unfair draft: the refusal is the answer, the draft the change to keep."""

    code = "FairScheduleNotFound"
    title = "No schedule within the event's fairness bound was found"
    keeps_changes = True


class UnfairScheduleNotAcceptedError(ConflictError):
    code = "UnfairScheduleNotAccepted"
    title = "The schedule exceeds the event's fairness bound; accept it explicitly to publish it"


@dataclass(frozen=True)
class Loaded:
    context: EventContext
    participants: list[EventParticipant]
    meetings: list[MeetingRequest]
    fingerprint: str


def _fingerprint(meetings: Sequence[MeetingRequest]) -> str:
    text = "|".join(f"{m.id}:{m.status}:{m.locked}:{m.slot}" for m in sorted(meetings, key=lambda m: str(m.id)))
    return hashlib.sha256(text.encode()).hexdigest()


def build_instance(loaded: Loaded, *, keep_published: bool, fairness: int | None) -> Instance:
    """Engine instance: slots with their session, day and tables; participants with availability, caps and
    booths; meetings weighted by their reciprocal score; locked ones (and, if asked, published ones) fixed."""
    slots = [Slot(session=s.session_number, day=s.day, tables=s.tables) for s in loaded.context.slots]
    session_number = {s.session_id: s.session_number for s in loaded.context.slots}
    participants = [
        Participant(
            id=p.id,
            forbidden=frozenset(s for s in p.unavailable_slots if 0 <= s < len(slots)),
            max_meetings=p.max_meetings,
            booth=p.booth,
        )
        for p in loaded.participants
    ]
    meetings = []
    previous: dict[Any, int] = {}
    for m in loaded.meetings:
        lock = m.locked or (keep_published and m.published_slot is not None)
        locked_slot = (m.slot if m.locked else m.published_slot) if lock else None
        if locked_slot is not None and locked_slot >= len(slots):
            locked_slot = None
        meetings.append(
            Meeting(
                id=m.id,
                a=m.requester_id,
                b=m.recipient_id,
                priority=1 + round(m.score * PRIORITY_SCALE),
                session=session_number.get(m.session_id) if m.session_id else None,
                locked_slot=locked_slot,
                locked_table=m.table_number if m.locked else None,
            )
        )
        if m.published_slot is not None and m.published_slot < len(slots):
            previous[m.id] = m.published_slot
    return Instance(slots=slots, participants=participants, meetings=meetings, fairness=fairness, previous=previous)


def _objective(objective: Objective | None) -> ObjectiveRead | None:
    if objective is None:
        return None
    return ObjectiveRead(
        value=objective.value, bound=objective.bound, gap=round(objective.gap, 4), optimal=objective.optimal
    )


def fairness_spread(instance: Instance, schedule: Schedule) -> int:
    """Max − min breaks over the participants with meetings to place: what the fairness bound limits."""
    ids = {m.a for m in instance.meetings} | {m.b for m in instance.meetings}
    counted = [schedule.breaks_per_participant.get(i, 0) for i in ids]
    return max(counted) - min(counted) if counted else 0


def report_of(schedule: Schedule, meetings: int, status: str, instance: Instance | None = None) -> ScheduleReport:
    fairness = instance.fairness if instance is not None else None
    return ScheduleReport(
        fairness_bound=fairness,
        fairness_spread=fairness_spread(instance, schedule) if instance is not None and fairness is not None else None,
        status=status,
        meetings=meetings,
        placed=len(schedule.placements),
        priority=_objective(schedule.priority),
        breaks=_objective(schedule.breaks),
        moved=_objective(schedule.moved),
        fairness_met=schedule.fairness_met,
        table_changes=schedule.table_changes,
        unplaced={str(k): v.value for k, v in schedule.unplaced.items()},
        seconds=round(schedule.seconds, 3),
    )


class SchedulingService:
    async def _load(self, session: AsyncSession, principal: Principal, event_id: uuid.UUID) -> Loaded:
        event = await event_service.get(session, principal, event_id)
        await event_service.organizer_actor(session, principal, event)
        if EventStatus(event.status) not in SCHEDULABLE:
            raise EventStateError("Schedules are made between registration and the event.")
        context = await event_service.context(session, event)
        if not context.slots:
            raise EventStateError("The event has no meeting slots: add sessions first.")
        participants = [p for p in await repository.participants_of(session, event.id) if p.status != "withdrawn"]
        meetings = [
            m
            for m in await repository.requests_of(session, event.id, RequestStatus.ACCEPTED.value)
            if request_status(m) is RequestStatus.ACCEPTED
        ]
        return Loaded(context, participants, meetings, _fingerprint(meetings))

    async def run(
        self, database: Database, principal: Principal, event_id: uuid.UUID, payload: ScheduleRequest
    ) -> ScheduleReport:
        """Compute and store a draft schedule; every run is counted by outcome for /metrics."""
        outcome = "failed"
        try:
            report = await self._run(database, principal, event_id, payload)
            outcome = "ok"
            return report
        except FairScheduleNotFoundError:
            outcome = "unfair"
            raise
        except ScheduleChangedError:
            outcome = "changed"
            raise
        except InvalidInputError:
            outcome = "invalid"
            raise
        finally:
            SCHEDULE_RUNS.labels(outcome).inc()

    async def _run(
        self, database: Database, principal: Principal, event_id: uuid.UUID, payload: ScheduleRequest
    ) -> ScheduleReport:
        async with unit_of_work(database.reader) as session:
            loaded = await self._load(session, principal, event_id)
        event = loaded.context.event
        try:
            instance = build_instance(loaded, keep_published=payload.keep_published, fairness=event.fairness)
            # CP-SAT searches in C++ without the interpreter lock: the API keeps answering meanwhile.
            schedule = await asyncio.to_thread(
                solve,
                instance,
                time_limit=payload.time_limit,
                seed=payload.seed,
                deterministic=payload.deterministic,
            )
        except SchedulingError as error:
            raise InvalidInputError(str(error)) from error
        SCHEDULE_DURATION.observe(schedule.seconds)
        SCHEDULE_GAP.labels("priority").set(schedule.priority.gap)
        SCHEDULE_GAP.labels("breaks").set(schedule.breaks.gap)
        async with unit_of_work(database.writer) as session:
            # Concurrent computations store one at a time, each seeing what the one before stored.
            await repository.lock_event(session, event_id)
            current = await self._load(session, principal, event_id)
            if current.context.event.version != event.version:
                raise ScheduleChangedError(
                    "The event or its schedule changed while this schedule was computed (another computation "
                    "may have been stored meanwhile); run it again."
                )
            if current.fingerprint != loaded.fingerprint:
                raise ScheduleChangedError("Meetings were accepted, cancelled or moved meanwhile; run it again.")
            report = await self._store(session, principal, current, schedule, instance)
            if not report.fairness_met:
                raise FairScheduleNotFoundError(
                    f"The best schedule found has a spread of {report.fairness_spread} breaks between participants; "
                    f"the event's fairness bound is {report.fairness_bound}. It is kept as a draft marked unfair: "
                    f"publish it with accept_unfair=true to accept it, or change the meetings, the availability, "
                    f"the bound or the time limit and compute again.",
                    fairness_bound=report.fairness_bound,
                    fairness_spread=report.fairness_spread,
                    schedule=report.model_dump(mode="json"),
                    accept={
                        "method": "POST",
                        "href": f"/api/v1/events/{event_id}/schedule/publish",
                        "body": {
                            "stage": "final" if report.status == "final" else "preliminary",
                            "accept_unfair": True,
                        },
                    },
                )
            return report

    async def _store(
        self, session: AsyncSession, principal: Principal, loaded: Loaded, schedule: Schedule, instance: Instance
    ) -> ScheduleReport:
        event = await repository.get_event(session, loaded.context.event.id)
        assert event is not None
        placed = {p.meeting_id: p for p in schedule.placements}
        for meeting in loaded.meetings:
            placement = placed.get(meeting.id)
            meeting.slot = placement.slot if placement else None
            meeting.table_number = placement.table if placement else None
            meeting.booth = placement.booth if placement else None
            reason = schedule.unplaced.get(meeting.id)
            meeting.unplaced_reason = reason.value if reason else None
        status = "draft" if event.schedule_status in ("none", "draft") else event.schedule_status
        report = report_of(schedule, len(loaded.meetings), status, instance)
        event.schedule_report = report.model_dump(mode="json")
        if event.schedule_status == "none":
            event.schedule_status = "draft"
        await session.flush()
        actor = await event_service.organizer_actor(session, principal, event)
        audit.record(
            session,
            actor,
            AuditAction.UPDATE,
            "event_schedule",
            event.id,
            audit.snapshot(
                {
                    "placed": report.placed,
                    "breaks": report.breaks.value if report.breaks else None,
                    "fairness_met": report.fairness_met,
                }
            ),
        )
        return report

    async def report(self, session: AsyncSession, principal: Principal, event_id: uuid.UUID) -> ScheduleReport:
        event = await event_service.get(session, principal, event_id)
        await event_service.organizer_actor(session, principal, event)
        if not event.schedule_report:
            return ScheduleReport(status=event.schedule_status, meetings=0, placed=0)
        return ScheduleReport.model_validate({**event.schedule_report, "status": event.schedule_status})

    async def publish(
        self, session: AsyncSession, principal: Principal, event_id: uuid.UUID, stage: str, *, accept_unfair: bool
    ) -> Event:
        """Freeze the current schedule as the preliminary or final one and tell every participant. A schedule
        that exceeds the event's fairness bound is published only with `accept_unfair`."""
        await repository.lock_event(session, event_id)  # not while a computation stores its schedule
        event = await event_service.get(session, principal, event_id)
        actor = await event_service.organizer_actor(session, principal, event)
        if event.schedule_status == "none":
            raise EventStateError("Compute a schedule first.")
        if event.schedule_status == "final" and stage == "preliminary":
            raise EventStateError("The final schedule is out; publish a new final one instead.")
        report = event.schedule_report or {}
        if report.get("fairness_met") is False and not report.get("unfair_accepted"):
            if not accept_unfair:
                raise UnfairScheduleNotAcceptedError(
                    f"The schedule has a spread of {report.get('fairness_spread')} breaks between participants; the "
                    f"event's fairness bound is {report.get('fairness_bound')}. Publish with accept_unfair=true to "
                    f"accept it, or compute it again.",
                    fairness_bound=report.get("fairness_bound"),
                    fairness_spread=report.get("fairness_spread"),
                )
            event.schedule_report = {**report, "unfair_accepted": True}
        meetings = await repository.requests_of(session, event.id, RequestStatus.ACCEPTED.value)
        changed = []
        for meeting in meetings:
            if meeting.published_slot != meeting.slot:
                changed.append(meeting)
            meeting.published_slot = meeting.slot
        previous = event.schedule_status
        event.schedule_status = stage
        if stage == "final" and event.status == EventStatus.BOOKING_OPEN.value:
            event.status = EventStatus.SCHEDULED.value
        await session.flush()
        changes: dict[str, Any] = {"schedule_status": [previous, stage]}
        if report.get("fairness_met") is False and not report.get("unfair_accepted"):
            changes["unfair_accepted"] = [False, True]
        audit.record(session, actor, AuditAction.STATE, "event_schedule", event.id, changes)
        participants = await repository.participants_of(session, event.id)
        for organization_id in sorted({p.organization_id for p in participants}, key=str):
            notify(
                session,
                organization_id,
                "schedule_published",
                {"event_id": str(event.id), "stage": stage, "changed_meetings": len(changed)},
            )
        for participant in participants:
            webhooks.emit(
                session, participant.organization_id, "schedule.published", event.id, participant_id=participant.id
            )
        return event

    async def update_meeting(
        self,
        session: AsyncSession,
        principal: Principal,
        event_id: uuid.UUID,
        meeting_id: uuid.UUID,
        payload: MeetingUpdate,
    ) -> MeetingRequest:
        """The organiser moves a meeting by hand and/or locks it; the next run keeps locked meetings put."""
        event = await event_service.get(session, principal, event_id)
        actor = await event_service.organizer_actor(session, principal, event)
        meeting = await event_service.meeting(session, event, meeting_id)
        if meeting.status != RequestStatus.ACCEPTED.value:
            raise EventStateError("Only accepted meetings are scheduled.")
        context = await event_service.context(session, event)
        changes = payload.model_dump(exclude_unset=True)
        slot = changes.get("slot", meeting.slot)
        if slot is not None and slot >= len(context.slots):
            raise InvalidInputError.for_field(["body", "slot"], f"the event has {len(context.slots)} slots", "range")
        if changes.get("locked") and slot is None:
            raise InvalidInputError.for_field(["body", "slot"], "a locked meeting needs a slot", "missing")
        table = changes.get("table_number", meeting.table_number)
        if slot is not None and table is not None and table > context.slots[slot].tables:
            raise InvalidInputError.for_field(["body", "table_number"], "no such table in that slot", "range")
        if slot is not None and "slot" in changes:
            others = [
                m
                for m in await repository.requests_of(session, event.id, RequestStatus.ACCEPTED.value)
                if m.id != meeting.id and m.slot == slot
            ]
            sides = {meeting.requester_id, meeting.recipient_id}
            if any({m.requester_id, m.recipient_id} & sides for m in others):
                raise InvalidInputError.for_field(
                    ["body", "slot"], "a participant already meets someone then", "double_booked"
                )
            if table is not None and any(m.table_number == table for m in others):
                raise InvalidInputError.for_field(["body", "table_number"], "the table is taken then", "table_taken")
        before = {"slot": meeting.slot, "table_number": meeting.table_number, "locked": meeting.locked}
        meeting.slot = slot
        meeting.table_number = table
        if "locked" in changes:
            meeting.locked = bool(changes["locked"])
        if meeting.slot is not None:
            meeting.unplaced_reason = None
        await session.flush()
        after = {"slot": meeting.slot, "table_number": meeting.table_number, "locked": meeting.locked}
        audit.record(session, actor, AuditAction.UPDATE, "meeting_request", meeting.id, audit.diff(before, after))
        return meeting


scheduling_service = SchedulingService()
