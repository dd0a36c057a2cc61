"""Experts' vectors: made by the indexer from the profiles' public words, read by matching.

The indexer drains the outbox, so a vector is made for every profile written, after any crash; only a
profile whose public words (or the model) changed is embedded again. Matching compares a listing with
every stored vector, held in memory per database until the table changes.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.experts.visibility import public_profile_text
from app.matching import semantic
from app.models import Expert, ExpertVector
from app.models.base import utcnow

# Vectors to embed in one call of the engine: long enough to batch, short enough to keep memory flat.
EMBED_BATCH = 64


@dataclass(frozen=True)
class PendingVector:
    expert_id: uuid.UUID
    digest: str
    text: str


async def pending(session: AsyncSession, experts: list[Any]) -> list[PendingVector]:
    """The experts whose stored vector is missing or was made of other words or another model."""
    if not experts or not semantic.available():
        return []
    wanted = {e.id: public_profile_text(e) for e in experts}
    query = select(ExpertVector.expert_id, ExpertVector.digest).where(ExpertVector.expert_id.in_(list(wanted)))
    stored = {expert_id: digest for expert_id, digest in (await session.execute(query)).all()}
    found = []
    for expert_id, text in wanted.items():
        digest = semantic.digest(text)
        if stored.get(expert_id) != digest:
            found.append(PendingVector(expert_id, digest, text))
    return found


def embed(items: list[PendingVector]) -> list[dict[str, Any]]:
    """Rows of the vector table for the pending profiles (CPU-bound: run it in a worker thread)."""
    rows: list[dict[str, Any]] = []
    for start in range(0, len(items), EMBED_BATCH):
        chunk = items[start : start + EMBED_BATCH]
        vectors = semantic.embed_passages([item.text or "-" for item in chunk])
        rows += [
            {
                "expert_id": item.expert_id,
                "digest": item.digest,
                "language": semantic.text_language(item.text),
                "vector": semantic.pack(vector),
            }
            for item, vector in zip(chunk, vectors, strict=True)
        ]
    return rows


async def store(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Replace the experts' vectors; a profile deleted meanwhile is skipped (its vector went with it)."""
    if not rows:
        return
    ids = [row["expert_id"] for row in rows]
    existing = set((await session.scalars(select(Expert.id).where(Expert.id.in_(ids)))).all())
    await session.execute(delete(ExpertVector).where(ExpertVector.expert_id.in_(ids)))
    now = utcnow()
    session.add_all(ExpertVector(**row, updated_at=now) for row in rows if row["expert_id"] in existing)
    await session.flush()


@dataclass(frozen=True)
class VectorTable:
    stamp: tuple[int, Any]
    ids: list[uuid.UUID]
    row_of: dict[uuid.UUID, int]
    languages: np.ndarray
    matrix: np.ndarray


_tables: OrderedDict[str, VectorTable] = OrderedDict()
_TABLES_KEPT = 4  # databases per process: one in production, a few in tests


async def _table(session: AsyncSession) -> VectorTable:
    count, latest = (await session.execute(select(func.count(), func.max(ExpertVector.updated_at)))).one()
    bind = session.get_bind()
    key = str(getattr(bind, "engine", bind).url)
    table = _tables.get(key)
    if table is None or table.stamp != (count, latest):
        rows = (await session.execute(select(ExpertVector.expert_id, ExpertVector.language, ExpertVector.vector))).all()
        ids = [row[0] for row in rows]
        languages = np.array([row[1] for row in rows])
        matrix = semantic.unpack([row[2] for row in rows])
        table = VectorTable(
            stamp=(count, latest),
            ids=ids,
            row_of={expert_id: i for i, expert_id in enumerate(ids)},
            languages=languages,
            matrix=matrix,
        )
        _tables[key] = table
        while len(_tables) > _TABLES_KEPT:
            _tables.popitem(last=False)
    _tables.move_to_end(key)
    return table


@dataclass(frozen=True)
class Likeness:
    """How alike in meaning a listing is to each expert: a standard score among the experts writing in
    the same language (see app/matching/semantic.py)."""

    table: VectorTable
    centred: np.ndarray

    def of(self, expert_id: uuid.UUID) -> float:
        row = self.table.row_of.get(expert_id)
        return float(self.centred[row]) if row is not None else 0.0

    def nearest(self, count: int) -> list[uuid.UUID]:
        """The `count` most alike experts that are more alike than their language's average."""
        if not len(self.centred):
            return []
        count = min(count, len(self.centred))
        top = np.argpartition(-self.centred, count - 1)[:count]
        return [self.table.ids[i] for i in top if self.centred[i] > 0]


async def likeness(session: AsyncSession, text: str) -> Likeness | None:
    """None where semantic matching is off or unavailable, or no vector is stored yet."""
    if not text.strip() or not semantic.available():
        return None
    table = await _table(session)
    if not table.ids:
        return None
    query = await asyncio.to_thread(semantic.embed_query, text)
    return Likeness(table, semantic.centred_similarity(query, table.matrix, table.languages))
