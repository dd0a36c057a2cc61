"""Queries on listings."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, false, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.listings.schemas import ListingFilters, ListingKind, ListingSort, ListingStatus
from app.models import Listing, Organization
from app.pagination import PageParams
from app.sql import json_array_contains, next_counter_value


async def get(session: AsyncSession, kind: ListingKind, listing_id: uuid.UUID, *, lock: bool = False) -> Listing | None:
    """`lock` reads the committed row and holds it (`FOR UPDATE`) until the change commits, so that a
    concurrent change checks its precondition against this one's result instead of the same old row."""
    listing = await session.get(Listing, listing_id, with_for_update=lock or None, populate_existing=lock)
    return listing if listing is not None and listing.kind == kind.value else None


async def next_reference_number(session: AsyncSession, prefix: str) -> int:
    return await next_counter_value(session, prefix)


def publicly_visible(now: datetime) -> ColumnElement[bool]:
    return and_(Listing.status == ListingStatus.PUBLISHED.value, Listing.expires_at > now)


def _status_condition(status: ListingStatus, now: datetime) -> ColumnElement[bool]:
    """Expiry is effective at `expires_at`, before the sweeper records it."""
    if status is ListingStatus.PUBLISHED:
        return publicly_visible(now)
    if status is ListingStatus.EXPIRED:
        return or_(
            Listing.status == ListingStatus.EXPIRED.value,
            and_(Listing.status == ListingStatus.PUBLISHED.value, Listing.expires_at <= now),
        )
    return Listing.status == status.value


_SORTS: dict[ListingSort, tuple[Any, ...]] = {
    ListingSort.NEWEST: (Listing.created_at.desc(),),
    ListingSort.OLDEST: (Listing.created_at.asc(),),
    ListingSort.RECENTLY_UPDATED: (Listing.updated_at.desc(),),
    ListingSort.TRL_HIGH: (Listing.trl.is_(None), Listing.trl.desc()),
    ListingSort.TRL_LOW: (Listing.trl.is_(None), Listing.trl.asc()),
    ListingSort.TITLE: (Listing.title.asc(),),
    ListingSort.EXPIRING: (Listing.expires_at.asc(),),
}


def _price_sort(kind: ListingKind, descending: bool) -> tuple[Any, ...]:
    column = Listing.price_min if kind is ListingKind.OFFER else Listing.budget_min
    return (column.is_(None), column.desc() if descending else column.asc())


def _filtered(
    statement: Select,
    session: AsyncSession,
    kind: ListingKind,
    filters: ListingFilters,
    visible: ColumnElement[bool],
    now: datetime,
) -> Select:
    statement = statement.where(Listing.kind == kind.value, visible)
    any_of: tuple[tuple[Any, list[Any] | None], ...] = (
        (Listing.field, filters.field),
        (Listing.ip_status, filters.ip_status),
        (Listing.organization_id, filters.organization_id),
        (Listing.country, [c.upper() for c in filters.country] if filters.country else None),
        (Listing.province, filters.province),
        (Listing.language, filters.language),
        (Organization.kind, filters.owner_kind),
    )
    for column, values in any_of:
        if values:
            statement = statement.where(column.in_([v.value if hasattr(v, "value") else v for v in values]))
    if filters.proposed_for_city is not None:
        statement = statement.where(Listing.proposed_for_city == filters.proposed_for_city)
    trl = Listing.trl if kind is ListingKind.OFFER else Listing.min_trl
    if filters.trl_min is not None:
        statement = statement.where(trl >= filters.trl_min)
    if filters.trl_max is not None:
        statement = statement.where(trl <= filters.trl_max)
    dialect = session.get_bind().dialect.name
    if filters.concept:
        statement = statement.where(or_(*(json_array_contains(dialect, Listing.concepts, c) for c in filters.concept)))
    if filters.transfer_type:
        statement = statement.where(
            or_(*(json_array_contains(dialect, Listing.transfer_types, t.value) for t in filters.transfer_type))
        )
    if filters.status:
        statement = statement.where(or_(*(_status_condition(s, now) for s in filters.status)))
    range_column: Any
    for range_column, low, high in (
        (Listing.created_at, filters.created_from, filters.created_to),
        (Listing.updated_at, filters.updated_from, filters.updated_to),
    ):
        if low is not None:
            statement = statement.where(range_column >= low)
        if high is not None:
            statement = statement.where(range_column < high)
    return statement


async def browse(
    session: AsyncSession,
    kind: ListingKind,
    filters: ListingFilters,
    *,
    viewer_organization_id: uuid.UUID | None,
    sees_everything: bool,
    now: datetime,
    page: PageParams,
    owner_scope: ColumnElement[bool] | None = None,
) -> tuple[list[tuple[Listing, Organization]], int]:
    """One page of listings with their owners, and the total; `sees_everything` is for staff;
    `owner_scope` limits owner filters to listings whose owner the caller may see."""
    if sees_everything:
        visible: ColumnElement[bool] = Listing.id.is_not(None)
    elif viewer_organization_id is not None:
        visible = or_(publicly_visible(now), Listing.organization_id == viewer_organization_id)
    else:
        visible = publicly_visible(now) if not filters.status or ListingStatus.PUBLISHED in filters.status else false()
    owner_join = bool(filters.owner_kind)

    def scoped(columns: Select) -> Select:
        if owner_join:
            columns = columns.join(Organization, Organization.id == Listing.organization_id)
        if owner_scope is not None:
            columns = columns.where(owner_scope)
        return _filtered(columns, session, kind, filters, visible, now)

    if filters.sort in (ListingSort.PRICE_LOW, ListingSort.PRICE_HIGH):
        order = _price_sort(kind, filters.sort is ListingSort.PRICE_HIGH)
    else:
        order = _SORTS[filters.sort]
    # One pass gives the page's ids and the total (a window count), index-only on PostgreSQL;
    # the wide rows are fetched afterwards for those ids alone.
    ranked = (
        await session.execute(
            scoped(select(Listing.id, func.count().over()))
            .order_by(*order, Listing.id)
            .limit(page.limit)
            .offset(page.offset)
        )
    ).all()
    if not ranked:
        total = (
            0 if page.offset == 0 else int(await session.scalar(scoped(select(func.count()).select_from(Listing))) or 0)
        )
        return [], total
    page_ids = [row[0] for row in ranked]
    total = int(ranked[0][1])
    rows = await session.execute(
        select(Listing, Organization)
        .join(Organization, Organization.id == Listing.organization_id)
        .where(Listing.id.in_(page_ids))
    )
    by_id = {row[0].id: (row[0], row[1]) for row in rows}
    return [by_id[listing_id] for listing_id in page_ids if listing_id in by_id], total


async def due_for_expiry_warning(
    session: AsyncSession, now: datetime, warning: timedelta, limit: int = 500
) -> list[Listing]:
    """Published listings whose validity ends within `warning` and whose owner was not yet warned of it."""
    statement = (
        select(Listing)
        .where(
            Listing.status == ListingStatus.PUBLISHED.value,
            Listing.expires_at > now,
            Listing.expires_at <= now + warning,
            or_(Listing.expiry_warned_for.is_(None), Listing.expiry_warned_for != Listing.expires_at),
        )
        .order_by(Listing.expires_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list((await session.scalars(statement)).all())


async def due_for_expiry(session: AsyncSession, now: datetime, limit: int = 500) -> list[Listing]:
    """Claims the batch: rows a request is changing right now are skipped (the next sweep takes them)
    rather than overwritten (PostgreSQL; SQLite writers run one at a time)."""
    statement = (
        select(Listing)
        .where(Listing.status == ListingStatus.PUBLISHED.value, Listing.expires_at <= now)
        .order_by(Listing.expires_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list((await session.scalars(statement)).all())


async def page_with_owners(
    session: AsyncSession, after: uuid.UUID | None, limit: int
) -> list[tuple[Listing, Organization]]:
    """Every listing in id order, `limit` at a time after the id `after`, with its owner."""
    query = select(Listing, Organization).join(Organization, Listing.organization_id == Organization.id)
    if after is not None:
        query = query.where(Listing.id > after)
    rows = await session.execute(query.order_by(Listing.id).limit(limit))
    return [(listing, owner) for listing, owner in rows]


async def count(session: AsyncSession, kind: ListingKind | None = None) -> int:
    statement = select(func.count()).select_from(Listing)
    if kind is not None:
        statement = statement.where(Listing.kind == kind.value)
    return int(await session.scalar(statement) or 0)


async def owner_titles(session: AsyncSession) -> set[tuple[uuid.UUID, str]]:
    """(owner, title) of every listing, for loaders that must not insert a listing twice."""
    rows = await session.execute(select(Listing.organization_id, Listing.title))
    return {(row[0], row[1]) for row in rows}
