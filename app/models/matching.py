"""What owners say about proposed matches, their alert subscriptions, and the notifications those raise."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, IdMixin, UTCDateTime, utcnow
from app.models.types import JSONType


class MatchFeedback(IdMixin, Base):
    """An owner dismissed (never show again) or bookmarked a proposed counterpart."""

    __tablename__ = "match_feedback"
    __table_args__ = (UniqueConstraint("listing_id", "candidate_id"),)

    listing_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("listing.id", ondelete="CASCADE"))
    candidate_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("listing.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MatchSubscription(IdMixin, Base):
    """Tell me when a new listing matches this listing (or this saved search) above a threshold."""

    __tablename__ = "match_subscription"
    __table_args__ = (Index("ix_match_subscription_active", "active", "kind"),)

    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"))
    listing_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("listing.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(8))  # the kind of new listings it watches: offer or demand
    query: Mapped[str | None] = mapped_column(String(200))
    filters: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    threshold: Mapped[float] = mapped_column(Float, default=0.5)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Notification(IdMixin, Base):
    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_organization_created", "organization_id", "created_at"),)

    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
