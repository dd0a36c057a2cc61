"""Connection sessions: events, their time blocks, participants, meeting requests (which become the
scheduled meetings once accepted) and what each side says came of a meeting."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, IdMixin, TimestampMixin, UTCDateTime, utcnow
from app.models.types import JSONType


class Event(IdMixin, TimestampMixin, Base):
    __tablename__ = "event"
    __table_args__ = (Index("ix_event_status_starts", "status", "starts_at"),)

    name: Mapped[str] = mapped_column(String(200))
    name_translations: Mapped[dict[str, str]] = mapped_column(JSONType, default=dict)  # en / ja
    kind: Mapped[str] = mapped_column(String(16))
    organizer_organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organization.id", ondelete="RESTRICT"))
    co_organizer_ids: Mapped[list[str]] = mapped_column(JSONType, default=list)
    field: Mapped[str | None] = mapped_column(String(32))
    theme: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    venue: Mapped[str | None] = mapped_column(String(300))
    online_url: Mapped[str | None] = mapped_column(String(500))
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Ho_Chi_Minh")
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    registration_opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    registration_closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    booking_opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    booking_closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(20), default="draft")
    request_mode: Mapped[str] = mapped_column(String(12), default="opt_in")
    request_expiry_hours: Mapped[int] = mapped_column(Integer, default=72)
    max_requests_per_participant: Mapped[int] = mapped_column(Integer, default=20)
    meeting_rules: Mapped[list[list[str]]] = mapped_column(JSONType, default=list)
    exclusive: Mapped[bool] = mapped_column(Boolean, default=True)
    fairness: Mapped[int | None] = mapped_column(Integer)
    schedule_status: Mapped[str] = mapped_column(String(12), default="none")  # none/draft/preliminary/final
    schedule_report: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class EventSession(IdMixin, Base):
    """A time block (morning, afternoon …) cut into meeting slots of one length."""

    __tablename__ = "event_session"
    __table_args__ = (Index("ix_event_session_event", "event_id", "starts_at"),)

    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    meeting_minutes: Mapped[int] = mapped_column(Integer, default=20)
    breaks: Mapped[list[dict[str, str]]] = mapped_column(JSONType, default=list)  # [{starts_at, ends_at}]
    tables: Mapped[int] = mapped_column(Integer, default=10)


class EventParticipant(IdMixin, TimestampMixin, Base):
    __tablename__ = "event_participant"
    __table_args__ = (
        UniqueConstraint("event_id", "organization_id", "representative"),
        Index("ix_event_participant_organization", "organization_id"),
    )

    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"))
    representative: Mapped[str] = mapped_column(String(200))
    representative_email: Mapped[str | None] = mapped_column(String(320))
    role: Mapped[str] = mapped_column(String(10))  # supplier / seeker / both
    listing_ids: Mapped[list[str]] = mapped_column(JSONType, default=list)
    languages: Mapped[list[str]] = mapped_column(JSONType, default=list)
    max_meetings: Mapped[int | None] = mapped_column(Integer)
    unavailable_slots: Mapped[list[int]] = mapped_column(JSONType, default=list)
    booth: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(12), default="registered")  # registered / invited / withdrawn


class MeetingRequest(IdMixin, TimestampMixin, Base):
    """A request to meet; once accepted it is a meeting the scheduler places in a slot and at a table."""

    __tablename__ = "meeting_request"
    __table_args__ = (
        Index("ix_meeting_request_event_status", "event_id", "status"),
        Index("ix_meeting_request_requester", "requester_id"),
        Index("ix_meeting_request_recipient", "recipient_id"),
    )

    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    requester_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("event_participant.id", ondelete="CASCADE"))
    recipient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("event_participant.id", ondelete="CASCADE"))
    message: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    decline_reason: Mapped[str | None] = mapped_column(String(32))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    session_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("event_session.id", ondelete="SET NULL"))
    score: Mapped[float] = mapped_column(Float, default=0.0)  # reciprocal match score when sent
    slot: Mapped[int | None] = mapped_column(Integer)  # current (draft or published) schedule
    table_number: Mapped[int | None] = mapped_column(Integer)
    booth: Mapped[str | None] = mapped_column(String(32))
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    published_slot: Mapped[int | None] = mapped_column(Integer)
    unplaced_reason: Mapped[str | None] = mapped_column(String(24))


class MeetingOutcome(IdMixin, Base):
    __tablename__ = "meeting_outcome"
    __table_args__ = (UniqueConstraint("meeting_id", "participant_id"),)

    meeting_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("meeting_request.id", ondelete="CASCADE"))
    participant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("event_participant.id", ondelete="CASCADE"))
    outcome: Mapped[str] = mapped_column(String(24))
    note: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
