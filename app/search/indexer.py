"""The indexer: drains the outbox into the search backend, in order, in batches.

For each batch it reads the current state of the records named by the events
(so applying an event twice, or out of date, converges on the database),
applies upserts and deletes to the backend, and only then marks the events
processed. A crash anywhere replays the batch; nothing is lost, nothing is
indexed twice (documents are replaced by id).

One indexer drains at a time: on PostgreSQL an advisory lock elects it, so
several `techex worker` processes can run as standbys.

When the outbox is empty it also brings the experts' vectors up to date
(app/experts/vectors.py), a few profiles at a time: embedding is slow, and the
search index is never kept waiting for it. After a release that changed the
taxonomy or the tagger it infers the stored concepts again, a page at a time
(app/taxonomy/retag.py).
"""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncConnection

from app.db import Database, unit_of_work
from app.experts import vectors
from app.metrics import INDEXER_BATCH_DURATION, INDEXER_BATCHES, INDEXER_DOCUMENTS
from app.models import OutboxEvent
from app.models.base import utcnow
from app.search import repository
from app.search.backend import SearchBackend
from app.search.documents import expert_document, listing_document, organization_document
from app.search.index_config import DEMANDS, EXPERTS, OFFERS, ORGANIZATIONS
from app.sql import release_advisory_locks, try_advisory_lock
from app.taxonomy import retag

log = structlog.get_logger(__name__)
ADVISORY_LOCK_KEY = 0x7465_6368_6578  # "techex"
MAX_BACKOFF_SECONDS = 30.0
# Per index: documents to add or replace, and ids to delete.
Changes = dict[str, tuple[list[dict[str, Any]], list[str]]]


def searchable(listing: Any) -> bool:
    """The index holds published listings; expiry is applied at query time."""
    return bool(listing.status == "published")


class Indexer:
    def __init__(self, database: Database, backend: SearchBackend, batch_size: int = 500) -> None:
        self.database = database
        self.backend = backend
        self.batch_size = batch_size
        self._lock_connection: AsyncConnection | None = None
        self._retag = retag.RetagPass()  # stored concepts inferred again once a release changes the taxonomy

    async def drain_once(self) -> int:
        """Apply one batch of pending events; returns how many events it processed."""
        events, changes = await self._read_batch(after_id=0)
        if events:
            await self._apply_batch(events, changes)
        return len(events)

    async def _read_batch(self, after_id: int) -> tuple[list[OutboxEvent], Changes]:
        async with unit_of_work(self.database.reader) as session:
            events = await repository.pending_events(session, self.batch_size, after_id=after_id)
            return events, (await self._changes(session, events) if events else {})

    async def _apply_batch(self, events: list[OutboxEvent], changes: Changes) -> None:
        with INDEXER_BATCH_DURATION.time():
            for index_name, (upserts, deletes) in changes.items():
                await self.backend.apply(index_name, upserts, deletes)
            async with unit_of_work(self.database.writer) as session:
                await repository.mark_processed(session, [e.id for e in events], utcnow())
        INDEXER_BATCHES.inc()
        INDEXER_DOCUMENTS.inc(len(events))

    async def _changes(self, session: Any, events: list[OutboxEvent]) -> Changes:
        by_index: dict[str, list[uuid.UUID]] = defaultdict(list)
        for event in events:
            if event.record_id not in by_index[event.index_name]:
                by_index[event.index_name].append(event.record_id)
        changes: Changes = {}
        if by_index.get(ORGANIZATIONS):
            organizations = await repository.organizations(session, by_index[ORGANIZATIONS])
            changes[ORGANIZATIONS] = (
                [organization_document(organizations[i]) for i in by_index[ORGANIZATIONS] if i in organizations],
                [str(i) for i in by_index[ORGANIZATIONS] if i not in organizations],
            )
            # Listing documents carry their owner's name and verification: refresh them too.
            for listing_id, kind in await repository.listing_ids_of(session, list(organizations)):
                target = OFFERS if kind == "offer" else DEMANDS
                if listing_id not in by_index[target]:
                    by_index[target].append(listing_id)
        if by_index.get(EXPERTS):
            experts = await repository.experts(session, by_index[EXPERTS])
            changes[EXPERTS] = (
                [expert_document(experts[i]) for i in by_index[EXPERTS] if i in experts],
                [str(i) for i in by_index[EXPERTS] if i not in experts],
            )
        for index_name in (OFFERS, DEMANDS):
            ids = by_index.get(index_name, [])
            if not ids:
                continue
            found = await repository.listings_with_owners(session, ids)
            upserts = [listing_document(*found[i]) for i in ids if i in found and searchable(found[i][0])]
            deletes = [str(i) for i in ids if i not in found or not searchable(found[i][0])]
            changes[index_name] = (upserts, deletes)
        return changes

    async def drain(self) -> int:
        """Drain until nothing is pending, expert vectors included, reading the next batch while the
        previous one is applied.

        Batches are still applied in order, and each reads the records' current state, so the
        overlap changes nothing but the time it takes.
        """
        total, after_id = 0, 0
        applying: asyncio.Task[None] | None = None
        while True:
            if applying is not None and self.database.one_connection:
                await applying
                applying = None
            events, changes = await self._read_batch(after_id)
            if applying is not None:
                await applying
            if not events:
                while made := await vectors.catch_up(self.database):
                    total += made
                if await retag.step(self.database, self._retag):
                    continue  # the records it changed are queued: index them too
                return total
            after_id = events[-1].id
            total += len(events)
            applying = asyncio.create_task(self._apply_batch(events, changes))

    async def is_leader(self) -> bool:
        if self.database.engine.dialect.name != "postgresql":
            return True  # SQLite: one process by design
        try:
            if self._lock_connection is None:
                self._lock_connection = await self.database.engine.connect()
                await self._lock_connection.execution_options(isolation_level="AUTOCOMMIT")
            return await try_advisory_lock(self._lock_connection, ADVISORY_LOCK_KEY)
        except Exception:
            await self.close()  # a broken connection lost the lock: start afresh next time
            raise

    async def run_forever(self, poll_seconds: float = 0.1) -> None:
        """Drain continuously; on failure retry with exponential backoff. A search outage never reaches writers."""
        backoff = poll_seconds
        while True:
            try:
                if not await self.is_leader():
                    await asyncio.sleep(1.0)
                    continue
                processed = (
                    await self.drain_once()
                    or await vectors.catch_up(self.database)
                    or await retag.step(self.database, self._retag)
                )
                backoff = poll_seconds
                if not processed:
                    await asyncio.sleep(poll_seconds)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.warning("indexer_retry", error=repr(error), retry_in_seconds=backoff)
                await self._record_failure(repr(error))
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)

    async def _record_failure(self, error: str) -> None:
        try:
            async with unit_of_work(self.database.writer) as session:
                events = await repository.pending_events(session, self.batch_size)
                await repository.record_failure(session, [e.id for e in events], error)
        except Exception:
            log.exception("indexer_failure_not_recorded")

    async def close(self) -> None:
        """Give up leadership: the lock belongs to the connection, which goes back to the pool."""
        if self._lock_connection is not None:
            connection, self._lock_connection = self._lock_connection, None
            try:
                await release_advisory_locks(connection)
            except Exception:  # a dead connection holds no lock
                await connection.invalidate()
            await connection.close()
