"""Queries of the expert network."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import ConsultationRequest, Expert, ExpertVector, Organization
from app.pagination import PageParams


async def get(session: AsyncSession, expert_id: uuid.UUID, *, lock: bool = False) -> Expert | None:
    return await session.get(Expert, expert_id, with_for_update=lock or None, populate_existing=lock)


async def by_ids(session: AsyncSession, ids: list[uuid.UUID]) -> dict[uuid.UUID, Expert]:
    rows = await session.scalars(select(Expert).where(Expert.id.in_(ids)))
    return {expert.id: expert for expert in rows}


async def latest(session: AsyncSession, limit: int) -> list[Expert]:
    """Without the search index: the most recently confirmed profiles."""
    statement = select(Expert).order_by(Expert.last_confirmed_at.desc(), Expert.id).limit(limit)
    return list((await session.scalars(statement)).all())


async def in_id_order(session: AsyncSession, after: uuid.UUID | None, limit: int) -> list[Expert]:
    """Every profile in id order, `limit` at a time after the id `after`."""
    statement = select(Expert).order_by(Expert.id).limit(limit)
    if after is not None:
        statement = statement.where(Expert.id > after)
    return list((await session.scalars(statement)).all())


async def page(
    session: AsyncSession,
    params: PageParams,
    *,
    country: list[str] | None,
    overseas: bool | None,
    organization_id: list[uuid.UUID] | None,
) -> tuple[list[Expert], int]:
    conditions: list[Any] = []
    if country:
        conditions.append(Expert.country.in_(country))
    if overseas is not None:
        conditions.append(Expert.overseas_vietnamese.is_(overseas))
    if organization_id:
        conditions.append(Expert.organization_id.in_(organization_id))
    total = int(await session.scalar(select(func.count()).select_from(Expert).where(*conditions)) or 0)
    statement = (
        select(Expert)
        .where(*conditions)
        .order_by(Expert.name, Expert.id)
        .offset((params.page - 1) * params.limit)
        .limit(params.limit)
    )
    return list((await session.scalars(statement)).all()), total


async def helpful_consultations(session: AsyncSession, expert_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    """Consultations that gave advice or led to an engagement, per expert: evidence for ranking."""
    statement = (
        select(ConsultationRequest.expert_id, func.count())
        .where(
            ConsultationRequest.expert_id.in_(expert_ids),
            ConsultationRequest.outcome.in_(["advice_given", "engaged"]),
        )
        .group_by(ConsultationRequest.expert_id)
    )
    return {row[0]: int(row[1]) for row in await session.execute(statement)}


async def due_for_reminder(session: AsyncSession, confirmed_before: datetime, limit: int = 500) -> list[Expert]:
    statement = (
        select(Expert)
        .where(Expert.last_confirmed_at < confirmed_before, Expert.reminder_sent_at.is_(None))
        .order_by(Expert.last_confirmed_at)
        .limit(limit)
    )
    return list((await session.scalars(statement)).all())


async def requests_since(session: AsyncSession, organization_id: uuid.UUID, since: datetime) -> int:
    statement = select(func.count()).where(
        ConsultationRequest.requester_organization_id == organization_id, ConsultationRequest.created_at >= since
    )
    return int(await session.scalar(statement) or 0)


async def get_request(
    session: AsyncSession, request_id: uuid.UUID, *, lock: bool = False
) -> ConsultationRequest | None:
    return await session.get(ConsultationRequest, request_id, with_for_update=lock or None, populate_existing=lock)


async def requests_page(
    session: AsyncSession, organization_id: uuid.UUID | None, params: PageParams, *, role: str | None
) -> tuple[list[ConsultationRequest], int]:
    """Requests the organisation sent or received (`role`: sent, received or both); all for None (staff)."""
    conditions: list[Any] = []
    if organization_id is not None:
        sent = ConsultationRequest.requester_organization_id == organization_id
        received = ConsultationRequest.expert_organization_id == organization_id
        conditions.append({"sent": sent, "received": received}.get(role or "", or_(sent, received)))
    total = int(await session.scalar(select(func.count()).select_from(ConsultationRequest).where(*conditions)) or 0)
    statement = (
        select(ConsultationRequest)
        .where(*conditions)
        .order_by(ConsultationRequest.created_at.desc(), ConsultationRequest.id)
        .offset((params.page - 1) * params.limit)
        .limit(params.limit)
    )
    return list((await session.scalars(statement)).all()), total


async def names(session: AsyncSession, organization_ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    rows = await session.execute(
        select(Organization.id, Organization.name).where(Organization.id.in_(organization_ids))
    )
    return {row[0]: row[1] for row in rows}


async def expert_names(session: AsyncSession, expert_ids: set[uuid.UUID]) -> dict[uuid.UUID, Expert]:
    return await by_ids(session, list(expert_ids))


# --- statistics ---------------------------------------------------------------------------


async def all_for_stats(session: AsyncSession) -> list[tuple[str, bool, list[str], datetime]]:
    """Country, overseas flag, concepts (given and inferred) and last confirmation of every profile."""
    statement = select(
        Expert.country, Expert.overseas_vietnamese, Expert.concepts, Expert.inferred_concepts, Expert.last_confirmed_at
    )
    return [
        (row[0], bool(row[1]), [*(row[2] or []), *(row[3] or [])], row[4]) for row in await session.execute(statement)
    ]


async def request_counts(session: AsyncSession, start: datetime, end: datetime) -> dict[str, int]:
    statement = (
        select(ConsultationRequest.status, func.count())
        .where(and_(ConsultationRequest.created_at >= start, ConsultationRequest.created_at < end))
        .group_by(ConsultationRequest.status)
    )
    return {row[0]: int(row[1]) for row in await session.execute(statement)}


# --- vectors (app/experts/vectors.py) ---------------------------------------------------


async def without_current_vector(session: AsyncSession, model: str, limit: int) -> list[tuple[Expert, str | None]]:
    """Profiles whose vector is missing, older than the profile or of another model, oldest change first;
    each with its stored vector's digest."""
    query = (
        select(Expert, ExpertVector.digest)
        .outerjoin(ExpertVector, ExpertVector.expert_id == Expert.id)
        .where(
            or_(
                ExpertVector.expert_id.is_(None),
                ExpertVector.expert_updated_at != Expert.updated_at,
                ExpertVector.model != model,
            )
        )
        .order_by(Expert.updated_at, Expert.id)
        .limit(limit)
    )
    return [(expert, digest) for expert, digest in (await session.execute(query)).all()]


async def mark_vector_current(session: AsyncSession, expert_id: uuid.UUID, expert_updated_at: datetime) -> None:
    await session.execute(
        update(ExpertVector).where(ExpertVector.expert_id == expert_id).values(expert_updated_at=expert_updated_at)
    )


async def replace_vectors(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Replace the experts' vectors; a profile deleted meanwhile is skipped (its vector went with it)."""
    ids = [row["expert_id"] for row in rows]
    existing = set((await session.scalars(select(Expert.id).where(Expert.id.in_(ids)))).all())
    await session.execute(delete(ExpertVector).where(ExpertVector.expert_id.in_(ids)))
    session.add_all(ExpertVector(**row) for row in rows if row["expert_id"] in existing)


async def vector_stamp(session: AsyncSession) -> tuple[int, Any]:
    """Changes whenever a vector is added, replaced or removed."""
    count, latest = (await session.execute(select(func.count(), func.max(ExpertVector.expert_updated_at)))).one()
    return int(count), latest


async def all_vectors(session: AsyncSession) -> list[tuple[uuid.UUID, str, bytes]]:
    query = select(ExpertVector.expert_id, ExpertVector.language, ExpertVector.vector)
    return [(expert_id, language, vector) for expert_id, language, vector in (await session.execute(query)).all()]
