"""Connection sessions: events, sessions and slots, participants, suggestions, meeting requests, the
schedule and its agendas, outcomes, analytics, and proposed sessions."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query, Request, Response, status

from app.accounts.authorization import NotYourOrganizationError
from app.api.deps import CurrentPrincipal, OptionalPrincipal, ReadSessionDep, SessionDep
from app.api.idempotency import ExchangeRoute
from app.api.openapi import declare_headers, declare_problems
from app.db import Database
from app.errors import InvalidInputError, PermissionDeniedError, problem_responses
from app.events import repository
from app.events.proposals import propose
from app.events.schemas import (
    Agenda,
    Analytics,
    EventCreate,
    EventDetail,
    EventRead,
    EventStatus,
    EventUpdate,
    MeetingRead,
    MeetingRequestCreate,
    MeetingRequestDecline,
    MeetingUpdate,
    OutcomeCreate,
    OutcomeRead,
    ParticipantCreate,
    ParticipantRead,
    ParticipantUpdate,
    Proposal,
    ProposalCreate,
    PublishRequest,
    RequestStatus,
    ScheduleReport,
    ScheduleRequest,
    SessionCreate,
    SessionRead,
    SlotRead,
    StatusChange,
    Suggestion,
    SuggestionReason,
)
from app.events.service import (
    DuplicateRequestError,
    EventContext,
    EventStateError,
    NotOrganizerError,
    RequestCapError,
    RequestStateError,
    event_service,
    request_status,
)
from app.matching.explain import explain, language_of
from app.models import Event, MeetingRequest
from app.pagination import ANY_OF, MAX_VALUES, LinksDep, Page, PageDep, PageParams, values, window
from app.scheduling.agenda import participant_agenda, table_agenda, to_csv, to_ical
from app.scheduling.service import (
    FairScheduleNotFoundError,
    ScheduleChangedError,
    UnfairScheduleNotAcceptedError,
    scheduling_service,
)
from app.vocabulary import FieldCode

router = APIRouter(prefix="/events", tags=["events"], route_class=ExchangeRoute)
proposals_router = APIRouter(prefix="/event-proposals", tags=["events"], route_class=ExchangeRoute)
READ_ERRORS = problem_responses(401, 404, 422)
WRITE_ERRORS = problem_responses(401, 403, 404, 409, 422)
AgendaFormat = Annotated[
    Literal["json", "ics", "csv"], Query(alias="format", description="json, ics (iCalendar) or csv (printable).")
]
AGENDA_RESPONSES = {
    **READ_ERRORS,
    **problem_responses(403),
    200: {
        "description": "The agenda.",
        "content": {
            "text/calendar": {"schema": {"type": "string"}, "example": "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n…"},
            "text/csv": {"schema": {"type": "string"}, "example": "slot,date,start,end,place,with\r\n…"},
        },
    },
}


async def _detail(event: Event, session: SessionDep) -> EventDetail:
    context = await event_service.context(session, event)
    return EventDetail.model_validate(
        {
            **EventRead.model_validate(event).model_dump(),
            "sessions": [SessionRead.model_validate(s) for s in context.sessions],
        }
    )


def _meeting(meeting: MeetingRequest, context: EventContext) -> MeetingRead:
    read = MeetingRead.model_validate(meeting)
    read.status = request_status(meeting)
    if meeting.slot is not None and meeting.slot < len(context.slots):
        read.starts_at = context.slots[meeting.slot].starts_at
        read.ends_at = context.slots[meeting.slot].ends_at
    return read


async def _meeting_read(meeting: MeetingRequest, event_id: uuid.UUID, session: SessionDep) -> MeetingRead:
    event = await repository.get_event(session, event_id)
    assert event is not None  # the service found it already
    return _meeting(meeting, await event_service.context(session, event))


def _agenda_response(agenda: Agenda, form: str) -> Response | Agenda:
    if form == "ics":
        return Response(
            to_ical(agenda),
            media_type="text/calendar; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="agenda.ics"'},
        )
    if form == "csv":
        return Response(
            to_csv(agenda),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="agenda.csv"'},
        )
    return agenda


# --- events ------------------------------------------------------------------------------


@router.post(
    "",
    summary="Create an event",
    status_code=status.HTTP_201_CREATED,
    response_model=EventDetail,
    responses=WRITE_ERRORS,
)
async def create_event(payload: EventCreate, principal: CurrentPrincipal, session: SessionDep) -> EventDetail:
    """An organisation (or its mandated broker) creates a draft event, optionally with its sessions and the
    organisations it invites — a proposal from `/event-proposals` can be posted here as it is."""
    return await _detail(await event_service.create(session, principal, payload), session)


@router.get("", summary="List events", response_model=Page[EventRead], responses=problem_responses(422))
async def list_events(
    principal: OptionalPrincipal,
    session: SessionDep,
    page: PageDep,
    links: LinksDep,
    status_filter: Annotated[
        list[EventStatus] | None, Query(alias="status", max_length=MAX_VALUES, description=ANY_OF)
    ] = None,
    field: Annotated[list[FieldCode] | None, Query(max_length=MAX_VALUES, description=ANY_OF)] = None,
) -> Page[EventRead]:
    """Events open to all, newest first; drafts only for their organisers and moderators."""
    items, total = await event_service.list_page(session, principal, values(status_filter), values(field), page)
    return links(Page.of([EventRead.model_validate(e) for e in items], total, page))


@router.get("/{event_id}", summary="Get an event", response_model=EventDetail, responses=READ_ERRORS)
async def get_event(
    event_id: uuid.UUID, response: Response, principal: OptionalPrincipal, session: SessionDep
) -> EventDetail:
    """An event with its sessions and its `ETag`."""
    event = await event_service.get(session, principal, event_id)
    response.headers["ETag"] = f'"{event.version}"'
    return await _detail(event, session)


@router.patch(
    "/{event_id}",
    summary="Update an event",
    response_model=EventDetail,
    responses={**WRITE_ERRORS, **problem_responses(412, 428)},
)
async def update_event(
    event_id: uuid.UUID,
    payload: EventUpdate,
    response: Response,
    principal: CurrentPrincipal,
    session: SessionDep,
    if_match: Annotated[str | None, Header(description="The `ETag` you read.")] = None,
) -> EventDetail:
    """Organisers change names, venue, windows, request rules; `If-Match` required."""
    event = await event_service.update(session, principal, event_id, payload, if_match)
    response.headers["ETag"] = f'"{event.version}"'
    return await _detail(event, session)


@router.post(
    "/{event_id}/status", summary="Move an event to its next status", response_model=EventDetail, responses=WRITE_ERRORS
)
async def change_event_status(
    event_id: uuid.UUID, payload: StatusChange, principal: CurrentPrincipal, session: SessionDep
) -> EventDetail:
    """draft → registration_open → booking_open → scheduled → running → finished, or cancelled."""
    return await _detail(await event_service.change_status(session, principal, event_id, payload.status), session)


@router.post(
    "/{event_id}/sessions",
    summary="Add a session",
    status_code=status.HTTP_201_CREATED,
    response_model=SessionRead,
    responses=WRITE_ERRORS,
)
async def add_session(
    event_id: uuid.UUID, payload: SessionCreate, principal: CurrentPrincipal, session: SessionDep
) -> SessionRead:
    """A time block cut into meeting slots (15, 20 or 30 minutes), with breaks and a number of tables."""
    return SessionRead.model_validate(await event_service.add_session(session, principal, event_id, payload))


@router.delete(
    "/{event_id}/sessions/{session_id}",
    summary="Remove a session",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=WRITE_ERRORS,
)
async def delete_session(
    event_id: uuid.UUID, session_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep
) -> Response:
    """Only before a schedule is published."""
    await event_service.delete_session(session, principal, event_id, session_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{event_id}/slots", summary="List meeting slots", response_model=Page[SlotRead], responses=READ_ERRORS)
async def list_slots(
    event_id: uuid.UUID, principal: OptionalPrincipal, session: SessionDep, page: PageDep, links: LinksDep
) -> Page[SlotRead]:
    """The event's slots numbered from 0 in time order: the numbers availability and meetings refer to."""
    context = await event_service.context(session, await event_service.get(session, principal, event_id))
    slots, total = window(context.slots, page)
    return links(
        Page.of(
            [
                SlotRead(
                    number=s.number,
                    session_id=s.session_id,
                    session_name=s.session_name,
                    starts_at=s.starts_at,
                    ends_at=s.ends_at,
                    tables=s.tables,
                )
                for s in slots
            ],
            total,
            page,
        )
    )


# --- participants ------------------------------------------------------------------------


@router.post(
    "/{event_id}/participants",
    summary="Register a participant",
    status_code=status.HTTP_201_CREATED,
    response_model=ParticipantRead,
    responses=WRITE_ERRORS,
)
async def register_participant(
    event_id: uuid.UUID, payload: ParticipantCreate, principal: CurrentPrincipal, session: SessionDep
) -> ParticipantRead:
    """An organisation registers a representative with its role, listings, languages, availability and cap."""
    return ParticipantRead.model_validate(await event_service.register(session, principal, event_id, payload))


@router.get(
    "/{event_id}/participants", summary="List participants", response_model=Page[ParticipantRead], responses=READ_ERRORS
)
async def list_participants(
    event_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep, page: PageDep, links: LinksDep
) -> Page[ParticipantRead]:
    """Everyone registered, for signed-in users who can see the event (to choose whom to ask); the
    representative's e-mail and anonymous listings only for the participant's side and the organisers."""
    event = await event_service.get(session, principal, event_id)
    participants, total = window(await repository.participants_of(session, event.id), page)
    reads = await event_service.present_participants(session, principal, event, participants)
    return links(Page.of(reads, total, page))


@router.get(
    "/{event_id}/participants/{participant_id}",
    summary="Get a participant",
    response_model=ParticipantRead,
    responses=READ_ERRORS,
)
async def get_participant(
    event_id: uuid.UUID, participant_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep
) -> ParticipantRead:
    """One registration (shown as in the list of participants)."""
    event = await event_service.get(session, principal, event_id)
    participant = await event_service.participant(session, event, participant_id)
    [read] = await event_service.present_participants(session, principal, event, [participant])
    return read


@router.patch(
    "/{event_id}/participants/{participant_id}",
    summary="Update a participant",
    response_model=ParticipantRead,
    responses=WRITE_ERRORS,
)
async def update_participant(
    event_id: uuid.UUID,
    participant_id: uuid.UUID,
    payload: ParticipantUpdate,
    principal: CurrentPrincipal,
    session: SessionDep,
) -> ParticipantRead:
    """The participant's organisation or an organiser changes availability, cap, listings; `withdrawn` cancels
    its requests."""
    participant = await event_service.update_participant(session, principal, event_id, participant_id, payload)
    return ParticipantRead.model_validate(participant)


@router.get(
    "/{event_id}/participants/{participant_id}/suggestions",
    summary="Suggested counterparts",
    response_model=Page[Suggestion],
    responses={**READ_ERRORS, **problem_responses(403)},
)
async def suggestions(
    event_id: uuid.UUID,
    participant_id: uuid.UUID,
    principal: CurrentPrincipal,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    accept_language: Annotated[str | None, Header()] = None,
) -> Page[Suggestion]:
    """Participants the rules allow, ranked by the reciprocal match score of their listings, with reasons in
    the caller's language (`Accept-Language`: vi, en, ja): a ranking of at most `limit`, in one page."""
    language = language_of(accept_language)
    found = await event_service.suggestions(session, principal, event_id, participant_id, limit)
    ranked = [
        Suggestion(
            participant_id=p.id,
            organization_id=p.organization_id,
            organization=org.name,
            role=p.role,
            score=result.score,
            score_for_us=result.for_us,
            score_for_them=result.for_them,
            reasons=[
                SuggestionReason(feature=r.feature, contribution=r.contribution, text=text)
                for r, text in explain(result.best_for_us.reasons if result.best_for_us else (), language).fits
            ],
            requested=requested,
        )
        for p, result, requested, org in found
    ]
    return Page.of(ranked, len(ranked), PageParams(limit=limit))


@router.get(
    "/{event_id}/participants/{participant_id}/agenda",
    summary="A participant's agenda",
    response_model=Agenda,
    responses=AGENDA_RESPONSES,
)
async def get_participant_agenda(
    event_id: uuid.UUID,
    participant_id: uuid.UUID,
    principal: CurrentPrincipal,
    session: SessionDep,
    form: AgendaFormat = "json",
) -> Response | Agenda:
    """The published meetings in time order with table or booth and counterpart (organisers: the current
    schedule); `format=ics` for calendars, `format=csv` to print."""
    agenda = await participant_agenda(session, principal, event_id, participant_id)
    return _agenda_response(agenda, form)


# --- meeting requests --------------------------------------------------------------------


@router.post(
    "/{event_id}/requests",
    summary="Request a meeting",
    status_code=status.HTTP_201_CREATED,
    response_model=MeetingRead,
    responses=WRITE_ERRORS,
)
async def request_meeting(
    event_id: uuid.UUID, payload: MeetingRequestCreate, principal: CurrentPrincipal, session: SessionDep
) -> MeetingRead:
    """Ask a participant for a one-to-one meeting while booking is open; in auto-accept events it is accepted
    at once. Rules, exclusivity and the cap on outgoing requests apply."""
    request = await event_service.request_meeting(session, principal, event_id, payload)
    return await _meeting_read(request, event_id, session)


@router.get(
    "/{event_id}/requests", summary="List meeting requests", response_model=Page[MeetingRead], responses=READ_ERRORS
)
async def list_requests(
    event_id: uuid.UUID,
    principal: CurrentPrincipal,
    session: SessionDep,
    page: PageDep,
    links: LinksDep,
    participant_id: Annotated[uuid.UUID | None, Query()] = None,
    status_filter: Annotated[
        list[RequestStatus] | None, Query(alias="status", max_length=MAX_VALUES, description=ANY_OF)
    ] = None,
) -> Page[MeetingRead]:
    """Organisers see all; participants the requests they sent or received."""
    event, requests = await event_service.list_requests(session, principal, event_id, participant_id, status_filter)
    context = await event_service.context(session, event)
    shown, total = window(requests, page)
    return links(Page.of([_meeting(r, context) for r in shown], total, page))


@router.get(
    "/{event_id}/requests/{request_id}",
    summary="Get a meeting request",
    response_model=MeetingRead,
    responses=READ_ERRORS,
)
async def get_request(
    event_id: uuid.UUID, request_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep
) -> MeetingRead:
    """One request or meeting, for its two sides and the organisers."""
    return await _meeting_read(
        await event_service.get_request(session, principal, event_id, request_id), event_id, session
    )


@router.post(
    "/{event_id}/requests/{request_id}/accept",
    summary="Accept a meeting request",
    response_model=MeetingRead,
    responses=WRITE_ERRORS,
)
async def accept_request(
    event_id: uuid.UUID, request_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep
) -> MeetingRead:
    """The recipient accepts: the meeting goes to the scheduler."""
    request = await event_service.respond(session, principal, event_id, request_id, accept=True)
    return await _meeting_read(request, event_id, session)


@router.post(
    "/{event_id}/requests/{request_id}/decline",
    summary="Decline a meeting request",
    response_model=MeetingRead,
    responses=WRITE_ERRORS,
)
async def decline_request(
    event_id: uuid.UUID,
    request_id: uuid.UUID,
    payload: MeetingRequestDecline,
    principal: CurrentPrincipal,
    session: SessionDep,
) -> MeetingRead:
    """The recipient declines with a coded reason."""
    request = await event_service.respond(session, principal, event_id, request_id, accept=False, reason=payload.reason)
    return await _meeting_read(request, event_id, session)


@router.post(
    "/{event_id}/requests/{request_id}/cancel",
    summary="Cancel a meeting request",
    response_model=MeetingRead,
    responses=WRITE_ERRORS,
)
async def cancel_request(
    event_id: uuid.UUID, request_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep
) -> MeetingRead:
    """Either side (or an organiser) cancels a pending or accepted request; a scheduled slot is freed."""
    return await _meeting_read(await event_service.cancel(session, principal, event_id, request_id), event_id, session)


# --- schedule ----------------------------------------------------------------------------


@router.post(
    "/{event_id}/schedule", summary="Compute the schedule", response_model=ScheduleReport, responses=WRITE_ERRORS
)
async def compute_schedule(
    event_id: uuid.UUID, payload: ScheduleRequest, request: Request, principal: CurrentPrincipal
) -> ScheduleReport:
    """Place the accepted meetings in slots and at tables: most (priority-weighted) meetings first, then fewest
    moves of published meetings, then fewest breaks. Returns each objective with its proven bound and gap, and
    why any meeting could not be placed. Locked meetings stay put. The solver runs outside any transaction;
    `409 ScheduleChanged` when the meetings or the schedule changed meanwhile (e.g. two computations at
    once), `409 FairScheduleNotFound` when no schedule within the event's fairness bound was found: the
    best one is then kept as a draft marked unfair, published only with `accept_unfair`."""
    database: Database = request.app.state.database
    return await scheduling_service.run(database, principal, event_id, payload)


@router.get(
    "/{event_id}/schedule",
    summary="Get the schedule report",
    response_model=ScheduleReport,
    responses={**READ_ERRORS, **problem_responses(403)},
)
async def get_schedule(event_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep) -> ScheduleReport:
    """The last computation's figures and the schedule's status (none, draft, preliminary, final)."""
    return await scheduling_service.report(session, principal, event_id)


@router.post(
    "/{event_id}/schedule/publish", summary="Publish the schedule", response_model=EventDetail, responses=WRITE_ERRORS
)
async def publish_schedule(
    event_id: uuid.UUID, payload: PublishRequest, principal: CurrentPrincipal, session: SessionDep
) -> EventDetail:
    """Publish the current schedule as preliminary or final; every participant is notified. Final moves a
    booking-open event to scheduled."""
    event = await scheduling_service.publish(
        session, principal, event_id, payload.stage.value, accept_unfair=payload.accept_unfair
    )
    return await _detail(event, session)


@router.patch(
    "/{event_id}/meetings/{meeting_id}",
    summary="Move or lock a meeting",
    response_model=MeetingRead,
    responses=WRITE_ERRORS,
)
async def update_meeting(
    event_id: uuid.UUID,
    meeting_id: uuid.UUID,
    payload: MeetingUpdate,
    principal: CurrentPrincipal,
    session: SessionDep,
) -> MeetingRead:
    """Organisers put a meeting in a slot (and at a table) by hand and lock it for later runs."""
    meeting = await scheduling_service.update_meeting(session, principal, event_id, meeting_id, payload)
    return await _meeting_read(meeting, event_id, session)


@router.put(
    "/{event_id}/meetings/{meeting_id}/outcome",
    summary="Record a meeting's outcome",
    response_model=OutcomeRead,
    responses=WRITE_ERRORS,
)
async def record_outcome(
    event_id: uuid.UUID,
    meeting_id: uuid.UUID,
    payload: OutcomeCreate,
    principal: CurrentPrincipal,
    session: SessionDep,
) -> OutcomeRead:
    """Each side says what came of the meeting: no further contact, follow-up planned, negotiation, agreement."""
    return OutcomeRead.model_validate(
        await event_service.record_outcome(session, principal, event_id, meeting_id, payload)
    )


@router.get(
    "/{event_id}/meetings/{meeting_id}/outcomes",
    summary="A meeting's outcomes",
    response_model=Page[OutcomeRead],
    responses=READ_ERRORS,
)
async def list_outcomes(
    event_id: uuid.UUID,
    meeting_id: uuid.UUID,
    principal: CurrentPrincipal,
    session: SessionDep,
    page: PageDep,
    links: LinksDep,
) -> Page[OutcomeRead]:
    """What each side recorded, for the two sides and the organisers."""
    outcomes, total = window(await event_service.outcomes(session, principal, event_id, meeting_id), page)
    return links(Page.of([OutcomeRead.model_validate(o) for o in outcomes], total, page))


@router.get(
    "/{event_id}/tables/{table}/agenda",
    summary="A table's or booth's agenda",
    response_model=Agenda,
    responses=AGENDA_RESPONSES,
)
async def get_table_agenda(
    event_id: uuid.UUID, table: str, principal: CurrentPrincipal, session: SessionDep, form: AgendaFormat = "json"
) -> Response | Agenda:
    """For the organisers' floor staff: who sits at table `7` (or booth `B3`) when."""
    agenda = await table_agenda(session, principal, event_id, table)
    return _agenda_response(agenda, form)


@router.get(
    "/{event_id}/analytics",
    summary="Event analytics",
    response_model=Analytics,
    responses={**READ_ERRORS, **problem_responses(403)},
)
async def analytics(event_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep) -> Analytics:
    """Requests by status and decline reason, meetings requested vs scheduled, per-participant counts, table
    utilisation and outcomes — for the organisers."""
    return await event_service.analytics(session, principal, event_id)


# --- proposals ---------------------------------------------------------------------------


@proposals_router.post("", summary="Propose a connection session", response_model=Proposal, responses=WRITE_ERRORS)
async def propose_session(payload: ProposalCreate, principal: CurrentPrincipal, session: ReadSessionDep) -> Proposal:
    """From the published listings of a field (and theme): the organisations worth inviting, the candidate
    meetings that would fill the day, the expected number of strong matches, and a ready event to create."""
    return await propose(session, principal, payload)


_ORGANIZER = (NotOrganizerError, EventStateError, InvalidInputError)
declare_problems(
    router,
    {
        "create_event": [NotYourOrganizationError, InvalidInputError],
        "update_event": _ORGANIZER,
        "change_event_status": _ORGANIZER,
        "add_session": _ORGANIZER,
        "delete_session": _ORGANIZER,
        "register_participant": [NotYourOrganizationError, NotOrganizerError, EventStateError, InvalidInputError],
        "update_participant": [NotYourOrganizationError, NotOrganizerError, EventStateError, InvalidInputError],
        "get_participant": [NotOrganizerError, PermissionDeniedError],
        "list_participants": [PermissionDeniedError],
        "suggestions": [NotOrganizerError, NotYourOrganizationError],
        "get_participant_agenda": [NotOrganizerError, NotYourOrganizationError],
        "request_meeting": [
            NotYourOrganizationError,
            EventStateError,
            DuplicateRequestError,
            RequestCapError,
            InvalidInputError,
        ],
        "list_requests": [NotOrganizerError, PermissionDeniedError],
        "get_request": [NotOrganizerError, PermissionDeniedError],
        "accept_request": [NotYourOrganizationError, RequestStateError, EventStateError, RequestCapError],
        "decline_request": [NotYourOrganizationError, RequestStateError, EventStateError],
        "cancel_request": [NotYourOrganizationError, RequestStateError, EventStateError],
        "compute_schedule": [NotOrganizerError, EventStateError, FairScheduleNotFoundError, ScheduleChangedError],
        "get_schedule": [NotOrganizerError],
        "publish_schedule": [NotOrganizerError, EventStateError, UnfairScheduleNotAcceptedError, ScheduleChangedError],
        "update_meeting": [NotOrganizerError, EventStateError, InvalidInputError],
        "record_outcome": [NotYourOrganizationError, RequestStateError, InvalidInputError],
        "list_outcomes": [NotOrganizerError, NotYourOrganizationError],
        "get_table_agenda": [NotOrganizerError],
        "analytics": [NotOrganizerError],
    },
)
declare_problems(proposals_router, {"propose_session": [NotYourOrganizationError, InvalidInputError]})
declare_headers(
    router,
    {
        "get_event": ["ETag"],
        "update_event": ["ETag"],
        "get_participant_agenda": ["Content-Disposition"],
        "get_table_agenda": ["Content-Disposition"],
    },
)
