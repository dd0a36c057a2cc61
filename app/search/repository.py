"""Queries of the search side: the outbox and the records documents are made from."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Expert, Listing, Organization, OutboxEvent
from app.search.index_config import INDEXES


async def pending_events(session: AsyncSession, limit: int, after_id: int = 0) -> list[OutboxEvent]:
    statement = (
        select(OutboxEvent)
        .where(OutboxEvent.processed_at.is_(None), OutboxEvent.id > after_id, OutboxEvent.index_name.in_(INDEXES))
        .order_by(OutboxEvent.id)
        .limit(limit)
    )
    return list((await session.scalars(statement)).all())


async def mark_processed(session: AsyncSession, event_ids: list[int], now: datetime) -> None:
    await session.execute(
        update(OutboxEvent)
        .where(OutboxEvent.id.in_(event_ids), OutboxEvent.processed_at.is_(None))
        .values(processed_at=now)
    )


async def record_failure(session: AsyncSession, event_ids: list[int], error: str) -> None:
    await session.execute(
        update(OutboxEvent)
        .where(OutboxEvent.id.in_(event_ids))
        .values(attempts=OutboxEvent.attempts + 1, last_error=error[:500])
    )


async def reopen_after(session: AsyncSession, index_name: str, last_id: int) -> None:
    """Events newer than a rebuild's snapshot are applied again, to the new index."""
    await session.execute(
        update(OutboxEvent)
        .where(OutboxEvent.index_name == index_name, OutboxEvent.id > last_id)
        .values(processed_at=None)
    )


async def last_event_id(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.max(OutboxEvent.id)).where(OutboxEvent.index_name.in_(INDEXES))) or 0)


async def lag(session: AsyncSession) -> tuple[int, datetime | None]:
    """Pending events and the time of the oldest one."""
    row = (
        await session.execute(
            select(func.count(), func.min(OutboxEvent.created_at)).where(
                OutboxEvent.processed_at.is_(None), OutboxEvent.index_name.in_(INDEXES)
            )
        )
    ).one()
    return int(row[0]), row[1]


async def listings_with_owners(session: AsyncSession, ids: list[uuid.UUID]) -> dict[uuid.UUID, tuple[Any, Any]]:
    """Listing rows and their owners' rows, read as plain rows: the indexer reads thousands at a time,
    and rows have the same attributes as the mapped objects at a fraction of the cost."""
    listings = (await session.execute(select(Listing.__table__).where(Listing.id.in_(ids)))).all()
    owner_ids = {row.organization_id for row in listings}
    owners = {
        row.id: row
        for row in (await session.execute(select(Organization.__table__).where(Organization.id.in_(owner_ids)))).all()
    }
    return {row.id: (row, owners[row.organization_id]) for row in listings}


async def listing_ids_of(session: AsyncSession, organization_ids: list[uuid.UUID]) -> list[tuple[uuid.UUID, str]]:
    rows = await session.execute(select(Listing.id, Listing.kind).where(Listing.organization_id.in_(organization_ids)))
    return [(row[0], row[1]) for row in rows]


async def organizations(session: AsyncSession, ids: list[uuid.UUID]) -> dict[uuid.UUID, Organization]:
    rows = await session.scalars(select(Organization).where(Organization.id.in_(ids)))
    return {org.id: org for org in rows}


async def experts(session: AsyncSession, ids: list[uuid.UUID]) -> dict[uuid.UUID, Expert]:
    rows = await session.scalars(select(Expert).where(Expert.id.in_(ids)))
    return {expert.id: expert for expert in rows}


async def stream_experts(session: AsyncSession, batch: int = 2000) -> AsyncIterator[list[Expert]]:
    last: uuid.UUID | None = None
    while True:
        statement = select(Expert).order_by(Expert.id).limit(batch)
        if last is not None:
            statement = statement.where(Expert.id > last)
        rows = list((await session.scalars(statement)).all())
        if not rows:
            return
        yield rows
        last = rows[-1].id


async def stream_published_listings(
    session: AsyncSession, kind: str, batch: int = 2000
) -> AsyncIterator[list[tuple[Listing, Organization]]]:
    """Every published listing of a kind, in batches, for a full rebuild."""
    last: uuid.UUID | None = None
    while True:
        statement = (
            select(Listing, Organization)
            .join(Organization, Organization.id == Listing.organization_id)
            .where(Listing.kind == kind, Listing.status == "published")
            .order_by(Listing.id)
            .limit(batch)
        )
        if last is not None:
            statement = statement.where(Listing.id > last)
        rows = [(row[0], row[1]) for row in await session.execute(statement)]
        if not rows:
            return
        yield rows
        last = rows[-1][0].id


async def stream_organizations(session: AsyncSession, batch: int = 2000) -> AsyncIterator[list[Organization]]:
    last: uuid.UUID | None = None
    while True:
        statement = select(Organization).order_by(Organization.id).limit(batch)
        if last is not None:
            statement = statement.where(Organization.id > last)
        rows = list((await session.scalars(statement)).all())
        if not rows:
            return
        yield rows
        last = rows[-1].id


async def count_source_records(session: AsyncSession, kind: str | None) -> int:
    """Records a rebuild will index: published listings of a kind, experts, or (kind None) organisations."""
    if kind == "expert":
        return int(await session.scalar(select(func.count()).select_from(Expert)) or 0)
    if kind is None:
        return int(await session.scalar(select(func.count()).select_from(Organization)) or 0)
    statement = select(func.count()).select_from(Listing).where(Listing.kind == kind, Listing.status == "published")
    return int(await session.scalar(statement) or 0)
