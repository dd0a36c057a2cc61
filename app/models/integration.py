"""Bulk imports and harvest state: the records behind `/imports` and `techex harvest`."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, IdMixin, UTCDateTime, utcnow
from app.models.types import JSONType


class ImportJob(IdMixin, Base):
    """One uploaded file: its mapping, the dry-run or commit outcome, and the rows it rejected."""

    __tablename__ = "import_job"

    kind: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(256))
    mode: Mapped[str] = mapped_column(String(16))  # dry_run | commit
    on_duplicate: Mapped[str] = mapped_column(String(8))
    # Listings are published at once (staff vetted the survey) or left as drafts for their owners.
    publish: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16))  # pending | running | finished | failed
    created_by_account_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    # The importing staff member's organisation; null for `techex import` from the command line.
    organization_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organization.id", ondelete="SET NULL"))
    # The uploaded file, kept so that a dry run can be committed without uploading it again.
    content: Mapped[bytes] = mapped_column(LargeBinary)
    mapping: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    total_rows: Mapped[int] = mapped_column(Integer, default=0)
    processed_rows: Mapped[int] = mapped_column(Integer, default=0)
    counts: Mapped[dict[str, int]] = mapped_column(JSONType, default=dict)
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    error_file: Mapped[bytes | None] = mapped_column(LargeBinary)
    failure: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class HarvestState(Base):
    """Where the harvest of one source stands: the feed cursor after the last committed page."""

    __tablename__ = "harvest_state"

    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    url: Mapped[str] = mapped_column(String(512))
    cursor: Mapped[str | None] = mapped_column(String(256))
    harvested: Mapped[int] = mapped_column(Integer, default=0)
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class TaxonomyState(Base):
    """Which taxonomy and tagger the stored inferred concepts come from (one row): when a release changes
    either, the indexer infers every listing's and profile's concepts again, then records the new one."""

    __tablename__ = "taxonomy_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)  # always 1
    digest: Mapped[str] = mapped_column(String(64))
    retagged_at: Mapped[datetime] = mapped_column(UTCDateTime)
