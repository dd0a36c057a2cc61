"""Queries of the demo data loader."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Deal, Event, Listing, Organization


async def deal_count(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(Deal)) or 0)


async def published_listings(session: AsyncSession, kind: str) -> list[tuple[Listing, Organization]]:
    rows = await session.execute(
        select(Listing, Organization)
        .join(Organization, Organization.id == Listing.organization_id)
        .where(Listing.kind == kind, Listing.status == "published")
        .order_by(Listing.reference)
    )
    return [(row[0], row[1]) for row in rows]


async def organizations_of_kind(session: AsyncSession, kind: str) -> list[Organization]:
    statement = select(Organization).where(Organization.kind == kind).order_by(Organization.name)
    return list((await session.scalars(statement)).all())


async def event_by_name(session: AsyncSession, name: str) -> Event | None:
    return await session.scalar(select(Event).where(Event.name == name).limit(1))


async def listing_ids_of(session: AsyncSession, organization_id: uuid.UUID, *, limit: int) -> list[uuid.UUID]:
    """The organisation's first published listings, offers before demands."""
    statement = (
        select(Listing.id)
        .where(Listing.organization_id == organization_id, Listing.status == "published")
        .order_by(Listing.kind.desc(), Listing.reference)
        .limit(limit)
    )
    return list((await session.scalars(statement)).all())
