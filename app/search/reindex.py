"""Full rebuild of an index from the database, swapped in without a gap.

Events that arrive while the rebuild runs are not lost: the outbox position is
noted first, and afterwards every newer event of that index is reopened so
the indexer applies it to the new index.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.db import Database, unit_of_work
from app.search import repository
from app.search.backend import SearchBackend
from app.search.documents import expert_document, listing_document, organization_document
from app.search.index_config import DEMANDS, EXPERTS, OFFERS, ORGANIZATIONS

KIND_OF_INDEX = {OFFERS: "offer", DEMANDS: "demand", EXPERTS: "expert"}


async def rebuild_index(
    database: Database,
    backend: SearchBackend,
    index: str,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Rebuild `index`; `progress` is called with the number of documents read so far."""
    documents: list[dict[str, Any]] = []
    async with unit_of_work(database.reader) as session:
        marker = await repository.last_event_id(session)
        if index == ORGANIZATIONS:
            async for organizations in repository.stream_organizations(session):
                documents += [organization_document(o) for o in organizations]
                if progress:
                    progress(len(documents))
        elif index == EXPERTS:
            async for experts in repository.stream_experts(session):
                documents += [expert_document(e) for e in experts]
                if progress:
                    progress(len(documents))
        else:
            async for rows in repository.stream_published_listings(session, KIND_OF_INDEX[index]):
                documents += [listing_document(listing, owner) for listing, owner in rows]
                if progress:
                    progress(len(documents))
    count = await backend.rebuild(index, documents)
    async with unit_of_work(database.writer) as session:
        await repository.reopen_after(session, index, marker)
    return count


async def count_documents(database: Database, index: str) -> int:
    async with unit_of_work(database.reader) as session:
        return await repository.count_source_records(session, KIND_OF_INDEX.get(index))
