"""The connection-session API contract: events, sessions, participants, meeting requests, schedules,
agendas, outcomes and analytics."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated
from zoneinfo import available_timezones

from pydantic import AfterValidator, ConfigDict, Field, StringConstraints, model_validator

from app.scheduling.engine import UnplacedReason
from app.schema_base import RequestModel, ResponseModel
from app.validation import Day, Timestamp
from app.vocabulary import FieldCode, LanguageCode, MatchFeature, Translations

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000)]


def _timezone(value: str) -> str:
    if value not in available_timezones():
        raise ValueError(f"'{value}' is not an IANA timezone")
    return value


TimeZone = Annotated[str, AfterValidator(_timezone), Field(examples=["Asia/Ho_Chi_Minh"])]


class EventKind(StrEnum):
    MATCHMAKING = "matchmaking"
    FAIR = "fair"
    DEMO_DAY = "demo_day"
    CONFERENCE = "conference"


class EventStatus(StrEnum):
    DRAFT = "draft"
    REGISTRATION_OPEN = "registration_open"
    BOOKING_OPEN = "booking_open"
    SCHEDULED = "scheduled"
    RUNNING = "running"
    FINISHED = "finished"
    CANCELLED = "cancelled"


class RequestMode(StrEnum):
    OPT_IN = "opt_in"  # the recipient accepts or declines
    AUTO_ACCEPT = "auto_accept"  # every request that passes the rules is accepted at once


class ParticipantRole(StrEnum):
    SUPPLIER = "supplier"
    SEEKER = "seeker"
    BOTH = "both"


class RequestStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class MeetingDeclineReason(StrEnum):
    NOT_RELEVANT = "not_relevant"
    NO_TIME = "no_time"
    ALREADY_IN_CONTACT = "already_in_contact"
    WRONG_COUNTERPART = "wrong_counterpart"
    OTHER = "other"


class Outcome(StrEnum):
    NO_FURTHER_CONTACT = "no_further_contact"
    FOLLOW_UP_PLANNED = "follow_up_planned"
    NEGOTIATION = "negotiation"
    AGREEMENT_REACHED = "agreement_reached"


class SchedulePublication(StrEnum):
    PRELIMINARY = "preliminary"
    FINAL = "final"


class ParticipantStatus(StrEnum):
    INVITED = "invited"  # registered by the organiser
    REGISTERED = "registered"
    WITHDRAWN = "withdrawn"


class ScheduleStatus(StrEnum):
    NONE = "none"
    DRAFT = "draft"
    PRELIMINARY = "preliminary"
    FINAL = "final"


DEFAULT_RULES = [["supplier", "seeker"], ["both", "supplier"], ["both", "seeker"], ["both", "both"]]


class Break(RequestModel):
    starts_at: Timestamp
    ends_at: Timestamp


class SessionCreate(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "Sáng",
                    "starts_at": "2026-12-10T08:30:00+07:00",
                    "ends_at": "2026-12-10T11:50:00+07:00",
                    "meeting_minutes": 20,
                    "breaks": [{"starts_at": "2026-12-10T10:10:00+07:00", "ends_at": "2026-12-10T10:30:00+07:00"}],
                    "tables": 15,
                }
            ]
        }
    )

    name: Name
    starts_at: Timestamp
    ends_at: Timestamp
    meeting_minutes: Annotated[int, Field(description="15, 20 or 30.")] = 20
    breaks: list[Break] = Field(default_factory=list)
    tables: Annotated[int, Field(ge=0, le=1000, description="Shared tables; participants' booths come on top.")] = 10

    @model_validator(mode="after")
    def _check(self) -> SessionCreate:
        if self.meeting_minutes not in (15, 20, 30):
            raise ValueError("meeting_minutes must be 15, 20 or 30")
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


class BreakRead(ResponseModel):
    starts_at: datetime
    ends_at: datetime


class SessionRead(ResponseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    starts_at: datetime
    ends_at: datetime
    meeting_minutes: int
    breaks: list[BreakRead]
    tables: int


class ParticipantCreate(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "organization_id": "6f1c2b3d-4e5f-4a7b-8c9d-0e1f2a3b4c5d",
                    "representative": "Nguyễn Văn An",
                    "representative_email": "an.nguyen@example.vn",
                    "role": "seeker",
                    "listing_ids": ["3d9f7a1e-5b2c-4e8d-9a6f-1c2b3d4e5f60"],
                    "languages": ["vi", "en"],
                    "max_meetings": 8,
                    "unavailable_slots": [0, 1],
                }
            ]
        }
    )

    organization_id: uuid.UUID
    representative: Name
    representative_email: Annotated[str, StringConstraints(max_length=320)] | None = None
    role: ParticipantRole
    listing_ids: list[uuid.UUID] = Field(default_factory=list, max_length=20)
    languages: list[LanguageCode] = Field(default_factory=list, max_length=10)
    max_meetings: Annotated[int, Field(ge=1, le=200)] | None = None
    unavailable_slots: list[Annotated[int, Field(ge=0)]] = Field(default_factory=list, max_length=500)
    booth: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)] | None = None


class ParticipantUpdate(RequestModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"max_meetings": 6, "unavailable_slots": [7, 8]}]})

    representative: Name | None = None
    role: ParticipantRole | None = None
    listing_ids: list[uuid.UUID] | None = Field(default=None, max_length=20)
    languages: list[LanguageCode] | None = Field(default=None, max_length=10)
    max_meetings: Annotated[int, Field(ge=1, le=200)] | None = None
    unavailable_slots: list[Annotated[int, Field(ge=0)]] | None = Field(default=None, max_length=500)
    booth: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)] | None = None
    status: Annotated[str, StringConstraints(pattern="^(registered|withdrawn)$")] | None = None


class ParticipantRead(ResponseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    event_id: uuid.UUID
    organization_id: uuid.UUID
    representative: str
    representative_email: str | None
    role: ParticipantRole
    listing_ids: list[uuid.UUID]
    languages: list[str]
    max_meetings: int | None
    unavailable_slots: list[int]
    booth: str | None
    status: ParticipantStatus
    created_at: datetime


class EventCreate(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "Kết nối cung cầu công nghệ Việt Nam – Nhật Bản",
                    "name_translations": {"en": "Japan – Hai Phong technology matchmaking", "ja": "日越技術マッチング"},
                    "kind": "matchmaking",
                    "organizer_organization_id": "6f1c2b3d-4e5f-4a7b-8c9d-0e1f2a3b4c5d",
                    "field": "environment",
                    "venue": "Trung tâm Hội nghị thành phố, Hải Phòng",
                    "timezone": "Asia/Ho_Chi_Minh",
                    "request_mode": "opt_in",
                    "sessions": [
                        {
                            "name": "Sáng",
                            "starts_at": "2026-12-10T08:30:00+07:00",
                            "ends_at": "2026-12-10T11:30:00+07:00",
                            "meeting_minutes": 20,
                            "tables": 15,
                        },
                        {
                            "name": "Chiều",
                            "starts_at": "2026-12-10T13:30:00+07:00",
                            "ends_at": "2026-12-10T16:30:00+07:00",
                            "meeting_minutes": 20,
                            "tables": 15,
                        },
                    ],
                }
            ]
        }
    )

    name: Name
    name_translations: Translations = Field(default_factory=dict)
    kind: EventKind = EventKind.MATCHMAKING
    organizer_organization_id: uuid.UUID
    co_organizer_ids: list[uuid.UUID] = Field(default_factory=list, max_length=10)
    field: FieldCode | None = None
    theme: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None
    description: Text | None = None
    venue: Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)] | None = None
    online_url: Annotated[str, StringConstraints(max_length=500, pattern=r"^https?://")] | None = None
    timezone: TimeZone = "Asia/Ho_Chi_Minh"
    registration_opens_at: Timestamp | None = None
    registration_closes_at: Timestamp | None = None
    booking_opens_at: Timestamp | None = None
    booking_closes_at: Timestamp | None = None
    request_mode: RequestMode = RequestMode.OPT_IN
    request_expiry_hours: Annotated[int, Field(ge=1, le=24 * 60)] = 72
    max_requests_per_participant: Annotated[int, Field(ge=1, le=500)] = 20
    meeting_rules: list[tuple[ParticipantRole, ParticipantRole]] = Field(
        default_factory=lambda: [(ParticipantRole(a), ParticipantRole(b)) for a, b in DEFAULT_RULES],
        description="Pairs of roles that may meet (either order).",
    )
    exclusive: Annotated[
        bool, Field(description="Never two representatives of one organisation meeting the same counterpart.")
    ] = True
    fairness: Annotated[int | None, Field(ge=0, description="Max − min breaks per participant, when set.")] = None
    sessions: list[SessionCreate] = Field(default_factory=list, max_length=50)
    participants: list[ParticipantCreate] = Field(
        default_factory=list, max_length=2000, description="Organisations the organiser registers at once."
    )


class EventUpdate(RequestModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"venue": "Khách sạn Mường Thanh, Hải Phòng"}]})

    name: Name | None = None
    name_translations: Translations | None = None
    theme: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None
    description: Text | None = None
    venue: Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)] | None = None
    online_url: Annotated[str, StringConstraints(max_length=500, pattern=r"^https?://")] | None = None
    registration_opens_at: Timestamp | None = None
    registration_closes_at: Timestamp | None = None
    booking_opens_at: Timestamp | None = None
    booking_closes_at: Timestamp | None = None
    request_mode: RequestMode | None = None
    request_expiry_hours: Annotated[int, Field(ge=1, le=24 * 60)] | None = None
    max_requests_per_participant: Annotated[int, Field(ge=1, le=500)] | None = None
    meeting_rules: list[tuple[ParticipantRole, ParticipantRole]] | None = None
    exclusive: bool | None = None
    fairness: Annotated[int, Field(ge=0)] | None = None


class EventRead(ResponseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    name_translations: dict[str, str]
    kind: EventKind
    organizer_organization_id: uuid.UUID
    co_organizer_ids: list[uuid.UUID]
    field: FieldCode | None
    theme: str | None
    description: str | None
    venue: str | None
    online_url: str | None
    timezone: str
    starts_at: datetime | None
    registration_opens_at: datetime | None
    registration_closes_at: datetime | None
    booking_opens_at: datetime | None
    booking_closes_at: datetime | None
    status: EventStatus
    request_mode: RequestMode
    request_expiry_hours: int
    max_requests_per_participant: int
    meeting_rules: list[tuple[ParticipantRole, ParticipantRole]]
    exclusive: bool
    fairness: int | None
    schedule_status: ScheduleStatus
    version: int
    created_at: datetime
    updated_at: datetime


class EventDetail(EventRead):
    sessions: list[SessionRead]


class StatusChange(RequestModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"status": "registration_open"}]})

    status: EventStatus


class SlotRead(ResponseModel):
    number: int
    session_id: uuid.UUID
    session_name: str
    starts_at: datetime
    ends_at: datetime
    tables: int


class MeetingRequestCreate(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "requester_id": "0b7c2d9e-1f3a-4b5c-8d6e-7f8091a2b3c4",
                    "recipient_id": "1c8d3eaf-2a4b-4c6d-9e7f-8091a2b3c4d5",
                    "message": "Chúng tôi muốn tìm hiểu công nghệ xử lý nước thải của quý công ty.",
                }
            ]
        }
    )

    requester_id: uuid.UUID
    recipient_id: uuid.UUID
    message: Text | None = None
    session_id: Annotated[uuid.UUID | None, Field(description="Meet only in this session (e.g. the morning).")] = None


class MeetingRequestDecline(RequestModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "no_time"}]})

    reason: MeetingDeclineReason
    message: Text | None = None


class MeetingRead(ResponseModel):
    """A meeting request; once accepted and scheduled it carries its slot, time and table or booth."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    event_id: uuid.UUID
    requester_id: uuid.UUID
    recipient_id: uuid.UUID
    message: str | None
    status: RequestStatus
    decline_reason: MeetingDeclineReason | None
    expires_at: datetime | None
    responded_at: datetime | None
    session_id: uuid.UUID | None
    score: float
    slot: int | None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    table_number: int | None
    booth: str | None
    locked: bool
    published_slot: int | None
    unplaced_reason: UnplacedReason | None
    created_at: datetime


class MeetingUpdate(RequestModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"slot": 3, "table_number": 5, "locked": True}]})

    slot: Annotated[int, Field(ge=0)] | None = None
    table_number: Annotated[int, Field(ge=1)] | None = None
    locked: bool | None = None


class ScheduleRequest(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"time_limit": 10, "seed": 0, "deterministic": True, "keep_published": False}]}
    )

    time_limit: Annotated[float, Field(gt=0, le=120, description="Seconds the solver may take.")] = 10.0
    seed: int = 0
    deterministic: Annotated[
        bool,
        Field(
            description="Count the solver's work, not the clock: the same seed gives the same schedule "
            "(the clock still stops a run on a machine too busy to finish the work in time)."
        ),
    ] = True
    keep_published: Annotated[
        bool, Field(description="Lock every published meeting; otherwise published ones move as little as possible.")
    ] = False


class ObjectiveRead(ResponseModel):
    value: int
    bound: int
    gap: float
    optimal: bool


class ScheduleReport(ResponseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "status": "draft",
                    "meetings": 120,
                    "placed": 120,
                    "priority": {"value": 9480, "bound": 9480, "gap": 0.0, "optimal": True},
                    "breaks": {"value": 3, "bound": 3, "gap": 0.0, "optimal": True},
                    "moved": None,
                    "fairness_met": True,
                    "table_changes": 4,
                    "unplaced": {},
                    "seconds": 1.7,
                }
            ]
        }
    )

    status: ScheduleStatus
    meetings: int
    placed: int
    priority: ObjectiveRead | None = None
    breaks: ObjectiveRead | None = None
    moved: ObjectiveRead | None = None
    fairness_met: bool = True
    fairness_bound: int | None = Field(
        default=None, description="The event's fairness bound when computed: most breaks minus fewest, at most."
    )
    fairness_spread: int | None = Field(
        default=None, description="Most breaks minus fewest over the participants in this schedule."
    )
    unfair_accepted: bool = Field(
        default=False,
        description="The organiser published this schedule although it exceeds the fairness bound (`accept_unfair`).",
    )
    table_changes: int = 0
    unplaced: dict[str, UnplacedReason] = Field(
        default_factory=dict, description="Meeting id → why it could not be placed."
    )
    seconds: float = 0.0


class PublishRequest(RequestModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"stage": "final"}]})

    stage: SchedulePublication
    accept_unfair: bool = Field(
        default=False,
        description="Publish a schedule that exceeds the event's fairness bound (refused with 409 "
        "`UnfairScheduleNotAccepted` otherwise).",
    )


class AgendaItem(ResponseModel):
    meeting_id: uuid.UUID
    slot: int
    starts_at: datetime
    ends_at: datetime
    table_number: int | None
    booth: str | None
    counterpart_id: uuid.UUID | None = None
    counterpart: str | None = None
    participants: list[str] = Field(default_factory=list)


class Agenda(ResponseModel):
    event_id: uuid.UUID
    event: str
    owner: str
    schedule_status: ScheduleStatus
    timezone: str
    venue: str | None = None
    items: list[AgendaItem]


class OutcomeCreate(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"participant_id": "0b7c2d9e-1f3a-4b5c-8d6e-7f8091a2b3c4", "outcome": "negotiation"}]
        }
    )

    participant_id: uuid.UUID
    outcome: Outcome
    note: Text | None = None


class OutcomeRead(ResponseModel):
    model_config = ConfigDict(from_attributes=True)

    meeting_id: uuid.UUID
    participant_id: uuid.UUID
    outcome: Outcome
    note: str | None
    recorded_at: datetime


class SuggestionReason(ResponseModel):
    feature: MatchFeature
    contribution: float
    text: str


class Suggestion(ResponseModel):
    participant_id: uuid.UUID
    organization_id: uuid.UUID
    organization: str
    role: ParticipantRole
    score: float = Field(description="Reciprocal: the harmonic mean of how well each side fits the other.")
    score_for_us: float
    score_for_them: float
    reasons: list[SuggestionReason]
    requested: bool = Field(description="A request between the two is already open or accepted.")


class ParticipantCount(ResponseModel):
    participant_id: uuid.UUID
    representative: str
    requests_sent: int
    requests_received: int
    meetings: int


class Analytics(ResponseModel):
    requests: dict[str, int] = Field(description="Requests by status: pending, accepted, declined, cancelled, expired.")
    decline_reasons: dict[str, int]
    meetings_requested: int
    meetings_scheduled: int
    table_utilisation: float | None = Field(description="Meetings at shared tables ÷ table-slots offered.")
    outcomes: dict[str, int]
    participants: list[ParticipantCount]


class ProposalCreate(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "field": "environment",
                    "theme": "Xử lý nước thải",
                    "date": "2026-12-10",
                    "capacity": 40,
                    "organizer_organization_id": "6f1c2b3d-4e5f-4a7b-8c9d-0e1f2a3b4c5d",
                }
            ]
        }
    )

    field: FieldCode
    theme: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None
    date: Day
    timezone: TimeZone = "Asia/Ho_Chi_Minh"
    capacity: Annotated[int, Field(ge=4, le=500, description="Most participants.")] = 40
    tables: Annotated[int, Field(ge=1, le=200)] = 15
    organizer_organization_id: uuid.UUID
    strong_match: Annotated[float, Field(ge=0, le=1, description="Score from which a match counts as strong.")] = 0.5


class ProposedParticipant(ResponseModel):
    organization_id: uuid.UUID
    organization: str
    role: ParticipantRole
    listing_ids: list[uuid.UUID]


class CandidateMeeting(ResponseModel):
    a: uuid.UUID
    b: uuid.UUID
    score: float


class Proposal(ResponseModel):
    theme: str
    participants: list[ProposedParticipant]
    candidate_meetings: list[CandidateMeeting]
    expected_strong_matches: int
    event: EventCreate = Field(description="POST this to /api/v1/events to create the session in one call.")
