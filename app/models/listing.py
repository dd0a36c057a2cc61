"""Listings: technology offers (supply) and demands (needs), in one table with a `kind`."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, IdMixin, TimestampMixin, UTCDateTime
from app.models.types import ExactNumeric, JSONType

BROWSE_COLUMNS = [
    "id",
    "field",
    "ip_status",
    "trl",
    "min_trl",
    "organization_id",
    "country",
    "province",
    "language",
    "proposed_for_city",
    "price_min",
    "budget_min",
    "created_at",
    "updated_at",
    "transfer_types",
]


class Listing(IdMixin, TimestampMixin, Base):
    __tablename__ = "listing"
    __table_args__ = (
        Index("ix_listing_browse", "kind", "status", "field", "created_at"),
        # Public browsing filters on visibility (kind, status, expires_at) and then on any of the
        # included columns: on PostgreSQL the count and the page's ids come from the index alone.
        Index(
            "ix_listing_kind_status_expires",
            "kind",
            "status",
            "expires_at",
            postgresql_include=BROWSE_COLUMNS,
        ),
        Index("ix_listing_organization_id", "organization_id"),
        Index("ix_listing_kind_trl", "kind", "trl"),
        Index("ix_listing_kind_country_province", "kind", "country", "province"),
        Index("ix_listing_concepts", "concepts", postgresql_using="gin"),
        # The external key of imported and harvested listings: re-importing updates, never duplicates.
        UniqueConstraint("source", "external_id"),
    )

    kind: Mapped[str] = mapped_column(String(8))
    reference: Mapped[str] = mapped_column(String(32), unique=True)
    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organization.id", ondelete="RESTRICT"))
    created_by_account_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer, default=1)

    language: Mapped[str] = mapped_column(String(2))
    title: Mapped[str] = mapped_column(String(256))
    summary: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(Text, default="")
    translations: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)

    field: Mapped[str] = mapped_column(String(32))
    concepts: Mapped[list[str]] = mapped_column(JSONType, default=list)
    # Concepts found in the texts (app.matching.concepts), kept apart from the owner's own.
    inferred_concepts: Mapped[list[str]] = mapped_column(JSONType, default=list)
    transfer_types: Mapped[list[str]] = mapped_column(JSONType, default=list)
    target_countries: Mapped[list[str]] = mapped_column(JSONType, default=list)
    languages: Mapped[list[str]] = mapped_column(JSONType, default=list)
    contact: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    country: Mapped[str] = mapped_column(String(2))
    province: Mapped[str | None] = mapped_column(String(128))
    visibility: Mapped[str] = mapped_column(String(16), default="public")
    currency: Mapped[str] = mapped_column(String(3), default="VND")

    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The validity its owner was last warned about (`listing.expiring`); a renewal moves `expires_at`
    # past it, so the next approach of the end is announced again.
    expiry_warned_for: Mapped[datetime | None] = mapped_column(UTCDateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rejection_reason: Mapped[str | None] = mapped_column(String(2000))

    # Offers
    trl: Mapped[int | None] = mapped_column(Integer)
    ip_status: Mapped[str | None] = mapped_column(String(32))
    patent_numbers: Mapped[list[str]] = mapped_column(JSONType, default=list)
    advantages: Mapped[str | None] = mapped_column(String(2000))
    applications: Mapped[str | None] = mapped_column(Text)
    evidence: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    price_min: Mapped[Decimal | None] = mapped_column(ExactNumeric(20, 2))
    price_max: Mapped[Decimal | None] = mapped_column(ExactNumeric(20, 2))
    support_included: Mapped[bool | None] = mapped_column(Boolean)
    origin_country: Mapped[str | None] = mapped_column(String(2))
    origin_kind: Mapped[str | None] = mapped_column(String(32))
    proposed_for_city: Mapped[bool | None] = mapped_column(Boolean)

    # Demands
    problem_statement: Mapped[str | None] = mapped_column(Text)
    requirements: Mapped[str | None] = mapped_column(Text)
    min_trl: Mapped[int | None] = mapped_column(Integer)
    budget_min: Mapped[Decimal | None] = mapped_column(ExactNumeric(20, 2))
    budget_max: Mapped[Decimal | None] = mapped_column(ExactNumeric(20, 2))
    wanted_by: Mapped[date | None] = mapped_column(Date)
    deployment_province: Mapped[str | None] = mapped_column(String(128))
    co_development: Mapped[bool | None] = mapped_column(Boolean)

    # Provenance: NULL for this exchange's own listings; the import or harvest source otherwise.
    source: Mapped[str | None] = mapped_column(String(64))
    external_id: Mapped[str | None] = mapped_column(String(128))
    origin_url: Mapped[str | None] = mapped_column(String(512))

    # Optimistic concurrency: every UPDATE checks and bumps `version` (the ETag).
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class ReferenceCounter(Base):
    """Per-day sequence behind human reference codes such as `TO-VN-20261122-0007`."""

    __tablename__ = "reference_counter"

    prefix: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(Integer)


class IdempotencyRecord(IdMixin, Base):
    """The first response to a POST carrying an `Idempotency-Key`, replayed for retries."""

    __tablename__ = "idempotency_record"
    __table_args__ = (UniqueConstraint("scope", "key"),)

    scope: Mapped[str] = mapped_column(String(80))
    key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    body: Mapped[Any] = mapped_column(JSONType)
    headers: Mapped[dict[str, str]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
