"""Queries of the change feed, the external keys and the import and harvest records."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.models import Expert, HarvestState, ImportJob, Listing, Organization, OutboxEvent
from app.search.index_config import DEMANDS, OFFERS, ORGANIZATIONS

FEED_INDEXES = (OFFERS, DEMANDS, ORGANIZATIONS)


def _latest_changes(after: int, since: datetime | None, until: datetime | None) -> Select[Any]:
    """Each record's latest outbox event after position `after`, within the time window."""
    latest = (
        select(OutboxEvent.index_name, OutboxEvent.record_id, func.max(OutboxEvent.id).label("seq"))
        .where(OutboxEvent.index_name.in_(FEED_INDEXES))
        .group_by(OutboxEvent.index_name, OutboxEvent.record_id)
        .subquery()
    )
    owner = aliased(Organization)
    statement = (
        select(latest.c.index_name, latest.c.record_id, latest.c.seq, OutboxEvent.created_at)
        .join(OutboxEvent, OutboxEvent.id == latest.c.seq)
        .outerjoin(Listing, Listing.id == latest.c.record_id)
        .outerjoin(owner, owner.id == latest.c.record_id)
        .where(
            latest.c.seq > after,
            # This exchange's own records (imported ones included): harvested ones stay with their exchange.
            Listing.origin_url.is_(None),
            owner.origin_url.is_(None),
            # A listing never published leaves no trace, not even a tombstone.
            or_(Listing.id.is_(None), and_(Listing.id.is_not(None), Listing.published_at.is_not(None))),
        )
    )
    if since is not None:
        statement = statement.where(OutboxEvent.created_at >= since)
    if until is not None:
        statement = statement.where(OutboxEvent.created_at <= until)
    return statement


async def changes_page(
    session: AsyncSession, after: int, since: datetime | None, until: datetime | None, limit: int
) -> tuple[list[tuple[str, uuid.UUID, int, datetime]], int]:
    """One page of latest changes in change order, and how many remain from `after` on."""
    statement = _latest_changes(after, since, until)
    total = await session.scalar(select(func.count()).select_from(statement.subquery()))
    rows = (await session.execute(statement.order_by("seq").limit(limit))).all()
    return [(row[0], row[1], row[2], row[3]) for row in rows], int(total or 0)


async def listings_with_owners(
    session: AsyncSession, ids: list[uuid.UUID]
) -> dict[uuid.UUID, tuple[Listing, Organization]]:
    if not ids:
        return {}
    statement = select(Listing, Organization).join(Organization).where(Listing.id.in_(ids))
    return {listing.id: (listing, owner) for listing, owner in (await session.execute(statement)).all()}


async def organizations(session: AsyncSession, ids: list[uuid.UUID]) -> dict[uuid.UUID, Organization]:
    if not ids:
        return {}
    found = await session.scalars(select(Organization).where(Organization.id.in_(ids)))
    return {organization.id: organization for organization in found}


async def listing_by_key(session: AsyncSession, source: str, external_id: str) -> Listing | None:
    return await session.scalar(
        select(Listing).where(Listing.source == source, Listing.external_id == external_id).with_for_update()
    )


async def listings_by_keys(session: AsyncSession, source: str, external_ids: list[str]) -> dict[str, Listing]:
    if not external_ids:
        return {}
    found = await session.scalars(
        select(Listing).where(Listing.source == source, Listing.external_id.in_(external_ids))
    )
    return {listing.external_id: listing for listing in found if listing.external_id is not None}


async def organization_by_key(session: AsyncSession, source: str, external_id: str) -> Organization | None:
    return await session.scalar(
        select(Organization).where(Organization.source == source, Organization.external_id == external_id)
    )


async def organizations_by_keys(session: AsyncSession, source: str, external_ids: list[str]) -> dict[str, Organization]:
    if not external_ids:
        return {}
    found = await session.scalars(
        select(Organization).where(Organization.source == source, Organization.external_id.in_(external_ids))
    )
    return {o.external_id: o for o in found if o.external_id is not None}


async def expert_by_key(session: AsyncSession, source: str, external_id: str) -> Expert | None:
    return await session.scalar(select(Expert).where(Expert.source == source, Expert.external_id == external_id))


async def experts_by_keys(session: AsyncSession, source: str, external_ids: list[str]) -> dict[str, Expert]:
    if not external_ids:
        return {}
    found = await session.scalars(select(Expert).where(Expert.source == source, Expert.external_id.in_(external_ids)))
    return {expert.external_id: expert for expert in found if expert.external_id is not None}


async def organizations_by_names(session: AsyncSession, names: list[str]) -> dict[str, Organization]:
    """Organisations by exact name (the first of equal names), for rows that name their owner."""
    if not names:
        return {}
    found = await session.scalars(select(Organization).where(Organization.name.in_(names)).order_by(Organization.id))
    by_name: dict[str, Organization] = {}
    for organization in found:
        by_name.setdefault(organization.name, organization)
    return by_name


async def listing_sources(session: AsyncSession) -> list[str]:
    rows = await session.scalars(select(Listing.source).where(Listing.source.is_not(None)).distinct())
    return [row for row in rows if row]


async def get_import(session: AsyncSession, import_id: uuid.UUID) -> ImportJob | None:
    return await session.get(ImportJob, import_id)


async def harvest_state(session: AsyncSession, source: str) -> HarvestState | None:
    return await session.get(HarvestState, source)


async def newest_published(session: AsyncSession, now: datetime, limit: int) -> list[tuple[Listing, Organization]]:
    statement = (
        select(Listing, Organization)
        .join(Organization)
        .where(Listing.status == "published", Listing.expires_at > now)
        .order_by(Listing.published_at.desc(), Listing.id)
        .limit(limit)
    )
    return [(listing, owner) for listing, owner in (await session.execute(statement)).all()]


async def public_listings_batch(
    session: AsyncSession, kind: str, now: datetime, after: uuid.UUID | None, limit: int
) -> list[tuple[Listing, Organization]]:
    """This exchange's own published listings (harvested ones excluded), by id, after `after`."""
    statement = (
        select(Listing, Organization)
        .join(Organization)
        .where(
            Listing.kind == kind,
            Listing.status == "published",
            Listing.expires_at > now,
            Listing.origin_url.is_(None),
        )
        .order_by(Listing.id)
        .limit(limit)
    )
    if after is not None:
        statement = statement.where(Listing.id > after)
    return [(listing, owner) for listing, owner in (await session.execute(statement)).all()]


async def organizations_batch(session: AsyncSession, after: uuid.UUID | None, limit: int) -> list[Organization]:
    statement = select(Organization).where(Organization.origin_url.is_(None)).order_by(Organization.id).limit(limit)
    if after is not None:
        statement = statement.where(Organization.id > after)
    return list((await session.scalars(statement)).all())


async def last_change(session: AsyncSession) -> datetime | None:
    return await session.scalar(select(func.max(OutboxEvent.created_at)))
