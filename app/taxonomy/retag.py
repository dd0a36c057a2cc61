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
from app.experts.service import expert_service
from app.listings.service import listing_service
from app.matching.concepts import TAGGER_VERSION
from app.taxonomy import repository
from app.taxonomy.data import TAXONOMY_FILE

PAGE = 200
# Each kind's page of records inferred again: (session, after this id, at most) → (last id, read, changed).
RETAG_PAGES: dict[str, Callable[[AsyncSession, uuid.UUID | None, int], Awaitable[tuple[Any, int, int]]]] = {
    "listings": listing_service.retag_page,
    "experts": expert_service.retag_page,
}
KINDS = tuple(RETAG_PAGES)


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


async def step(database: Database, progress: RetagPass, limit: int = PAGE) -> int:
    """One page of the pass: how many records were read, at least 1 while the pass goes on; 0 once there is
    nothing left to do."""
    if progress.done:
        return 0
    if not progress.checked:
        progress.checked = True
        async with unit_of_work(database.reader) as session:
            recorded = await repository.recorded_digest(session)
        if recorded == taxonomy_digest() and not progress.force:
            progress.done = True
            return 0
    kind = KINDS[progress.kind]
    async with unit_of_work(database.writer) as session:
        progress.after, seen, changed = await RETAG_PAGES[kind](session, progress.after, limit)
    progress.seen[kind] += seen
    progress.changed[kind] += changed
    if seen < limit:
        progress.kind, progress.after = progress.kind + 1, None
        if progress.kind == len(KINDS):
            async with unit_of_work(database.writer) as session:
                await repository.record_digest(session, taxonomy_digest())
            progress.done = True
    return max(seen, 1)


async def run(database: Database, limit: int = PAGE, *, force: bool = False) -> RetagPass:
    """The whole pass at once."""
    progress = RetagPass(force=force)
    while await step(database, progress, limit):
        pass
    return progress
