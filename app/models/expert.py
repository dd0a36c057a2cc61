"""Experts: people who can solve a need, and the consultation requests organisations send them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, IdMixin, TimestampMixin, UTCDateTime, utcnow
from app.models.types import JSONType


class Expert(IdMixin, TimestampMixin, Base):
    """A person profile, owned by an organisation: the expert's own (self-listed) or the employer that lists
    its staff with the person's consent recorded."""

    __tablename__ = "expert"
    __table_args__ = (
        Index("ix_expert_organization_id", "organization_id"),
        Index("ix_expert_country", "country"),
        Index("ix_expert_last_confirmed_at", "last_confirmed_at"),
        UniqueConstraint("source", "external_id"),
    )

    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"))
    # The expert's own account when the profile is self-listed; None when an organisation lists its staff.
    account_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    created_by_account_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    listed_by: Mapped[str] = mapped_column(String(16))  # self | organization
    consent: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    version: Mapped[int] = mapped_column(Integer, default=1)

    name: Mapped[str] = mapped_column(String(200))
    title: Mapped[str | None] = mapped_column(String(200))
    affiliation_organization_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("organization.id", ondelete="SET NULL")
    )
    affiliation: Mapped[str | None] = mapped_column(String(300))
    country: Mapped[str] = mapped_column(String(2))
    city: Mapped[str | None] = mapped_column(String(128))
    overseas_vietnamese: Mapped[bool] = mapped_column(Boolean, default=False)
    languages: Mapped[list[str]] = mapped_column(JSONType, default=list)
    headline: Mapped[str] = mapped_column(String(300), default="")
    bio: Mapped[str] = mapped_column(Text, default="")
    concepts: Mapped[list[str]] = mapped_column(JSONType, default=list)
    inferred_concepts: Mapped[list[str]] = mapped_column(JSONType, default=list)
    keywords: Mapped[list[str]] = mapped_column(JSONType, default=list)
    industry_years: Mapped[int] = mapped_column(Integer, default=0)
    highest_trl: Mapped[int | None] = mapped_column(Integer)
    publications_count: Mapped[int] = mapped_column(Integer, default=0)
    patents_count: Mapped[int] = mapped_column(Integer, default=0)
    orcid: Mapped[str | None] = mapped_column(String(19))
    offers: Mapped[list[str]] = mapped_column(JSONType, default=list)
    availability: Mapped[str] = mapped_column(String(16), default="available")
    fee_basis: Mapped[str] = mapped_column(String(16), default="negotiable")
    contact: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    visibility: Mapped[dict[str, str]] = mapped_column(JSONType, default=dict)
    last_confirmed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reminder_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Provenance: NULL for profiles created here; the import source and the row's id otherwise.
    source: Mapped[str | None] = mapped_column(String(64))
    external_id: Mapped[str | None] = mapped_column(String(128))

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class ExpertVector(Base):
    """The meaning of an expert's public words (app/matching/semantic.py), kept by the indexer as the
    profile changes (app/experts/vectors.py); goes with the profile."""

    __tablename__ = "expert_vector"

    expert_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("expert.id", ondelete="CASCADE"), primary_key=True)
    # The profile's state the vector was made of: older than the profile's `updated_at`, it is made again.
    expert_updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    model: Mapped[str] = mapped_column(String(64))
    digest: Mapped[str] = mapped_column(String(64))  # of the model and the words: unchanged words, same vector
    language: Mapped[str] = mapped_column(String(2))  # of the words: likeness is standardised per language
    vector: Mapped[bytes] = mapped_column(LargeBinary)


class ConsultationRequest(IdMixin, TimestampMixin, Base):
    """An organisation asks an expert for help about a demand, an offer or a deal."""

    __tablename__ = "consultation_request"
    __table_args__ = (
        Index("ix_consultation_request_requester_created", "requester_organization_id", "created_at"),
        Index("ix_consultation_request_expert_id", "expert_id"),
    )

    expert_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("expert.id", ondelete="CASCADE"))
    # The expert's owning organisation when asked: who answers.
    expert_organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"))
    requester_organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"))
    requester_account_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    subject_kind: Mapped[str | None] = mapped_column(String(8))  # demand | offer | deal
    subject_id: Mapped[uuid.UUID | None] = mapped_column()
    message: Mapped[str] = mapped_column(String(4000))
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | accepted | declined
    decline_reason: Mapped[str | None] = mapped_column(String(500))
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(String(16))  # advice_given | engaged | no_fit
    outcome_note: Mapped[str | None] = mapped_column(String(2000))
    outcome_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
