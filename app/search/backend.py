"""The search backend contract: what the embedded engine and Meilisearch both provide."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

FilterValue = str | int | float | bool


@dataclass(frozen=True)
class TermFilter:
    """The field has one of these values (for a list field: contains one of them)."""

    field: str
    values: tuple[FilterValue, ...]


@dataclass(frozen=True)
class RangeFilter:
    """Numeric bounds, each optional; `gt`/`lt` exclusive, `gte`/`lte` inclusive."""

    field: str
    gte: float | None = None
    lte: float | None = None
    gt: float | None = None
    lt: float | None = None


Filter = TermFilter | RangeFilter


@dataclass(frozen=True)
class Demotion:
    """Documents whose timestamp `field` is before `before` (or missing) rank below documents that
    answer the query as well, and are never hidden: a stale one that answers it clearly better still
    comes first. Each backend does it in its own scoring (`embedded.FRESH_SCORE`, `meili.STALE_WEIGHT`);
    it decides at query time, so documents need no reindexing as time passes."""

    field: str
    before: int  # epoch seconds


@dataclass(frozen=True)
class SearchQuery:
    q: str = ""
    filters: tuple[Filter, ...] = ()
    facets: tuple[str, ...] = ()
    sort: str | None = None  # a sortable field, "-" first for descending; None: relevance
    offset: int = 0
    limit: int = 20
    highlight: bool = True
    # Any one word suffices (matching: a long text finds what shares part of it); ranking still
    # prefers documents with more of the words.
    match_any: bool = False
    # Matching asks for candidates, not for a result page: no typo expansion and no total count.
    fuzzy: bool = True
    with_total: bool = True
    # Search only these searchable fields (all when empty): matching compares the listings' own words,
    # not the concept labels the keyword field adds in three languages.
    fields: tuple[str, ...] = ()
    # Taxonomy concepts the query names (in any language): listings tagged with one are found and
    # ranked up even when written in another language.
    concepts: tuple[str, ...] = ()
    # The concepts the query names itself, each with the positions of the words naming it (Latin
    # words first, then CJK runs, see `app.matching.concepts.query_concept_words`): a listing tagged
    # with one counts as having those words.
    concept_words: tuple[tuple[str, tuple[int, ...]], ...] = ()
    # Relevance order only (ignored when sorted by a field): expert profiles not confirmed for a year.
    demote: Demotion | None = None


@dataclass
class SearchHit:
    id: str
    score: float | None
    document: dict[str, Any]
    highlights: dict[str, str] = field(default_factory=dict)


@dataclass
class SearchResult:
    hits: list[SearchHit]
    total: int
    facets: dict[str, dict[str, int]]
    processing_ms: float


class SearchUnavailableError(Exception):
    """The backend cannot be reached or refused the operation."""


class SearchBackend(Protocol):
    name: str

    async def ensure_indexes(self) -> None:
        """Create the indexes and apply their settings (idempotent)."""

    async def upsert(self, index: str, documents: list[dict[str, Any]]) -> None:
        """Add or replace documents by id; returns once the backend has applied them."""

    async def delete(self, index: str, ids: list[str]) -> None:
        """Remove documents by id (missing ids are fine); returns once applied."""

    async def apply(self, index: str, upserts: list[dict[str, Any]], deletes: list[str]) -> None:
        """Deletes then upserts of one outbox batch; returns once the backend has applied them."""

    async def search(self, index: str, query: SearchQuery) -> SearchResult: ...

    async def rebuild(self, index: str, documents: Iterable[dict[str, Any]]) -> int:
        """Build a fresh index from `documents` and swap it in; returns the count."""

    async def health(self) -> bool: ...

    async def stats(self) -> dict[str, int]:
        """Documents per index."""

    async def close(self) -> None: ...
