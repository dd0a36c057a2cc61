"""Rules of connection sessions: who organises, who registers, who may ask whom, when; suggestions from
the matching engine; outcomes and analytics. Scheduling itself is in `app.scheduling.service`."""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.authorization import actor_for_organization
from app.accounts.permissions import Principal
from app.audit import service as audit
from app.audit.service import Actor, AuditAction
from app.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from app.events import repository
from app.events.schemas import (
    Analytics,
    EventCreate,
    EventStatus,
    EventUpdate,
    MeetingDeclineReason,
    MeetingRequestCreate,
    Outcome,
    OutcomeCreate,
    ParticipantCount,
    ParticipantCreate,
    ParticipantRead,
    ParticipantUpdate,
    RequestMode,
    RequestStatus,
    SessionCreate,
)
from app.events.slots import EventSlot, event_slots
from app.listings.service import check_if_match
from app.listings.visibility import owner_known_to, owner_visible
from app.matching.engine import Profile, Reciprocal, reciprocal
from app.matching.profiles import profile
from app.models import Event, EventParticipant, EventSession, MeetingOutcome, MeetingRequest, Notification
from app.models.base import utcnow
from app.pagination import PageParams
from app.webhooks import events as webhooks


class EventNotFoundError(NotFoundError):
    code = "EventNotFound"
    title = "Event not found"


class ParticipantNotFoundError(NotFoundError):
    code = "ParticipantNotFound"
    title = "Participant not found"


class MeetingNotFoundError(NotFoundError):
    code = "MeetingNotFound"
    title = "Meeting request not found"


class SessionNotFoundError(NotFoundError):
    code = "SessionNotFound"
    title = "Session not found"


class NotOrganizerError(PermissionDeniedError):
    code = "NotOrganizer"
    title = "Only the event's organisers (or a moderator) may do this"


class EventStateError(ConflictError):
    code = "EventState"
    title = "The event's status does not allow this"


class RequestStateError(ConflictError):
    code = "RequestState"
    title = "The meeting request's status does not allow this"


class DuplicateRequestError(ConflictError):
    code = "DuplicateRequest"
    title = "A request between these organisations is already open or accepted"


class RequestCapError(ConflictError):
    code = "RequestCapReached"
    title = "The participant has sent as many requests as the event allows"


STATUS_MOVES: dict[EventStatus, set[EventStatus]] = {
    EventStatus.DRAFT: {EventStatus.REGISTRATION_OPEN, EventStatus.CANCELLED},
    EventStatus.REGISTRATION_OPEN: {EventStatus.BOOKING_OPEN, EventStatus.CANCELLED},
    EventStatus.BOOKING_OPEN: {EventStatus.SCHEDULED, EventStatus.CANCELLED},
    EventStatus.SCHEDULED: {EventStatus.BOOKING_OPEN, EventStatus.RUNNING, EventStatus.CANCELLED},
    EventStatus.RUNNING: {EventStatus.FINISHED},
    EventStatus.FINISHED: set(),
    EventStatus.CANCELLED: set(),
}
REGISTRATION_STATUSES = {EventStatus.REGISTRATION_OPEN, EventStatus.BOOKING_OPEN}
BOOKING_STATUSES = {EventStatus.BOOKING_OPEN, EventStatus.SCHEDULED}
OUTCOME_STATUSES = {EventStatus.SCHEDULED, EventStatus.RUNNING, EventStatus.FINISHED}
LISTINGS_PER_PARTICIPANT = 10


def request_status(request: MeetingRequest, now: datetime | None = None) -> RequestStatus:
    """A pending request past its expiry is expired, whether or not anything has written it yet."""
    status = RequestStatus(request.status)
    if status is RequestStatus.PENDING and request.expires_at is not None and request.expires_at <= (now or utcnow()):
        return RequestStatus.EXPIRED
    return status


def may_meet(event: Event, role_a: str, role_b: str) -> bool:
    """The event's rules list pairs of roles that may meet, in either order."""
    return sorted((role_a, role_b)) in (sorted(pair) for pair in event.meeting_rules)


def notify(session: AsyncSession, organization_id: uuid.UUID, kind: str, payload: dict[str, Any]) -> None:
    session.add(Notification(organization_id=organization_id, kind=kind, payload=payload))


async def _check_listings(
    session: AsyncSession, principal: Principal, organization_id: uuid.UUID, listing_ids: list[uuid.UUID]
) -> None:
    """A participant brings published listings of its own organisation only. An anonymous listing counts
    only when the caller may know its owner: otherwise the answer would tell who owns it, so every other
    listing gets the same refusal."""
    if not listing_ids:
        return
    found = await repository.published_listings(session, [], listing_ids)
    own = {x.id for x in found if x.organization_id == organization_id and await owner_known_to(session, principal, x)}
    foreign = [str(i) for i in listing_ids if i not in own]
    if foreign:
        raise InvalidInputError.for_field(
            ["body", "listing_ids"],
            f"not published listings of this organisation that you may name: {', '.join(foreign)}",
            "foreign_listing",
        )


@dataclass(frozen=True)
class EventContext:
    """An event with what most operations need: its sessions and slots."""

    event: Event
    sessions: list[EventSession]
    slots: list[EventSlot]


class EventService:
    # --- events -------------------------------------------------------------------------

    async def organizer_actor(self, session: AsyncSession, principal: Principal, event: Event) -> Actor:
        for organization_id in [event.organizer_organization_id, *map(uuid.UUID, event.co_organizer_ids or [])]:
            try:
                return await actor_for_organization(session, principal, organization_id)
            except PermissionDeniedError:
                continue
        raise NotOrganizerError()

    async def is_organizer(self, session: AsyncSession, principal: Principal | None, event: Event) -> bool:
        if principal is None:
            return False
        try:
            await self.organizer_actor(session, principal, event)
        except PermissionDeniedError:
            return False
        return True

    async def create(self, session: AsyncSession, principal: Principal, payload: EventCreate) -> Event:
        actor = await actor_for_organization(session, principal, payload.organizer_organization_id)
        event = Event(
            **payload.model_dump(
                exclude={"sessions", "participants", "co_organizer_ids", "meeting_rules"}, mode="python"
            ),
            co_organizer_ids=[str(i) for i in payload.co_organizer_ids],
            meeting_rules=[[a.value, b.value] for a, b in payload.meeting_rules],
            status=EventStatus.DRAFT.value,
        )
        event.kind = payload.kind.value
        event.request_mode = payload.request_mode.value
        event.field = payload.field.value if payload.field else None
        session.add(event)
        await session.flush()
        for session_payload in payload.sessions:
            await self.add_session(session, principal, event.id, session_payload, check=False)
        for participant_payload in payload.participants:
            await self._register(session, principal, event, participant_payload, status="invited")
        await self._refresh_start(session, event)
        audit.record(session, actor, AuditAction.CREATE, "event", event.id, audit.snapshot({"name": event.name}))
        return event

    async def get(
        self, session: AsyncSession, principal: Principal | None, event_id: uuid.UUID, *, lock: bool = False
    ) -> Event:
        """Drafts are visible to their organisers and moderators only (others get 404); `lock` holds the
        event until commit, for changes whose checks must see the latest status and version."""
        event = await repository.get_event(session, event_id, lock=lock)
        if event is None:
            raise EventNotFoundError()
        if event.status == EventStatus.DRAFT.value and not await self.is_organizer(session, principal, event):
            raise EventNotFoundError()
        return event

    async def context(self, session: AsyncSession, event: Event) -> EventContext:
        sessions = await repository.sessions_of(session, event.id)
        return EventContext(event, sessions, event_slots(sessions, event.timezone))

    async def list_page(
        self,
        session: AsyncSession,
        principal: Principal | None,
        status: list[str] | None,
        field: list[str] | None,
        page: PageParams,
    ) -> tuple[list[Event], int]:
        if principal is not None and principal.is_staff:
            visible_to = None
        else:
            visible_to = principal.organization_id if principal else uuid.UUID(int=0)
        return await repository.list_events(session, visible_to, status, field, page)

    async def update(
        self,
        session: AsyncSession,
        principal: Principal,
        event_id: uuid.UUID,
        payload: EventUpdate,
        if_match: str | None,
    ) -> Event:
        event = await self.get(session, principal, event_id, lock=True)
        actor = await self.organizer_actor(session, principal, event)
        check_if_match(event, if_match)
        changes = payload.model_dump(exclude_unset=True, mode="json")
        if "meeting_rules" in changes:
            changes["meeting_rules"] = [list(pair) for pair in changes["meeting_rules"]]
        before = {key: getattr(event, key) for key in changes}
        for key, value in changes.items():
            setattr(event, key, value)
        for key in ("registration_opens_at", "registration_closes_at", "booking_opens_at", "booking_closes_at"):
            if key in changes:
                setattr(event, key, getattr(payload, key))
        await session.flush()
        audit.record(session, actor, AuditAction.UPDATE, "event", event.id, audit.diff(before, changes))
        return event

    async def change_status(
        self, session: AsyncSession, principal: Principal, event_id: uuid.UUID, target: EventStatus
    ) -> Event:
        event = await self.get(session, principal, event_id, lock=True)
        actor = await self.organizer_actor(session, principal, event)
        current = EventStatus(event.status)
        if target not in STATUS_MOVES[current]:
            raise EventStateError(f"An event cannot go from {current.value} to {target.value}.")
        if target is EventStatus.REGISTRATION_OPEN and not await repository.sessions_of(session, event.id):
            raise EventStateError("Add at least one session before opening registration.")
        event.status = target.value
        await session.flush()
        audit.record(session, actor, AuditAction.STATE, "event", event.id, {"status": [current.value, target.value]})
        if target is EventStatus.CANCELLED:
            for participant in await repository.participants_of(session, event.id):
                notify(session, participant.organization_id, "event_cancelled", {"event_id": str(event.id)})
        return event

    async def add_session(
        self,
        session: AsyncSession,
        principal: Principal,
        event_id: uuid.UUID,
        payload: SessionCreate,
        *,
        check: bool = True,
    ) -> EventSession:
        event = await repository.get_event(session, event_id)
        if event is None:
            raise EventNotFoundError()
        if check:
            await self.organizer_actor(session, principal, await self.get(session, principal, event_id))
            self._before_schedule(event)
        block = EventSession(
            event_id=event.id,
            name=payload.name,
            starts_at=payload.starts_at,
            ends_at=payload.ends_at,
            meeting_minutes=payload.meeting_minutes,
            breaks=[b.model_dump(mode="json") for b in payload.breaks],
            tables=payload.tables,
        )
        session.add(block)
        await session.flush()
        await self._refresh_start(session, event)
        return block

    async def delete_session(
        self, session: AsyncSession, principal: Principal, event_id: uuid.UUID, session_id: uuid.UUID
    ) -> None:
        event = await self.get(session, principal, event_id)
        await self.organizer_actor(session, principal, event)
        self._before_schedule(event)
        block = await repository.get_session(session, event_id, session_id)
        if block is None:
            raise SessionNotFoundError()
        await session.delete(block)
        await session.flush()
        await self._refresh_start(session, event)

    @staticmethod
    def _before_schedule(event: Event) -> None:
        if event.schedule_status in ("preliminary", "final"):
            raise EventStateError("The schedule is published: sessions can no longer change.")

    @staticmethod
    async def _refresh_start(session: AsyncSession, event: Event) -> None:
        sessions = await repository.sessions_of(session, event.id)
        event.starts_at = min((s.starts_at for s in sessions), default=None)

    # --- participants ---------------------------------------------------------------------

    async def register(
        self, session: AsyncSession, principal: Principal, event_id: uuid.UUID, payload: ParticipantCreate
    ) -> EventParticipant:
        """An organisation (or its mandated broker) registers while registration is open; organisers any time
        before the event runs."""
        event = await self.get(session, principal, event_id)
        organizer = await self.is_organizer(session, principal, event)
        if not organizer:
            await actor_for_organization(session, principal, payload.organization_id)
            if EventStatus(event.status) not in REGISTRATION_STATUSES:
                raise EventStateError("Registration is not open.")
        elif EventStatus(event.status) in (EventStatus.FINISHED, EventStatus.CANCELLED, EventStatus.RUNNING):
            raise EventStateError("The event is over or running.")
        return await self._register(session, principal, event, payload, status="registered")

    async def _register(
        self, session: AsyncSession, principal: Principal, event: Event, payload: ParticipantCreate, *, status: str
    ) -> EventParticipant:
        orgs = await repository.organizations(session, [payload.organization_id])
        if payload.organization_id not in orgs:
            raise InvalidInputError.for_field(["body", "organization_id"], "no such organisation", "not_found")
        await _check_listings(session, principal, payload.organization_id, payload.listing_ids)
        participant = EventParticipant(
            event_id=event.id,
            organization_id=payload.organization_id,
            representative=payload.representative,
            representative_email=payload.representative_email,
            role=payload.role.value,
            listing_ids=[str(i) for i in payload.listing_ids],
            languages=list(payload.languages),
            max_meetings=payload.max_meetings,
            unavailable_slots=sorted(set(payload.unavailable_slots)),
            booth=payload.booth,
            status=status,
        )
        session.add(participant)
        await session.flush()
        return participant

    async def participant_actor(
        self, session: AsyncSession, principal: Principal, event: Event, participant: EventParticipant
    ) -> Actor:
        """The participant's organisation, its mandated broker, the organisers and moderators act for it."""
        try:
            return await actor_for_organization(session, principal, participant.organization_id)
        except PermissionDeniedError:
            return await self.organizer_actor(session, principal, event)

    async def present_participants(
        self, session: AsyncSession, principal: Principal, event: Event, participants: list[EventParticipant]
    ) -> list[ParticipantRead]:
        """What a registration shows: the listings it brings and the representative's e-mail only to the
        participant's side, the organisers and moderators; others see the listings that name their owner."""
        organizer = await self.is_organizer(session, principal, event)
        brought = {uuid.UUID(i) for p in participants for i in p.listing_ids or []}
        found = await repository.published_listings(session, [], list(brought)) if brought else []
        public = {x.id for x in found if owner_visible(x, None)}
        reads = []
        for participant in participants:
            read = ParticipantRead.model_validate(participant)
            if not organizer:
                try:
                    await actor_for_organization(session, principal, participant.organization_id)
                except PermissionDeniedError:
                    read.representative_email = None
                    read.listing_ids = [i for i in read.listing_ids if i in public]
            reads.append(read)
        return reads

    async def participant(
        self, session: AsyncSession, event: Event, participant_id: uuid.UUID, *, lock: bool = False
    ) -> EventParticipant:
        """`lock` holds the row until commit (see `repository.lock_participants` for the lock order)."""
        if lock:
            found = (await repository.lock_participants(session, event.id, [participant_id])).get(participant_id)
        else:
            found = await repository.get_participant(session, event.id, participant_id)
        if found is None:
            raise ParticipantNotFoundError()
        return found

    async def update_participant(
        self,
        session: AsyncSession,
        principal: Principal,
        event_id: uuid.UUID,
        participant_id: uuid.UUID,
        payload: ParticipantUpdate,
    ) -> EventParticipant:
        event = await self.get(session, principal, event_id)
        participant = await self.participant(session, event, participant_id, lock=True)
        actor = await self.participant_actor(session, principal, event, participant)
        changes = payload.model_dump(exclude_unset=True, mode="json")
        if "listing_ids" in changes:
            await _check_listings(session, principal, participant.organization_id, payload.listing_ids or [])
        if "unavailable_slots" in changes:
            changes["unavailable_slots"] = sorted(set(changes["unavailable_slots"] or []))
        before = {key: getattr(participant, key) for key in changes}
        for key, value in changes.items():
            setattr(participant, key, value)
        if changes.get("status") == "withdrawn":
            # Locked after the participant: an accept or a new request of this participant waits for
            # the withdrawal and then finds it withdrawn; one that came first is cancelled here.
            for request in await repository.open_requests_of(session, event.id, participant.id):
                request.status = RequestStatus.CANCELLED.value
                request.slot = request.table_number = None
        await session.flush()
        audit.record(
            session, actor, AuditAction.UPDATE, "event_participant", participant.id, audit.diff(before, changes)
        )
        return participant

    # --- suggestions ----------------------------------------------------------------------

    async def _profiles(
        self, session: AsyncSession, participants: list[EventParticipant]
    ) -> dict[uuid.UUID, list[Profile]]:
        """Each participant's listings as matching profiles: the ones it brings, else its organisation's."""
        org_ids = list({p.organization_id for p in participants})
        owners = await repository.organizations(session, org_ids)
        listings = await repository.published_listings(session, org_ids)
        by_org: dict[uuid.UUID, list[Any]] = {}
        for listing in listings:
            by_org.setdefault(listing.organization_id, []).append(listing)
        result = {}
        for participant in participants:
            # A participant is named to everyone it is suggested to: its anonymous listings, even those it
            # brings, never make its score (the organisers still see them in its registration).
            own = [x for x in by_org.get(participant.organization_id, []) if owner_visible(x, None)]
            chosen = [x for x in own if str(x.id) in set(participant.listing_ids)] if participant.listing_ids else own
            owner = owners[participant.organization_id]
            result[participant.id] = [profile(x, owner) for x in chosen[:LISTINGS_PER_PARTICIPANT]]
        return result

    async def pair_scores(
        self, session: AsyncSession, participant: EventParticipant, others: list[EventParticipant]
    ) -> dict[uuid.UUID, Reciprocal]:
        profiles = await self._profiles(session, [participant, *others])
        now = utcnow()
        return {o.id: reciprocal(profiles[participant.id], profiles[o.id], now) for o in others}

    async def suggestions(
        self,
        session: AsyncSession,
        principal: Principal,
        event_id: uuid.UUID,
        participant_id: uuid.UUID,
        limit: int,
    ) -> list[tuple[EventParticipant, Reciprocal, bool, Any]]:
        event = await self.get(session, principal, event_id)
        participant = await self.participant(session, event, participant_id)
        await self.participant_actor(session, principal, event, participant)
        everyone = await repository.participants_of(session, event.id)
        others = [
            p
            for p in everyone
            if p.id != participant.id
            and p.status != "withdrawn"
            and p.organization_id != participant.organization_id
            and may_meet(event, participant.role, p.role)
        ]
        scores = await self.pair_scores(session, participant, others)
        open_with = {
            r.recipient_id if r.requester_id == participant.id else r.requester_id
            for r in await repository.requests_of(session, event.id)
            if participant.id in (r.requester_id, r.recipient_id)
            and request_status(r) in (RequestStatus.PENDING, RequestStatus.ACCEPTED)
        }
        orgs = await repository.organizations(session, [p.organization_id for p in others])
        ranked = sorted((p for p in others if scores[p.id].score > 0), key=lambda p: (-scores[p.id].score, str(p.id)))
        return [(p, scores[p.id], p.id in open_with, orgs[p.organization_id]) for p in ranked[:limit]]

    # --- meeting requests -----------------------------------------------------------------

    async def request_meeting(
        self, session: AsyncSession, principal: Principal, event_id: uuid.UUID, payload: MeetingRequestCreate
    ) -> MeetingRequest:
        event = await self.get(session, principal, event_id)
        if EventStatus(event.status) not in BOOKING_STATUSES:
            raise EventStateError("Booking is not open.")
        requester = await self.participant(session, event, payload.requester_id)
        actor = await actor_for_organization(session, principal, requester.organization_id)
        # Both sides locked: a withdrawal running now either finishes first (and is seen) or waits.
        locked = await repository.lock_participants(session, event.id, [requester.id, payload.recipient_id])
        recipient = locked.get(payload.recipient_id)
        if recipient is None:
            raise InvalidInputError.for_field(["body", "recipient_id"], "no such participant", "not_found")
        if recipient.organization_id == requester.organization_id:
            raise InvalidInputError.for_field(
                ["body", "recipient_id"], "a participant of your own organisation", "same_organization"
            )
        if "withdrawn" in (requester.status, recipient.status):
            raise InvalidInputError.for_field(["body", "recipient_id"], "a participant has withdrawn", "withdrawn")
        if not may_meet(event, requester.role, recipient.role):
            raise InvalidInputError.for_field(
                ["body", "recipient_id"],
                f"the event's rules do not let a {requester.role} meet a {recipient.role}",
                "rules",
            )
        if (
            payload.session_id is not None
            and await repository.get_session(session, event.id, payload.session_id) is None
        ):
            raise InvalidInputError.for_field(["body", "session_id"], "not a session of this event", "not_found")
        if await repository.sent_count(session, requester.id) >= event.max_requests_per_participant:
            raise RequestCapError(f"At most {event.max_requests_per_participant} open or accepted requests.")
        await self._check_duplicate(session, event, requester, recipient)
        now = utcnow()
        auto = event.request_mode == RequestMode.AUTO_ACCEPT.value
        scores = await self.pair_scores(session, requester, [recipient])
        request = MeetingRequest(
            event_id=event.id,
            requester_id=requester.id,
            recipient_id=recipient.id,
            message=payload.message,
            session_id=payload.session_id,
            status=RequestStatus.ACCEPTED.value if auto else RequestStatus.PENDING.value,
            responded_at=now if auto else None,
            expires_at=None if auto else now + timedelta(hours=event.request_expiry_hours),
            score=scores[recipient.id].score,
        )
        session.add(request)
        await session.flush()
        audit.record(
            session,
            actor,
            AuditAction.CREATE,
            "meeting_request",
            request.id,
            audit.snapshot({"recipient_id": recipient.id, "status": request.status}),
        )
        notify(
            session,
            recipient.organization_id,
            "meeting_request",
            {"event_id": str(event.id), "request_id": str(request.id), "status": request.status},
        )
        webhooks.emit(session, recipient.organization_id, "meeting.requested", request.id, event_id=event.id)
        return request

    async def _check_duplicate(
        self, session: AsyncSession, event: Event, requester: EventParticipant, recipient: EventParticipant
    ) -> None:
        """One open request per pair of participants; with exclusivity, per pair of organisations."""
        participants = {p.id: p for p in await repository.participants_of(session, event.id)}
        for other in await repository.requests_of(session, event.id):
            if request_status(other) not in (RequestStatus.PENDING, RequestStatus.ACCEPTED):
                continue
            pair = {other.requester_id, other.recipient_id}
            if pair == {requester.id, recipient.id}:
                raise DuplicateRequestError()
            if event.exclusive:
                orgs = {participants[i].organization_id for i in pair}
                if orgs == {requester.organization_id, recipient.organization_id}:
                    raise DuplicateRequestError()

    async def meeting(
        self, session: AsyncSession, event: Event, request_id: uuid.UUID, *, lock: bool = False
    ) -> MeetingRequest:
        found = await repository.get_request(session, event.id, request_id, lock=lock)
        if found is None:
            raise MeetingNotFoundError()
        return found

    async def _sides(
        self, session: AsyncSession, event: Event, request: MeetingRequest
    ) -> tuple[EventParticipant, EventParticipant]:
        return (
            await self.participant(session, event, request.requester_id),
            await self.participant(session, event, request.recipient_id),
        )

    async def can_see_request(
        self, session: AsyncSession, principal: Principal, event: Event, request: MeetingRequest
    ) -> bool:
        for side in await self._sides(session, event, request):
            try:
                await self.participant_actor(session, principal, event, side)
                return True
            except PermissionDeniedError:
                continue
        return False

    async def _visible_request(
        self,
        session: AsyncSession,
        principal: Principal,
        event_id: uuid.UUID,
        request_id: uuid.UUID,
        *,
        lock: bool = False,
    ) -> tuple[Event, MeetingRequest]:
        """The event and the request, if the principal acts for a side or organises; 404 otherwise."""
        event = await self.get(session, principal, event_id)
        request = await self.meeting(session, event, request_id, lock=lock)
        if not await self.can_see_request(session, principal, event, request):
            raise MeetingNotFoundError()
        return event, request

    async def get_request(
        self, session: AsyncSession, principal: Principal, event_id: uuid.UUID, request_id: uuid.UUID
    ) -> MeetingRequest:
        return (await self._visible_request(session, principal, event_id, request_id))[1]

    async def respond(
        self,
        session: AsyncSession,
        principal: Principal,
        event_id: uuid.UUID,
        request_id: uuid.UUID,
        accept: bool,
        reason: MeetingDeclineReason | None = None,
    ) -> MeetingRequest:
        event = await self.get(session, principal, event_id)
        sides = await self.meeting(session, event, request_id)
        # The lock order of every writer: participants, then the request (read again once locked).
        await repository.lock_participants(session, event.id, [sides.requester_id, sides.recipient_id])
        request = await self.meeting(session, event, request_id, lock=True)
        requester, recipient = await self._sides(session, event, request)
        try:
            actor = await actor_for_organization(session, principal, recipient.organization_id)
        except PermissionDeniedError:
            if not await self.can_see_request(session, principal, event, request):
                raise MeetingNotFoundError() from None
            raise
        status = request_status(request)
        if status is not RequestStatus.PENDING:
            raise RequestStateError(f"The request is {status.value}.")
        if "withdrawn" in (requester.status, recipient.status):
            raise RequestStateError("A participant has withdrawn from the event.")
        if EventStatus(event.status) not in BOOKING_STATUSES:
            raise EventStateError("Booking is not open.")
        request.status = (RequestStatus.ACCEPTED if accept else RequestStatus.DECLINED).value
        request.decline_reason = reason.value if reason else None
        request.responded_at = utcnow()
        await session.flush()
        audit.record(
            session,
            actor,
            AuditAction.STATE,
            "meeting_request",
            request.id,
            {"status": ["pending", request.status]},
        )
        notify(
            session,
            requester.organization_id,
            "meeting_request_answered",
            {
                "event_id": str(event.id),
                "request_id": str(request.id),
                "status": request.status,
                "reason": request.decline_reason,
            },
        )
        if accept:
            webhooks.emit(session, requester.organization_id, "meeting.accepted", request.id, event_id=event.id)
        return request

    async def cancel(
        self, session: AsyncSession, principal: Principal, event_id: uuid.UUID, request_id: uuid.UUID
    ) -> MeetingRequest:
        """Either side (or an organiser) cancels a pending or accepted request; its slot is freed."""
        event, request = await self._visible_request(session, principal, event_id, request_id, lock=True)
        status = request_status(request)
        if status not in (RequestStatus.PENDING, RequestStatus.ACCEPTED):
            raise RequestStateError(f"The request is {status.value}.")
        request.status = RequestStatus.CANCELLED.value
        request.slot = request.table_number = None
        request.booth = None
        await session.flush()
        audit.record(
            session,
            Actor(principal),
            AuditAction.STATE,
            "meeting_request",
            request.id,
            {"status": [status.value, "cancelled"]},
        )
        for side in await self._sides(session, event, request):
            notify(
                session,
                side.organization_id,
                "meeting_cancelled",
                {"event_id": str(event.id), "request_id": str(request.id)},
            )
        return request

    async def list_requests(
        self,
        session: AsyncSession,
        principal: Principal,
        event_id: uuid.UUID,
        participant_id: uuid.UUID | None,
        status: list[RequestStatus] | None,
    ) -> tuple[Event, list[MeetingRequest]]:
        """Organisers see every request; others those of participants they act for."""
        event = await self.get(session, principal, event_id)
        requests = await repository.requests_of(session, event.id)
        if not await self.is_organizer(session, principal, event):
            participants = await repository.participants_of(session, event.id)
            mine = set()
            for p in participants:
                try:
                    await actor_for_organization(session, principal, p.organization_id)
                    mine.add(p.id)
                except PermissionDeniedError:
                    continue
            requests = [r for r in requests if {r.requester_id, r.recipient_id} & mine]
        if participant_id is not None:
            requests = [r for r in requests if participant_id in (r.requester_id, r.recipient_id)]
        if status:
            requests = [r for r in requests if request_status(r) in status]
        return event, requests

    # --- outcomes and analytics -----------------------------------------------------------

    async def record_outcome(
        self,
        session: AsyncSession,
        principal: Principal,
        event_id: uuid.UUID,
        request_id: uuid.UUID,
        payload: OutcomeCreate,
    ) -> MeetingOutcome:
        event = await self.get(session, principal, event_id)
        request = await self.meeting(session, event, request_id)
        if payload.participant_id not in (request.requester_id, request.recipient_id):
            raise InvalidInputError.for_field(["body", "participant_id"], "not a side of this meeting", "not_a_side")
        side = await self.participant(session, event, payload.participant_id)
        try:
            actor = await actor_for_organization(session, principal, side.organization_id)
        except PermissionDeniedError:
            if not await self.can_see_request(session, principal, event, request):
                raise MeetingNotFoundError() from None
            raise
        if request.status != RequestStatus.ACCEPTED.value or request.published_slot is None:
            raise RequestStateError("Only meetings of a published schedule have outcomes.")
        if EventStatus(event.status) not in OUTCOME_STATUSES:
            raise EventStateError("Outcomes are recorded once the schedule is out.")
        existing = await repository.outcome(session, request.id, side.id)
        if existing is None:
            existing = MeetingOutcome(meeting_id=request.id, participant_id=side.id, outcome=payload.outcome.value)
            session.add(existing)
        existing.outcome = payload.outcome.value
        existing.note = payload.note
        existing.recorded_at = utcnow()
        await session.flush()
        audit.record(
            session,
            actor,
            AuditAction.UPDATE,
            "meeting_outcome",
            existing.id,
            audit.snapshot({"outcome": existing.outcome}),
        )
        return existing

    async def outcomes(
        self, session: AsyncSession, principal: Principal, event_id: uuid.UUID, request_id: uuid.UUID
    ) -> list[MeetingOutcome]:
        request = await self.get_request(session, principal, event_id, request_id)
        return await repository.outcomes_of(session, [request.id])

    async def analytics(self, session: AsyncSession, principal: Principal, event_id: uuid.UUID) -> Analytics:
        event = await self.get(session, principal, event_id)
        await self.organizer_actor(session, principal, event)
        context = await self.context(session, event)
        requests = await repository.requests_of(session, event.id)
        participants = await repository.participants_of(session, event.id)
        now = utcnow()
        statuses = Counter(request_status(r, now).value for r in requests)
        accepted = [r for r in requests if r.status == RequestStatus.ACCEPTED.value]
        scheduled = [r for r in accepted if r.slot is not None]
        at_tables = sum(1 for r in scheduled if r.booth is None)
        table_slots = sum(s.tables for s in context.slots)
        outcomes = Counter(o.outcome for o in await repository.outcomes_of(session, [r.id for r in accepted]))
        counts = []
        for p in participants:
            counts.append(
                ParticipantCount(
                    participant_id=p.id,
                    representative=p.representative,
                    requests_sent=sum(1 for r in requests if r.requester_id == p.id),
                    requests_received=sum(1 for r in requests if r.recipient_id == p.id),
                    meetings=sum(1 for r in scheduled if p.id in (r.requester_id, r.recipient_id)),
                )
            )
        return Analytics(
            requests={s.value: statuses.get(s.value, 0) for s in RequestStatus},
            decline_reasons=dict(Counter(r.decline_reason for r in requests if r.decline_reason)),
            meetings_requested=len(accepted),
            meetings_scheduled=len(scheduled),
            table_utilisation=round(at_tables / table_slots, 4) if table_slots else None,
            outcomes={o.value: outcomes.get(o.value, 0) for o in Outcome},
            participants=counts,
        )


event_service = EventService()
