"""Experts' vectors: made by the indexer from the profiles' public words, read by matching.

Whenever the outbox is empty the indexer looks for profiles whose vector is missing or older than the
profile (or made by another model) and embeds a few: a crash loses nothing, profiles written before
vectors existed get theirs, and a bulk import never holds up the search index. A profile whose public
words did not change keeps its vector. Matching compares a listing with every stored vector, held in
memory per database until the table changes, with the listing's words and its topics named in each
language (app/matching/semantic.py).
"""

from __future__ import annotations

import asyncio
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import Database, unit_of_work
from app.experts import repository
from app.experts.visibility import public_profile_text
from app.matching import semantic
from app.matching.concepts import narrowest, with_broader
from app.taxonomy.data import get_taxonomy

# Profiles embedded per round of the indexer: about a second of CPU each round on two cores.
CATCH_UP_BATCH = 16


@dataclass(frozen=True)
class PendingVector:
    expert_id: uuid.UUID
    expert_updated_at: datetime
    digest: str
    text: str


async def _outdated(session: AsyncSession, limit: int) -> tuple[list[PendingVector], dict[uuid.UUID, str]]:
    """Profiles without a vector of their current state, oldest change first; with their stored digests."""
    pending, stored = [], {}
    for expert, digest in await repository.without_current_vector(session, semantic.MODEL, limit):
        text = public_profile_text(expert)
        pending.append(PendingVector(expert.id, expert.updated_at, semantic.digest(text), text))
        if digest is not None:
            stored[expert.id] = digest
    return pending, stored


def embed(items: list[PendingVector]) -> list[dict[str, Any]]:
    """Rows of the vector table for the profiles (CPU-bound: run it in a worker thread). One profile at a
    time: the engine serves one text at a time, and a listing's query waits behind one profile, not a
    batch (batches are no faster on this engine)."""
    return [
        {
            "expert_id": item.expert_id,
            "expert_updated_at": item.expert_updated_at,
            "model": semantic.MODEL,
            "digest": item.digest,
            "language": semantic.text_language(item.text),
            "vector": semantic.pack(semantic.embed_passages([item.text or "-"])[0]),
        }
        for item in items
    ]


async def catch_up(database: Database, limit: int = CATCH_UP_BATCH) -> int:
    """Bring up to `limit` profiles' vectors up to date; how many were looked at (0: all current)."""
    if not semantic.available():
        return 0
    async with unit_of_work(database.reader) as session:
        pending, stored = await _outdated(session, limit)
    unchanged = [item for item in pending if stored.get(item.expert_id) == item.digest]
    rows = await asyncio.to_thread(embed, [item for item in pending if item not in unchanged])
    async with unit_of_work(database.writer) as session:
        for item in unchanged:  # the profile changed, not its public words
            await repository.mark_vector_current(session, item.expert_id, item.expert_updated_at)
        if rows:
            await repository.replace_vectors(session, rows)
    return len(pending)


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
    stamp = await repository.vector_stamp(session)
    key = str((await session.connection()).engine.url)
    table = _tables.get(key)
    if table is None or table.stamp != stamp:
        rows = await repository.all_vectors(session)
        ids = [row[0] for row in rows]
        languages = np.array([row[1] for row in rows])
        matrix = semantic.unpack([row[2] for row in rows])
        table = VectorTable(
            stamp=stamp,
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

    def language_of(self, expert_id: uuid.UUID) -> str | None:
        """The language the expert's public words are written in, as its vector was filed."""
        row = self.table.row_of.get(expert_id)
        return str(self.table.languages[row]) if row is not None else None

    def nearest(self, count: int) -> list[uuid.UUID]:
        """The `count` most alike experts that are more alike than their language's average."""
        if not len(self.centred):
            return []
        count = min(count, len(self.centred))
        top = np.argpartition(-self.centred, count - 1)[:count]
        return [self.table.ids[i] for i in top if self.centred[i] > 0]


def topic_labels(concept_ids: list[str]) -> dict[str, list[str]]:
    """The listing's own topics (its narrowest concepts) named in each language, as the taxonomy names them."""
    concepts = get_taxonomy().concepts
    topics = [concepts[c] for c in narrowest(with_broader(concept_ids)) if c in concepts]
    return {language: [c.labels[language] for c in topics] for language in semantic.LANGUAGES if topics}


async def likeness(session: AsyncSession, text: str, concept_ids: list[str]) -> Likeness | None:
    """None where semantic matching is off or unavailable, or no vector is stored yet."""
    if not text.strip() or not semantic.available():
        return None
    table = await _table(session)
    if not table.ids:
        return None
    queries = await asyncio.to_thread(semantic.queries_by_language, text, topic_labels(concept_ids))
    return Likeness(table, semantic.centred_similarity(queries, table.matrix, table.languages))
