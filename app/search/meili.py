"""The Meilisearch backend, on the official client (synchronous, so every call leaves the event loop).

Settings come from `index_config.py`. Filters are built from validated values
and quoted (`filter_expression`), so a value can never be read as filter
syntax. Writes wait for their task, so "the backend confirmed" means the
documents are searchable. A rebuild fills a temporary index and swaps it in.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from typing import Any

import meilisearch
from meilisearch.errors import MeilisearchApiError

from app.search.backend import (
    Demotion,
    Filter,
    RangeFilter,
    SearchHit,
    SearchQuery,
    SearchResult,
    SearchUnavailableError,
    TermFilter,
)
from app.search.documents import SEARCH_ONLY, Fields
from app.search.index_config import CONFIGS, HIGHLIGHTED, INDEXES, RANKING_RULES, TYPO_TOLERANCE, IndexConfig, synonyms
from app.search.text import HIGHLIGHT_POST, HIGHLIGHT_PRE, tone_text

TASK_TIMEOUT_MS = 60_000
BATCH = 5_000


def quote(value: str | int | float | bool) -> str:
    """A filter literal: numbers and booleans as they are, strings double-quoted with escapes."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    escaped = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def _attribute(name: str) -> str:
    if not name.replace("_", "").isalnum():
        raise ValueError(f"not a filterable attribute name: {name!r}")
    return name


def filter_expression(filters: Iterable[Filter]) -> list[str]:
    """Meilisearch filter clauses (ANDed as a list); field names are ours, values are quoted."""
    clauses = []
    for item in filters:
        field = _attribute(item.field)
        if isinstance(item, TermFilter):
            clauses.append(" OR ".join(f"{field} = {quote(v)}" for v in item.values))
        elif isinstance(item, RangeFilter):
            bounds = [(">=", item.gte), ("<=", item.lte), (">", item.gt), ("<", item.lt)]
            clauses.extend(f"{field} {op} {quote(value)}" for op, value in bounds if value is not None)
    return [f"({clause})" for clause in clauses]


def _sort_field(name: str) -> str:
    """Prices are decimal strings in the documents; Meilisearch sorts them by their number."""
    return Fields.PRICE_SORT if name == Fields.PRICE_MIN else name


def index_settings(config: IndexConfig) -> dict[str, Any]:
    # The Telex spellings come first: "đường" in the query (sent as "dduwowngf" too, see `tone_query`)
    # then outranks "Dương", though Meilisearch folds both to "duong" in the other attributes.
    searchable = [Fields.TONES, *(name for name, _ in sorted(config.searchable, key=lambda item: -item[1]))]
    return {
        "searchableAttributes": searchable,
        "filterableAttributes": sorted({*config.keyword_filters, *config.numeric}),
        "sortableAttributes": [_sort_field(name) for name in config.sortable],
        "rankingRules": RANKING_RULES,
        # a Telex spelling one letter from another is another tone, not a typo
        "typoTolerance": TYPO_TOLERANCE | {"disableOnAttributes": [Fields.TONES]},
        "synonyms": synonyms(),
        "displayedAttributes": ["*"],
        "pagination": {"maxTotalHits": 100_000},
        "faceting": {"maxValuesPerFacet": 1000},  # every taxonomy concept (~460) fits
    }


def tone_query(q: str) -> str:
    """The query followed by the Telex spelling of its marked words. Placed last, they are the first
    words the "last" matching strategy drops: documents with every word and every tone rank first,
    then those with every word, then fewer words."""
    keys = tone_text(q)
    return f"{q} {keys}" if keys else q


# How a query's concepts weigh in a federated search. A listing tagged with a concept the query names
# is found even when none of its words match (written in another language), just below listings that
# match the words well; one tagged only with a broader concept (recycling, for e-waste recycling) after
# every listing that matches words. The embedded engine ranks the same way (`embedded.CONCEPT_SCORE`).
CONCEPT_WEIGHT = 0.9
BROADER_WEIGHT = 0.2


def concept_queries(uid: str, query: SearchQuery, params: dict[str, Any]) -> list[dict[str, Any]]:
    """The federated queries for the listings tagged with the query's concepts: those it names, then
    the broader ones."""
    named = [concept_id for concept_id, _ in query.concept_words]
    broader = [c for c in query.concepts if c not in named]

    def tagged(concepts: list[str], weight: float) -> dict[str, Any]:
        any_of = " OR ".join(f"{Fields.CONCEPTS} = {quote(c)}" for c in concepts)
        return {
            **params,
            "indexUid": uid,
            "q": "",
            "filter": [*params["filter"], f"({any_of})"],
            "federationOptions": {"weight": weight},
        }

    return [tagged(ids, weight) for ids, weight in ((named, CONCEPT_WEIGHT), (broader, BROADER_WEIGHT)) if ids]


# How a demoted document's ranking score weighs (`SearchQuery.demote`: an expert profile not confirmed for a
# year). A twentieth off keeps it below the fresh ones that match as well and above those with fewer of the
# query's words (each word dropped costs more), the embedded engine's order (`embedded.FRESH_SCORE`) for
# short queries; it also stays above the fresh documents found only through a concept (CONCEPT_WEIGHT)
# when it matches the words well.
STALE_WEIGHT = 0.95


def demoted_queries(queries: list[dict[str, Any]], demote: Demotion) -> list[dict[str, Any]]:
    """Each federated query twice: for the fresh documents at its weight, for the others (field before the
    cut-off, or missing) at STALE_WEIGHT times it. The cut-off is the query's, so time passing needs no
    reindexing; the two halves cover every document once, so totals and facets are unchanged."""
    field = _attribute(demote.field)
    fresh = f"({field} >= {quote(demote.before)})"
    split = []
    for query in queries:
        weight = query["federationOptions"]["weight"]
        split.append({**query, "filter": [*query["filter"], fresh]})
        split.append(
            {
                **query,
                "filter": [*query["filter"], f"(NOT {fresh})"],
                "federationOptions": {**query["federationOptions"], "weight": weight * STALE_WEIGHT},
            }
        )
    return split


class MeiliBackend:
    name = "meilisearch"

    def __init__(self, url: str, api_key: str | None, prefix: str = "") -> None:
        self.client = meilisearch.Client(url, api_key, timeout=10)
        self.prefix = prefix

    def uid(self, index: str) -> str:
        return f"{self.prefix}{index}"

    async def _run(self, function: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return await asyncio.to_thread(function, *args, **kwargs)
        except MeilisearchApiError:
            raise
        except Exception as error:
            raise SearchUnavailableError(str(error)) from error

    def _wait(self, task: Any) -> None:
        finished = self.client.wait_for_task(task.task_uid, timeout_in_ms=TASK_TIMEOUT_MS)
        if finished.status != "succeeded":
            raise SearchUnavailableError(f"Meilisearch task {task.task_uid} {finished.status}: {finished.error}")

    def _ensure(self, uid: str, config: IndexConfig) -> None:
        try:
            self.client.get_index(uid)
        except MeilisearchApiError:
            self._wait(self.client.create_index(uid, {"primaryKey": Fields.ID}))
        self._wait(self.client.index(uid).update_settings(index_settings(config)))

    async def ensure_indexes(self) -> None:
        for name in INDEXES:
            await self._run(self._ensure, self.uid(name), CONFIGS[name])

    def _upsert(self, uid: str, documents: list[dict[str, Any]]) -> None:
        for start in range(0, len(documents), BATCH):
            self._wait(self.client.index(uid).add_documents(documents[start : start + BATCH], Fields.ID))

    async def upsert(self, index: str, documents: list[dict[str, Any]]) -> None:
        if documents:
            await self._run(self._upsert, self.uid(index), documents)

    async def delete(self, index: str, ids: list[str]) -> None:
        if ids:
            await self._run(lambda: self._wait(self.client.index(self.uid(index)).delete_documents(list(ids))))

    async def apply(self, index: str, upserts: list[dict[str, Any]], deletes: list[str]) -> None:
        await self.delete(index, deletes)
        await self.upsert(index, upserts)

    def _params(self, index: str, query: SearchQuery) -> dict[str, Any]:
        params: dict[str, Any] = {
            "filter": filter_expression(query.filters),
            "showRankingScore": True,
            "attributesToRetrieve": ["*"],
        }
        # "any word" for the matching service; otherwise drop words from the end until something matches
        params["matchingStrategy"] = "frequency" if query.match_any else "last"
        if query.fields:
            params["attributesToSearchOn"] = [
                name for name, _ in CONFIGS[index].searching_only(query.fields).searchable
            ]
        if query.sort:
            field = _sort_field(query.sort.lstrip("-"))
            params["sort"] = [f"{field}:{'desc' if query.sort.startswith('-') else 'asc'}"]
        if query.highlight and query.q:
            params |= {
                "attributesToHighlight": list(HIGHLIGHTED),
                "highlightPreTag": HIGHLIGHT_PRE,
                "highlightPostTag": HIGHLIGHT_POST,
            }
        return params

    def _search(self, index: str, query: SearchQuery) -> SearchResult:
        started = time.perf_counter()
        params = self._params(index, query)
        ranked = not query.match_any and not query.fields
        q = tone_query(query.q) if ranked else query.q
        concepts = ranked and bool(query.concepts) and not query.sort
        demoting = query.demote is not None and not query.sort
        if concepts or demoting:
            raw = self._federated(index, query, q, params, concepts=concepts)
        else:
            params |= {"offset": query.offset, "limit": query.limit}
            if query.facets:
                params["facets"] = list(query.facets)
            raw = self.client.index(self.uid(index)).search(q, params)
        hits = []
        for hit in raw["hits"]:
            formatted = hit.pop("_formatted", {}) or {}
            score = hit.pop("_rankingScore", None)
            # merged queries rank by the weighted score: show that one, so scores follow the order
            score = (hit.pop("_federation", None) or {}).get("weightedRankingScore", score)
            document = {k: v for k, v in hit.items() if k not in SEARCH_ONLY}
            highlights = {
                key: value
                for key, value in formatted.items()
                if key in HIGHLIGHTED and isinstance(value, str) and HIGHLIGHT_PRE in value
            }
            hits.append(SearchHit(id=str(hit[Fields.ID]), score=score, document=document, highlights=highlights))
        total = raw.get("estimatedTotalHits", raw.get("totalHits", len(hits)))
        facets = {name: dict(values) for name, values in (raw.get("facetDistribution") or {}).items()}
        return SearchResult(hits, int(total), facets, round((time.perf_counter() - started) * 1000, 2))

    def _federated(
        self, index: str, query: SearchQuery, q: str, params: dict[str, Any], *, concepts: bool
    ) -> dict[str, Any]:
        """The words' search merged with the listings tagged with the query's concepts (a document
        both find counts once, at its better weighted score), each split in fresh and demoted documents
        when the query demotes some. Meilisearch counts the total and facets over the union."""
        uid = self.uid(index)
        words = {**params, "indexUid": uid, "q": q, "federationOptions": {"weight": 1.0}}
        queries = [words, *(concept_queries(uid, query, params) if concepts else [])]
        if query.demote is not None and not query.sort:
            queries = demoted_queries(queries, query.demote)
        federation: dict[str, Any] = {"offset": query.offset, "limit": query.limit}
        if query.facets:
            federation |= {"facetsByIndex": {uid: list(query.facets)}, "mergeFacets": {}}
        return self.client.multi_search(queries, federation)

    async def search(self, index: str, query: SearchQuery) -> SearchResult:
        return await self._run(self._search, index, query)  # type: ignore[no-any-return]

    def _rebuild(self, index: str, documents: Iterable[dict[str, Any]]) -> int:
        live, temporary = self.uid(index), f"{self.uid(index)}_rebuild_{int(time.time())}"
        self._ensure(live, CONFIGS[index])
        self._ensure(temporary, CONFIGS[index])
        batch: list[dict[str, Any]] = []
        count = 0
        for document in documents:
            batch.append(document)
            count += 1
            if len(batch) == BATCH:
                self._upsert(temporary, batch)
                batch = []
        self._upsert(temporary, batch)
        self._wait(self.client.swap_indexes([{"indexes": [live, temporary]}]))
        self._wait(self.client.delete_index(temporary))
        return count

    async def rebuild(self, index: str, documents: Iterable[dict[str, Any]]) -> int:
        return await self._run(self._rebuild, index, list(documents))  # type: ignore[no-any-return]

    async def health(self) -> bool:
        try:
            return (await self._run(self.client.health)).get("status") == "available"  # type: ignore[no-any-return]
        except Exception:
            return False

    async def stats(self) -> dict[str, int]:
        counts = {}
        for name in INDEXES:
            stats = await self._run(self.client.index(self.uid(name)).get_stats)
            counts[name] = int(stats.number_of_documents)
        return counts

    async def close(self) -> None:
        return None
