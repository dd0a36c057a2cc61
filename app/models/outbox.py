"""The transactional outbox: changes and domain events, written in the same transaction.

Each consumer reads its own topics (`index_name`): the search indexer the indexes, the webhook
dispatcher `webhooks`; each marks only its own rows processed.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime, utcnow
from app.models.types import JSONType


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
    # What happened, for consumers that need more than the record's id (webhook events).
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
