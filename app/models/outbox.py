"""The transactional outbox: changes to searchable records, written in the same transaction."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime, utcnow


class OutboxEvent(Base):
    """ "Record `record_id` of `index_name` changed": the indexer re-reads it and updates the index."""

    __tablename__ = "outbox_event"
    __table_args__ = (
        Index("ix_outbox_event_pending", "processed_at", "id"),
        # The change feed reads each record's latest change.
        Index("ix_outbox_event_record", "index_name", "record_id", "id"),
    )

    # INTEGER PRIMARY KEY on SQLite (its rowid), BIGINT identity on PostgreSQL: the order of changes.
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    index_name: Mapped[str] = mapped_column(String(32))
    record_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
