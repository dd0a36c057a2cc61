"""Expressions of interest (with their message threads) and deals (technology transactions)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, IdMixin, TimestampMixin, UTCDateTime, utcnow
from app.models.types import ExactNumeric


class Interest(IdMixin, TimestampMixin, Base):
    """An organisation's interest in a listing; the owner accepts or declines it."""

    __tablename__ = "interest"
    __table_args__ = (
        Index("ix_interest_listing_id", "listing_id"),
        Index("ix_interest_from_organization_id", "from_organization_id"),
    )

    listing_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("listing.id", ondelete="CASCADE"))
    listing_owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"))
    from_organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"))
    created_by_account_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    message: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    decline_reason: Mapped[str | None] = mapped_column(String(32))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class InterestMessage(IdMixin, Base):
    __tablename__ = "interest_message"
    __table_args__ = (Index("ix_interest_message_interest_id", "interest_id", "created_at"),)

    interest_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("interest.id", ondelete="CASCADE"))
    author_organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"))
    author_account_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Deal(IdMixin, TimestampMixin, Base):
    """A technology transaction: who sold what to whom, for how much, of which origin."""

    __tablename__ = "deal"
    __table_args__ = (
        Index("ix_deal_signed_on", "signed_on"),
        Index("ix_deal_supplier", "supplier_organization_id"),
        Index("ix_deal_buyer", "buyer_organization_id"),
    )

    reference: Mapped[str] = mapped_column(String(32), unique=True)
    offer_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("listing.id", ondelete="SET NULL"))
    demand_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("listing.id", ondelete="SET NULL"))
    interest_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("interest.id", ondelete="SET NULL"))
    source: Mapped[str] = mapped_column(String(16))
    source_reference: Mapped[str | None] = mapped_column(String(64))
    supplier_organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organization.id", ondelete="RESTRICT"))
    buyer_organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organization.id", ondelete="RESTRICT"))
    broker_organization_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organization.id", ondelete="SET NULL"))
    created_by_organization_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("organization.id", ondelete="SET NULL")
    )
    title: Mapped[str] = mapped_column(String(256))
    deal_type: Mapped[str] = mapped_column(String(32))
    field: Mapped[str] = mapped_column(String(32))
    value: Mapped[Decimal | None] = mapped_column(ExactNumeric(20, 2))
    currency: Mapped[str] = mapped_column(String(3), default="VND")
    vnd_rate: Mapped[Decimal] = mapped_column(ExactNumeric(20, 6), default=Decimal(1))
    value_vnd: Mapped[Decimal | None] = mapped_column(ExactNumeric(24, 2))
    stage: Mapped[str] = mapped_column(String(16), default="negotiating")
    signed_on: Mapped[date | None] = mapped_column(Date)
    started_on: Mapped[date | None] = mapped_column(Date)
    completed_on: Mapped[date | None] = mapped_column(Date)
    cancelled_on: Mapped[date | None] = mapped_column(Date)
    ip_transferred: Mapped[bool] = mapped_column(Boolean, default=False)
    origin: Mapped[str] = mapped_column(String(32))
    origin_country: Mapped[str] = mapped_column(String(2))
    developed_economy: Mapped[bool] = mapped_column(Boolean, default=False)
    confidential: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[int] = mapped_column(Integer, default=1)
    notes: Mapped[str | None] = mapped_column(Text)

    # A deal counts in the statistics only once confirmed: by both parties (each itself or through
    # its mandated broker), or by a moderator; above the plausibility bound, by a moderator as well.
    confirmation: Mapped[str] = mapped_column(String(24), default="unconfirmed")
    supplier_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    buyer_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    moderator_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012
