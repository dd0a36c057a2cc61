"""Queries of the taxonomy's state: which taxonomy and tagger the stored inferred concepts come from."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.models import TaxonomyState
from app.models.base import utcnow

_STATE_ID = 1  # the table holds one row


async def recorded_digest(session: AsyncSession) -> str | None:
    state = await session.get(TaxonomyState, _STATE_ID)
    return state.digest if state is not None else None


async def record_digest(session: AsyncSession, digest: str) -> None:
    await session.merge(TaxonomyState(id=_STATE_ID, digest=digest, retagged_at=utcnow()))
