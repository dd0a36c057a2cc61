"""Public search: turns validated API parameters into a backend query, always within what the public may see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.config import SearchBackendName, Settings
from app.errors import AppError, InvalidInputError
from app.matching.concepts import query_concept_words, with_broader
from app.metrics import SEARCH_DURATION
from app.models.base import utcnow
from app.search import repository
from app.search.backend import (
    Demotion,
    Filter,
    RangeFilter,
    SearchBackend,
    SearchQuery,
    SearchResult,
    TermFilter,
)
from app.search.documents import Fields
from app.search.index_config import CONFIGS, DEMANDS, INDEXES, OFFERS, ORGANIZATIONS
from app.search.schemas import IndexStatus, OutboxStatus, SearchSort, SearchStatus

MAX_QUERY_LENGTH = 200


class SearchUnavailableProblem(AppError):
    status = 503
    code = "SearchUnavailable"
    title = "Search is temporarily unavailable"


@dataclass(frozen=True)
class SearchParams:
    """Validated search parameters; every field is optional."""

    q: str = ""
    terms: tuple[tuple[str, tuple[str | bool, ...]], ...] = ()
    trl_min: int | None = None
    trl_max: int | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    updated_from: datetime | None = None
    updated_to: datetime | None = None
    facets: tuple[str, ...] = ()
    sort: SearchSort = SearchSort.RELEVANCE
    page: int = 1
    limit: int = 20
    highlight: bool = True


def create_backend(settings: Settings) -> SearchBackend:
    if settings.search_backend is SearchBackendName.MEILISEARCH:
        from app.search.meili import MeiliBackend

        if not settings.meili_url:
            raise ValueError("SEARCH_BACKEND=meilisearch needs MEILI_URL")
        return MeiliBackend(settings.meili_url, settings.meili_api_key)
    from app.search.embedded import EmbeddedBackend

    return EmbeddedBackend(settings.index_dir)


def _range(field: str, low: float | None, high: float | None, *, high_exclusive: bool = False) -> list[Filter]:
    if low is None and high is None:
        return []
    if high_exclusive:
        return [RangeFilter(field, gte=low, lt=high)]
    return [RangeFilter(field, gte=low, lte=high)]


def _epoch(value: datetime | None) -> float | None:
    return value.timestamp() if value is not None else None


def stale_before(now: datetime, stale_days: int) -> int:
    """Documents confirmed before this instant (epoch seconds) are stale."""
    return int((now - timedelta(days=stale_days)).timestamp())


def build_query(index: str, params: SearchParams, now: datetime, stale_days: int | None = None) -> SearchQuery:
    """`stale_days`: for an index of confirmed profiles, how long one stays fresh (`expert_stale_days`)."""
    config = CONFIGS[index]
    unknown = [f for f in params.facets if f not in config.facetable]
    if unknown:
        raise InvalidInputError.for_field(
            ["query", "facets"],
            f"unknown facet(s) {', '.join(unknown)}; choose from {', '.join(config.facetable)}",
            "enum",
        )
    filters: list[Filter] = [TermFilter(field, values) for field, values in params.terms if values]
    trl_field = Fields.MIN_TRL if index == "demands" else Fields.TRL
    filters += _range(trl_field, params.trl_min, params.trl_max)
    filters += _range(Fields.CREATED_AT, _epoch(params.created_from), _epoch(params.created_to), high_exclusive=True)
    filters += _range(Fields.UPDATED_AT, _epoch(params.updated_from), _epoch(params.updated_to), high_exclusive=True)
    if config.expires:
        filters.append(RangeFilter(Fields.EXPIRES_AT, gt=now.timestamp()))
    sort = None if params.sort is SearchSort.RELEVANCE else params.sort.value.replace("price", Fields.PRICE_MIN)
    if sort and index == "demands":
        sort = sort.replace(Fields.TRL, Fields.MIN_TRL)
    if sort and sort.lstrip("-") not in config.sortable:
        raise InvalidInputError.for_field(["query", "sort"], f"cannot sort {index} by {sort}", "enum")
    demote = None
    if config.confirmed and stale_days is not None and sort is None:
        demote = Demotion(config.confirmed, stale_before(now, stale_days))
    q = params.q.strip()[:MAX_QUERY_LENGTH]
    named = query_concept_words(q) if q and index != ORGANIZATIONS else {}
    return SearchQuery(
        q=q,
        concepts=tuple(with_broader(named)),
        concept_words=tuple((concept_id, tuple(sorted(words))) for concept_id, words in named.items()),
        filters=tuple(filters),
        facets=params.facets,
        sort=sort,
        offset=(params.page - 1) * params.limit,
        limit=params.limit,
        highlight=params.highlight,
        demote=demote,
    )


class SearchService:
    async def search(
        self, backend: SearchBackend, index: str, params: SearchParams, *, stale_days: int | None = None
    ) -> SearchResult:
        """`stale_days` (experts): profiles not confirmed for that long rank lower and are flagged `stale`."""
        now = utcnow()
        query = build_query(index, params, now, stale_days)
        try:
            with SEARCH_DURATION.labels(index).time():
                result = await backend.search(index, query)
        except AppError:
            raise
        except Exception as error:
            detail = f"The {backend.name} search backend failed: {type(error).__name__}."
            raise SearchUnavailableProblem(detail) from error
        confirmed = CONFIGS[index].confirmed
        if confirmed and stale_days is not None:
            # decided now, like the ranking: the index keeps only when the profile was last confirmed
            before = stale_before(now, stale_days)
            for hit in result.hits:
                at = hit.document.get(confirmed)
                hit.document["stale"] = at is None or at < before
        return result

    async def concept_counts(self, backend: SearchBackend) -> dict[str, dict[str, int]]:
        """How many public, unexpired offers and demands each concept tags (given or inferred), from
        the index's facet on concepts."""
        counts = {}
        for index in (OFFERS, DEMANDS):
            query = build_query(index, SearchParams(facets=(Fields.CONCEPTS,), limit=1, highlight=False), utcnow())
            try:
                result = await backend.search(index, query)
            except Exception as error:
                raise SearchUnavailableProblem(f"The {backend.name} search backend failed.") from error
            counts[index] = result.facets.get(Fields.CONCEPTS, {})
        return counts

    async def status(self, session: AsyncSession, backend: SearchBackend) -> SearchStatus:
        pending, oldest = await repository.lag(session)
        healthy = await backend.health()
        try:
            counts = await backend.stats() if healthy else {}
        except Exception:
            healthy, counts = False, {}
        return SearchStatus(
            backend=backend.name,
            healthy=healthy,
            indexes={name: IndexStatus(documents=counts.get(name, 0)) for name in INDEXES},
            outbox=OutboxStatus(
                pending=pending,
                oldest_pending_seconds=round((utcnow() - oldest).total_seconds(), 3) if oldest else None,
            ),
        )


search_service = SearchService()
