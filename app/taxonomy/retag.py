"""Inferred concepts brought up to date when a release changes the taxonomy or the tagger.

Listings and expert profiles store the concepts their words name, so a grown taxonomy would reach
only what is written after it. The indexer, when it has nothing else to do, infers them again a page
at a time (each page its own transaction, changed records queued for the search index), then records
which taxonomy and tagger it finished with. A crash half-way runs the pass again from the start:
inferring twice changes nothing. `techex retag` runs the same pass at once.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.db import Database, unit_of_work
from app.matching.concepts import TAGGER_VERSION
from app.models import TaxonomyState
from app.models.base import utcnow
from app.taxonomy.data import TAXONOMY_FILE

PAGE = 200
KINDS = ("listings", "experts")
_STATE_ID = 1


@lru_cache(maxsize=1)
def taxonomy_digest() -> str:
    """Of the taxonomy file and the tagger's rules: either changing means stored concepts may be stale."""
    return hashlib.sha256(TAXONOMY_FILE.read_bytes() + f"\ntagger {TAGGER_VERSION}".encode()).hexdigest()


@dataclass
class RetagPass:
    """Where a pass stands; `done` once the stored concepts are known to come from the current taxonomy."""

    force: bool = False  # infer again even when the recorded taxonomy is the current one
    checked: bool = False
    done: bool = False
    kind: int = 0
    after: uuid.UUID | None = None
    seen: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    changed: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))


def _retag_page(kind: str) -> Callable[[AsyncSession, uuid.UUID | None, int], Awaitable[tuple[Any, int, int]]]:
    from app.experts.service import expert_service
    from app.listings.service import listing_service

    return {"listings": listing_service.retag_page, "experts": expert_service.retag_page}[kind]


async def step(database: Database, progress: RetagPass, limit: int = PAGE) -> int:
    """One page of the pass: how many records were read (0 when there is nothing to do)."""
    if progress.done:
        return 0
    if not progress.checked:
        progress.checked = True
        async with unit_of_work(database.reader) as session:
            state = await session.get(TaxonomyState, _STATE_ID)
        if state is not None and state.digest == taxonomy_digest() and not progress.force:
            progress.done = True
            return 0
    kind = KINDS[progress.kind]
    async with unit_of_work(database.writer) as session:
        progress.after, seen, changed = await _retag_page(kind)(session, progress.after, limit)
    progress.seen[kind] += seen
    progress.changed[kind] += changed
    if seen < limit:
        progress.kind, progress.after = progress.kind + 1, None
        if progress.kind == len(KINDS):
            async with unit_of_work(database.writer) as session:
                await session.merge(TaxonomyState(id=_STATE_ID, digest=taxonomy_digest(), retagged_at=utcnow()))
            progress.done = True
    return max(seen, 1)


async def run(database: Database, limit: int = PAGE, *, force: bool = False) -> RetagPass:
    """The whole pass at once."""
    progress = RetagPass(force=force)
    while await step(database, progress, limit):
        pass
    return progress
