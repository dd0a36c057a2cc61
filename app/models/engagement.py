"""Intermediary services (requests, quotes), valuation worksheets and the follow-up of signed deals."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, IdMixin, TimestampMixin, UTCDateTime, utcnow
from app.models.types import ExactNumeric, JSONType


class ServiceRequest(IdMixin, TimestampMixin, Base):
    """A party asks intermediaries for a service (appraisal, valuation, legal …) on an offer, demand,
    interest or deal; providers quote, the requester accepts one quote, the provider delivers."""

    __tablename__ = "service_request"
    __table_args__ = (
        Index("ix_service_request_requester", "requester_organization_id"),
        Index("ix_service_request_provider", "provider_organization_id"),
        Index("ix_service_request_status", "status", "quotes_until"),
        Index("ix_service_request_deal_id", "deal_id"),
    )

    service_type: Mapped[str] = mapped_column(String(32))
    subject_type: Mapped[str] = mapped_column(String(16))
    listing_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("listing.id", ondelete="SET NULL"))
    interest_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("interest.id", ondelete="SET NULL"))
    deal_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("deal.id", ondelete="SET NULL"))
    requester_organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"))
    created_by_account_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(256))
    description: Mapped[str | None] = mapped_column(Text)
    quotes_until: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default="open")
    # The chosen provider: an intermediary organisation today; `provider_kind` leaves room for experts.
    accepted_quote_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)  # no FK: the quote table refers here
    provider_kind: Mapped[str | None] = mapped_column(String(16))
    provider_organization_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("organization.id", ondelete="SET NULL")
    )
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    requester_rating: Mapped[int | None] = mapped_column(Integer)  # the requester rates the provider
    requester_comment: Mapped[str | None] = mapped_column(Text)
    provider_rating: Mapped[int | None] = mapped_column(Integer)  # the provider rates the requester
    provider_comment: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class ServiceQuote(IdMixin, Base):
    """A provider's offer to do the requested service: fee, currency and days to deliver."""

    __tablename__ = "service_quote"
    __table_args__ = (Index("ix_service_quote_request", "service_request_id", "created_at"),)

    service_request_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("service_request.id", ondelete="CASCADE"))
    provider_kind: Mapped[str] = mapped_column(String(16), default="organization")
    provider_organization_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE")
    )
    created_by_account_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    fee: Mapped[Decimal] = mapped_column(ExactNumeric(20, 2))
    currency: Mapped[str] = mapped_column(String(3))
    days: Mapped[int] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="submitted")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Valuation(IdMixin, TimestampMixin, Base):
    """A valuation worksheet: every assumption of the three approaches, as entered; results are computed."""

    __tablename__ = "valuation"
    __table_args__ = (Index("ix_valuation_organization", "organization_id", "created_at"),)

    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"))
    created_by_account_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    service_request_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("service_request.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(256))
    field: Mapped[str] = mapped_column(String(32))
    concepts: Mapped[list[str]] = mapped_column(JSONType, default=list)
    currency: Mapped[str] = mapped_column(String(3), default="VND")
    inputs: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)


class DealMilestone(IdMixin, Base):
    """A step of a signed deal's execution: delivery, installation, training, acceptance."""

    __tablename__ = "deal_milestone"
    __table_args__ = (UniqueConstraint("deal_id", "kind"),)

    deal_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("deal.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    position: Mapped[int] = mapped_column(Integer)
    due_on: Mapped[date | None] = mapped_column(Date)
    done_on: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class DealCheckIn(IdMixin, Base):
    """A check-in after transfer (3, 6, 12 months after signature) where each party reports."""

    __tablename__ = "deal_check_in"
    __table_args__ = (
        UniqueConstraint("deal_id", "month"),
        Index("ix_deal_check_in_due", "due_on"),
    )

    deal_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("deal.id", ondelete="CASCADE"))
    month: Mapped[int] = mapped_column(Integer)
    due_on: Mapped[date] = mapped_column(Date)
    overdue_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CheckInReport(IdMixin, Base):
    """One party's report at a check-in: how the technology is used and what it brought."""

    __tablename__ = "check_in_report"
    __table_args__ = (UniqueConstraint("check_in_id", "side"),)

    check_in_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("deal_check_in.id", ondelete="CASCADE"))
    side: Mapped[str] = mapped_column(String(8))
    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"))
    account_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(16))
    jobs: Mapped[int | None] = mapped_column(Integer)
    revenue: Mapped[Decimal | None] = mapped_column(ExactNumeric(20, 2))
    cost_saved: Mapped[Decimal | None] = mapped_column(ExactNumeric(20, 2))
    currency: Mapped[str] = mapped_column(String(3), default="VND")
    note: Mapped[str | None] = mapped_column(Text)
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
