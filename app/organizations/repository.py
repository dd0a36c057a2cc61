"""Queries on organisations."""

from __future__ import annotations

import uuid

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Account, Organization
from app.organizations.schemas import OrganizationFilters
from app.pagination import PageParams, paginate
from app.sql import contains_text, json_array_contains


async def get(session: AsyncSession, organization_id: uuid.UUID, *, lock: bool = False) -> Organization | None:
    """`lock` holds the row (`FOR UPDATE`) until commit: a rename and a verification never interleave."""
    return await session.get(Organization, organization_id, with_for_update=lock or None, populate_existing=lock)


async def get_by_name(session: AsyncSession, name: str, country: str) -> Organization | None:
    statement = select(Organization).where(Organization.name == name, Organization.country == country)
    return (await session.scalars(statement.limit(1))).first()


async def count(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(Organization)) or 0)


async def list_page(
    session: AsyncSession, filters: OrganizationFilters, page: PageParams
) -> tuple[list[Organization], int]:
    statement = select(Organization).order_by(Organization.name, Organization.id)
    if filters.kind:
        statement = statement.where(Organization.kind.in_([k.value for k in filters.kind]))
    if filters.country:
        statement = statement.where(Organization.country.in_([c.upper() for c in filters.country]))
    if filters.verified is not None:
        statement = statement.where(Organization.verified.is_(filters.verified))
    if filters.sector:
        dialect = session.get_bind().dialect.name
        statement = statement.where(
            or_(*(json_array_contains(dialect, Organization.sectors, s.value) for s in filters.sector))
        )
    if filters.q:
        statement = statement.where(contains_text(Organization.name, filters.q))
    return await paginate(session, statement, page)


async def count_accounts(session: AsyncSession, organization_id: uuid.UUID) -> int:
    count = await session.scalar(
        select(func.count()).select_from(Account).where(Account.organization_id == organization_id)
    )
    return int(count or 0)
