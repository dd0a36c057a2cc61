"""Queries on broker mandates."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Mandate
from app.pagination import PageParams, paginate


async def get(session: AsyncSession, mandate_id: uuid.UUID, *, lock: bool = False) -> Mandate | None:
    return await session.get(Mandate, mandate_id, with_for_update=lock or None, populate_existing=lock)


async def find_active(
    session: AsyncSession, client_id: uuid.UUID, broker_id: uuid.UUID, now: datetime
) -> Mandate | None:
    statement = (
        select(Mandate)
        .where(
            Mandate.client_organization_id == client_id,
            Mandate.broker_organization_id == broker_id,
            Mandate.revoked_at.is_(None),
            or_(Mandate.valid_until.is_(None), Mandate.valid_until > now),
        )
        .order_by(Mandate.created_at)
        .limit(1)
    )
    return (await session.scalars(statement)).first()


async def list_for_organization(
    session: AsyncSession, organization_id: uuid.UUID | None, page: PageParams
) -> tuple[list[Mandate], int]:
    """Mandates an organisation granted or received; all of them when `organization_id` is None."""
    statement = select(Mandate).order_by(Mandate.created_at.desc(), Mandate.id)
    if organization_id is not None:
        statement = statement.where(
            or_(
                Mandate.client_organization_id == organization_id,
                Mandate.broker_organization_id == organization_id,
            )
        )
    return await paginate(session, statement, page)
