"""Organisations: every account, listing and deal belongs to one."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, IdMixin, TimestampMixin, UTCDateTime
from app.models.types import JSONType


class Organization(IdMixin, TimestampMixin, Base):
    __tablename__ = "organization"
    __table_args__ = (
        Index("ix_organization_kind_country", "kind", "country"),
        Index("ix_organization_name", "name"),
        UniqueConstraint("source", "external_id"),
    )

    name: Mapped[str] = mapped_column(String(256))
    name_i18n: Mapped[dict[str, str]] = mapped_column(JSONType, default=dict)
    kind: Mapped[str] = mapped_column(String(32))
    country: Mapped[str] = mapped_column(String(2))
    province: Mapped[str | None] = mapped_column(String(128))
    registration_code: Mapped[str | None] = mapped_column(String(64))
    website: Mapped[str | None] = mapped_column(String(512))
    description: Mapped[str | None] = mapped_column(Text)
    description_i18n: Mapped[dict[str, str]] = mapped_column(JSONType, default=dict)
    sectors: Mapped[list[str]] = mapped_column(JSONType, default=list)
    size_band: Mapped[str | None] = mapped_column(String(16))
    languages: Mapped[list[str]] = mapped_column(JSONType, default=list)
    services: Mapped[list[str]] = mapped_column(JSONType, default=list)
    is_network: Mapped[bool] = mapped_column(Boolean, default=False)
    contact: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    verified: Mapped[bool] = mapped_column(Boolean, default=False)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Provenance: NULL for this exchange's own organisations; the import or harvest source otherwise.
    source: Mapped[str | None] = mapped_column(String(64))
    external_id: Mapped[str | None] = mapped_column(String(128))
    origin_url: Mapped[str | None] = mapped_column(String(512))
