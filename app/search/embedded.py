"""The embedded search engine: tantivy indexes in a folder, no server to run.

Each searchable text is indexed twice: as written (lower-cased, diacritics
kept) and folded (`text.fold`: "xử lý" → "xu ly"). A query word matches the
folded variant, so it need not carry diacritics; when it does, it also
matches the exact variant, which outranks a folded-only match ("đường" above
"Dương"). Japanese and other CJK text goes to a bigram field. Typos are
fuzzy terms whose distance grows with the word's length; the last word also
matches as a prefix (search-as-you-type).

Layout: `INDEX_DIR/<index>/<generation>/` with `INDEX_DIR/<index>/CURRENT`
naming the live generation, so a rebuild is written aside and swapped in.
One process writes (the indexer); any process may search.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import shutil
import threading
import time
import uuid
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import tantivy

from app.search.backend import Filter, RangeFilter, SearchHit, SearchQuery, SearchResult, TermFilter
from app.search.documents import Fields, display
from app.search.index_config import CONFIGS, HIGHLIGHTED, INDEXES, IndexConfig
from app.search.text import QueryTerms, fold, highlight, typo_distance

SOURCE = "_source"
FOLDED = "__folded"
WORDS_TOKENIZER = "techex_words"
BIGRAM_TOKENIZER = "techex_bigrams"
WRITER_HEAP_BYTES = 64_000_000
READER_REFRESH_SECONDS = 0.5
EXACT_BOOST = 2.0
PREFIX_BOOST = 0.6
TYPO_BOOST = 0.3
FLOAT_FIELDS = {Fields.PRICE_MIN}
MAX_FACET_VALUES = 1000  # every taxonomy concept (~460) fits
# Facet counts run beside the ranking pass of the same search.
_COUNTING = ThreadPoolExecutor(max_workers=os.cpu_count() or 2, thread_name_prefix="search-facets")


def _schema(config: IndexConfig) -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field(Fields.ID, tokenizer_name="raw", fast=True)
    builder.add_text_field(SOURCE, stored=True, tokenizer_name="raw", index_option="basic")
    for name, _weight in config.searchable:
        builder.add_text_field(name, tokenizer_name=WORDS_TOKENIZER)
        builder.add_text_field(name + FOLDED, tokenizer_name=WORDS_TOKENIZER)
    builder.add_text_field(Fields.CJK, tokenizer_name=BIGRAM_TOKENIZER)
    for name in config.keyword_filters:
        builder.add_text_field(name, tokenizer_name="raw", fast=True)
    for name in config.numeric:
        if name in FLOAT_FIELDS:
            builder.add_float_field(name, indexed=True, fast=True)
        else:
            builder.add_integer_field(name, indexed=True, fast=True)
    return builder.build()


def _register_tokenizers(index: tantivy.Index) -> None:
    words = tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple()).filter(tantivy.Filter.lowercase()).build()
    index.register_tokenizer(WORDS_TOKENIZER, words)
    index.register_tokenizer(BIGRAM_TOKENIZER, tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.whitespace()).build())


def _keyword(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def _to_tantivy(config: IndexConfig, document: dict[str, Any]) -> tantivy.Document:
    doc = tantivy.Document()
    doc.add_text(Fields.ID, document[Fields.ID])
    doc.add_text(SOURCE, json.dumps(display(document), ensure_ascii=False))
    for name, _weight in config.searchable:
        text = document.get(name) or ""
        doc.add_text(name, text)
        doc.add_text(name + FOLDED, fold(text))
    doc.add_text(Fields.CJK, document.get(Fields.CJK) or "")
    for name in config.keyword_filters:
        value = document.get(name)
        for item in value if isinstance(value, list) else [value]:
            if item is not None:
                doc.add_text(name, _keyword(item))
    for name in config.numeric:
        value = document.get(name)
        if value is not None:
            if name in FLOAT_FIELDS:
                doc.add_float(name, float(value))
            else:
                doc.add_integer(name, int(value))
    return doc


class _LiveIndex:
    """One index: the live generation, its reader and (in the writing process) its writer."""

    def __init__(self, root: Path, config: IndexConfig) -> None:
        self.root = root
        self.config = config
        self.schema = _schema(config)
        self.generation = ""
        self.index: tantivy.Index | None = None
        self.writer: Any = None
        self.refreshed_at = 0.0
        self.meta_stamp = -1
        self.lock = threading.Lock()

    def _current(self) -> str | None:
        pointer = self.root / "CURRENT"
        return pointer.read_text().strip() if pointer.exists() else None

    def _open(self, generation: str) -> tantivy.Index:
        path = self.root / generation
        path.mkdir(parents=True, exist_ok=True)
        index = tantivy.Index(self.schema, path=str(path), reuse=True)
        _register_tokenizers(index)
        return index

    def ensure(self) -> None:
        with self.lock:
            generation = self._current()
            if generation is None:
                generation = f"g{int(time.time() * 1000)}"
                self._open(generation)
                self._write_pointer(generation)
            if generation != self.generation or self.index is None:
                if self.writer is not None:
                    self.writer.wait_merging_threads()
                    self.writer = None
                self.index = self._open(generation)
                self.generation = generation

    def _write_pointer(self, generation: str) -> None:
        temporary = self.root / f"CURRENT.{uuid.uuid4().hex}"
        temporary.write_text(generation)
        os.replace(temporary, self.root / "CURRENT")  # atomic: readers see the old or the new

    def searcher(self) -> tantivy.Searcher:
        now = time.monotonic()
        if self.index is None or now - self.refreshed_at > READER_REFRESH_SECONDS:
            self.refreshed_at = now
            if self.index is None or self._current() != self.generation:  # None: never opened, or closed
                self.ensure()
            # Reloading reopens segment readers (costly on a large index): only after a commit,
            # which rewrites meta.json.
            stamp = self._meta_stamp()
            if stamp != self.meta_stamp:
                assert self.index is not None
                self.index.reload()
                self.meta_stamp = stamp
        assert self.index is not None
        return self.index.searcher()

    def _meta_stamp(self) -> int:
        try:
            return (self.root / self.generation / "meta.json").stat().st_mtime_ns
        except OSError:
            return 0

    def write(self, upserts: list[dict[str, Any]], deletes: list[str]) -> None:
        self.ensure()
        with self.lock:
            assert self.index is not None
            if self.writer is None:
                self.writer = self.index.writer(heap_size=WRITER_HEAP_BYTES, num_threads=1)
            for doc_id in [*deletes, *(d[Fields.ID] for d in upserts)]:
                self.writer.delete_documents_by_term(Fields.ID, doc_id)
            for document in upserts:
                self.writer.add_document(_to_tantivy(self.config, document))
            self.writer.commit()
            self.index.reload()
            self.meta_stamp = self._meta_stamp()
            self.refreshed_at = time.monotonic()

    def rebuild(self, documents: Iterable[dict[str, Any]]) -> int:
        generation = f"g{int(time.time() * 1000)}"
        fresh = self._open(generation)
        writer = fresh.writer(heap_size=WRITER_HEAP_BYTES * 2, num_threads=1)
        count = 0
        for document in documents:
            writer.add_document(_to_tantivy(self.config, document))
            count += 1
        writer.commit()
        writer.wait_merging_threads()
        previous = self.generation
        self._write_pointer(generation)
        self.ensure()
        for old in self.root.iterdir():
            if old.is_dir() and old.name not in (generation, previous):
                shutil.rmtree(old, ignore_errors=True)
        return count

    def close(self) -> None:
        """Let go of the writer and the index, and so of their threads: the writer's indexing, merging
        and segment-updating threads (joined here) and the reader's watcher of `meta.json` (stopped
        once the index is dropped). A search after this opens the index again."""
        with self.lock:
            if self.writer is not None:
                self.writer.wait_merging_threads()
                self.writer = None
            self.index = None
            self.generation = ""
            self.meta_stamp = -1
            self.refreshed_at = 0.0


class EmbeddedBackend:
    name = "embedded"

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.indexes = {name: _LiveIndex(directory / name, CONFIGS[name]) for name in INDEXES}

    async def ensure_indexes(self) -> None:
        await asyncio.to_thread(self._ensure_all)

    def _ensure_all(self) -> None:
        for live in self.indexes.values():
            live.root.mkdir(parents=True, exist_ok=True)
            live.ensure()

    async def upsert(self, index: str, documents: list[dict[str, Any]]) -> None:
        await asyncio.to_thread(self.indexes[index].write, documents, [])

    async def delete(self, index: str, ids: list[str]) -> None:
        await asyncio.to_thread(self.indexes[index].write, [], ids)

    async def apply(self, index: str, upserts: list[dict[str, Any]], deletes: list[str]) -> None:
        """Upserts and deletes in one commit."""
        await asyncio.to_thread(self.indexes[index].write, upserts, deletes)

    async def rebuild(self, index: str, documents: Iterable[dict[str, Any]]) -> int:
        return await asyncio.to_thread(self.indexes[index].rebuild, documents)

    async def search(self, index: str, query: SearchQuery) -> SearchResult:
        return await asyncio.to_thread(self._search, self.indexes[index], query)

    async def health(self) -> bool:
        try:
            await asyncio.to_thread(lambda: [live.searcher().num_docs for live in self.indexes.values()])
        except Exception:
            return False
        return True

    async def stats(self) -> dict[str, int]:
        return await asyncio.to_thread(lambda: {n: live.searcher().num_docs for n, live in self.indexes.items()})

    async def close(self) -> None:
        def close_all() -> None:
            for live in self.indexes.values():
                live.close()

        await asyncio.to_thread(close_all)

    # --- querying ------------------------------------------------------------------------

    def _search(self, live: _LiveIndex, query: SearchQuery) -> SearchResult:
        started = time.perf_counter()
        if live.index is None:
            live.ensure()
        searcher = live.searcher()
        config = live.config.searching_only(query.fields)
        terms = QueryTerms.parse(query.q)
        if query.match_any:
            terms = _informative(searcher, config, terms)
        filters = [(tantivy.Occur.Must, _filter_query(live.schema, f)) for f in query.filters]
        ranked = not (query.match_any or not query.fuzzy or query.sort)
        count = len(terms.folded_words) + len(terms.cjk_runs)
        required, fewest = required_words(count), fewest_words(count)
        counting: Future[dict[str, dict[str, int]]] | None = None
        while True:
            matching = None
            if ranked:
                # own words only: no concept either
                concepts = () if query.fields else query.concepts
                concept_words = () if query.fields else query.concept_words
                # once words drop out, the rest must match as written: a typo of a short word finds too much
                fuzzy = required == required_words(count)
                ranking = (live.schema, config, terms, required, concepts, fuzzy, concept_words)
                text_query = _ranked_text_query(*ranking)
                if query.facets:
                    # the same documents without the clauses that only rank them: counting needs no score
                    matching = _with_filters(_ranked_text_query(*ranking, scored=False), filters)
            else:
                text_query = _text_query(live.schema, config, terms, match_any=query.match_any, fuzzy=query.fuzzy)
            combined = _with_filters(text_query, filters)
            if query.facets:
                # counted beside the ranking (tantivy lets go of the GIL): a page with facets waits for
                # the slower of the two passes over the matches, not for both
                counting = _COUNTING.submit(_facets, searcher, combined if matching is None else matching, query.facets)
            result = _run_query(searcher, _demoting(live.schema, combined, query), query)
            # a word no document has drops out (one at a time) instead of emptying the result
            if not ranked or required <= fewest or result.hits or query.offset:
                break
            required -= 1
        hits = []
        for score, address in result.hits:
            document = json.loads(searcher.doc(address)[SOURCE][0])
            highlights = _highlights(document, terms) if query.highlight and query.q else {}
            hits.append(SearchHit(id=document[Fields.ID], score=float(score), document=document, highlights=highlights))
        facets = counting.result() if counting is not None else {}
        total = int(getattr(result, "count", 0) or 0)
        return SearchResult(hits, total, facets, round((time.perf_counter() - started) * 1000, 2))


def _with_filters(
    text_query: tantivy.Query | None, filters: list[tuple[tantivy.Occur, tantivy.Query]]
) -> tantivy.Query:
    clauses = [(tantivy.Occur.Must, text_query)] if text_query is not None else []
    return tantivy.Query.boolean_query(clauses + filters) if clauses + filters else tantivy.Query.all_query()


def _run_query(searcher: tantivy.Searcher, combined: tantivy.Query, query: SearchQuery) -> Any:
    order_field, descending = _sort(query.sort)
    if order_field is None:
        return searcher.search(combined, query.limit, count=query.with_total, offset=query.offset)
    order = tantivy.Order.Desc if descending else tantivy.Order.Asc
    return searcher.search(
        combined,
        query.limit,
        count=query.with_total,
        order_by_field=order_field,
        offset=query.offset,
        order=order,
    )


def _sort(sort: str | None) -> tuple[str | None, bool]:
    if not sort:
        return None, False
    return sort.lstrip("-"), sort.startswith("-")


# In "any word" queries, words in more than this share of documents say little and cost much.
COMMON_WORD_SHARE = 0.05


def _informative(searcher: tantivy.Searcher, config: IndexConfig, terms: QueryTerms) -> QueryTerms:
    """The query without its most common words (kept whole when every word is common)."""
    limit = max(1, int(searcher.num_docs * COMMON_WORD_SHARE))
    title_field = config.searchable[0][0] + FOLDED
    kept = [
        (raw, folded)
        for raw, folded in zip(terms.raw_words, terms.folded_words, strict=True)
        if searcher.doc_freq(title_field, folded) <= limit
    ]
    if not kept:
        return terms
    return QueryTerms(tuple(r for r, _ in kept), tuple(f for _, f in kept), terms.bigrams, False)


def _word_query(
    schema: tantivy.Schema, config: IndexConfig, raw: str, folded: str, prefix: bool, fuzzy: bool = True
) -> tantivy.Query:
    """One query word against every searchable field: exact, folded, typo-tolerant, prefix."""
    alternatives = []
    distance = typo_distance(folded) if fuzzy else 0
    for name, weight in config.searchable:
        alternatives.append(tantivy.Query.boost_query(tantivy.Query.term_query(schema, name + FOLDED, folded), weight))
        if raw != folded:
            exact = tantivy.Query.term_query(schema, name, raw)
            alternatives.append(tantivy.Query.boost_query(exact, weight * EXACT_BOOST))
        if distance:
            typo = tantivy.Query.fuzzy_term_query(schema, name + FOLDED, folded, distance=distance)
            alternatives.append(tantivy.Query.boost_query(typo, weight * TYPO_BOOST))
        if prefix:
            starts = tantivy.Query.fuzzy_term_query(schema, name + FOLDED, folded, distance=0, prefix=True)
            alternatives.append(tantivy.Query.boost_query(starts, weight * PREFIX_BOOST))
    return tantivy.Query.disjunction_max_query(alternatives, tie_breaker=0.2)


def _text_query(
    schema: tantivy.Schema, config: IndexConfig, terms: QueryTerms, *, match_any: bool = False, fuzzy: bool = True
) -> tantivy.Query | None:
    """Plain relevance over the words and CJK bigrams: the matching service's "any word" query, and
    sorted searches (where a score cannot rank, so every word must match, one spared from three)."""
    groups: list[tantivy.Query] = []
    count = len(terms.folded_words)
    for position, (raw, folded) in enumerate(zip(terms.raw_words, terms.folded_words, strict=True)):
        prefix = fuzzy and terms.last_is_prefix and position == count - 1
        groups.append(_word_query(schema, config, raw, folded, prefix, fuzzy))
    if terms.bigrams:
        grams = [(tantivy.Occur.Should, tantivy.Query.term_query(schema, Fields.CJK, g)) for g in terms.bigrams]
        required = 1 if match_any else max(1, math.ceil(len(grams) * 0.6))
        groups.append(tantivy.Query.boolean_query(grams, minimum_number_should_match=required))
    if not groups:
        return None
    required = 1 if match_any else len(groups) if len(groups) <= 2 else len(groups) - 1
    return tantivy.Query.boolean_query(
        [(tantivy.Occur.Should, g) for g in groups], minimum_number_should_match=required
    )


# Public search ranks like Meilisearch's rules, in this order: how many query words a document
# matches (a word no document has drops out instead of emptying the result), then how many it
# matches with their exact tones, then how many without a typo, then how many of its neighbouring
# word pairs it has side by side (proximity), then relevance. Each tier is a constant far above the next.
# Concepts bridge languages. A listing tagged with a concept the query names has the words that name
# it, in whatever language it is written ("tái chế rác thải điện tử" names e-waste recycling: a
# Japanese listing tagged with it has all six words; the tone and typo tiers stay with a listing's
# own words, which also keeps the tag cheap to score), and each topic the query names that the
# listing is about counts for three words more. A broader concept (recycling, for e-waste recycling)
# names no word of the query: a listing tagged only with it is found, and ranks below every listing
# with more of the words — a thin listing tagged with one broad concept gains little.
WORD_SCORE = 1000.0
CONCEPT_SCORE = 3 * WORD_SCORE  # for each concept the query names that the listing is tagged with
TONE_SCORE = 100.0
NO_TYPO_SCORE = 10.0
BROADER_CONCEPT_SCORE = 3.0  # tagged with any query concept, broader ones included
PAIR_SCORE = 1.0
RELEVANCE_SCALE = 0.001  # a word's BM25 (× field weight) stays well under PAIR_SCORE once scaled
# A document the query demotes (`SearchQuery.demote`: an expert profile not confirmed for a year) ranks
# below the fresh ones with as many of the words and tones, and above those with fewer: freshness counts
# after the words and tones tiers, before typos, proximity and relevance (the typo and proximity tiers
# together stay under it for queries of up to seven words).
FRESH_SCORE = 90.0
CJK_RUN_SHARE = 0.6  # of a CJK run's bigrams a document must have for the run to count as matched


def _any_term(schema: tantivy.Schema, names: list[str], word: str, prefix: bool = False) -> tantivy.Query:
    """The word itself (or as a prefix) in any of the fields."""
    if prefix:
        terms = [tantivy.Query.fuzzy_term_query(schema, name, word, distance=0, prefix=True) for name in names]
    else:
        terms = [tantivy.Query.term_query(schema, name, word) for name in names]
    return tantivy.Query.boolean_query([(tantivy.Occur.Should, t) for t in terms])


def required_words(count: int) -> int:
    """How many of the query's words (CJK runs count as words) a document must have at first:
    all of one or two, all but one of more. `_search` drops words one by one while nothing matches,
    down to `fewest_words`."""
    return count if count <= 2 else count - 1


def fewest_words(count: int) -> int:
    """A listing with fewer than half the query's words is not an answer to it, however few match."""
    return max(1, math.ceil(count / 2))


def _ranked_text_query(
    schema: tantivy.Schema,
    config: IndexConfig,
    terms: QueryTerms,
    required: int,
    concepts: tuple[str, ...] = (),
    fuzzy: bool = True,
    concept_words: tuple[tuple[str, tuple[int, ...]], ...] = (),
    *,
    scored: bool = True,
) -> tantivy.Query | None:
    """Documents with `required` of the words (a word counts where the document is tagged with a
    concept the query names with it), or tagged with a query concept; documents matching more of the
    query rank first. `scored=False`: the same documents, without the clauses that only rank (for
    facet counts).

    Each word's clauses are evaluated once: the word tier both selects (how many words a document has)
    and scores, and the tones, no-typo and proximity tiers only rank what the words found (tantivy
    advances such optional clauses to the documents already matched instead of reading their postings
    whole). A typo-tolerant term reads every posting of every spelling it allows, so evaluating a word
    twice cost nearly twice the query."""
    tiers: list[tantivy.Query] = []
    count = len(terms.folded_words)
    names = [name for name, _ in config.searchable]
    taggable = Fields.CONCEPTS in config.keyword_filters
    naming: dict[int, list[str]] = {}
    for concept_id, positions in concept_words if taggable else ():
        for position in positions:
            naming.setdefault(position, []).append(concept_id)

    def tier(matched: tantivy.Query, position: int, ranks: list[tuple[tantivy.Query, float]]) -> tantivy.Query:
        """WORD_SCORE where the document has the word (or a concept naming it), plus the word's scaled
        relevance, plus the constants of `ranks` (subsets of the word's documents)."""
        found = tantivy.Query.boost_query(matched, RELEVANCE_SCALE) if scored else matched
        if position in naming:
            tagged = tantivy.Query.term_set_query(schema, Fields.CONCEPTS, naming[position])
            found = tantivy.Query.boolean_query(
                [(tantivy.Occur.Should, found), (tantivy.Occur.Should, tantivy.Query.const_score_query(tagged, 0.0))]
            )
        if not scored:
            return found
        # the constant rides on the match as an optional clause: an all-documents scorer seeks for free
        counted = tantivy.Query.boolean_query([(tantivy.Occur.Must, found), (tantivy.Occur.Should, _WORD_CONSTANT)])
        if not ranks:
            return counted
        optional = [(tantivy.Occur.Should, tantivy.Query.const_score_query(q, score)) for q, score in ranks]
        return tantivy.Query.boolean_query([(tantivy.Occur.Must, counted), *optional])

    for position, (raw, folded) in enumerate(zip(terms.raw_words, terms.folded_words, strict=True)):
        prefix = terms.last_is_prefix and position == count - 1
        word = _word_query(schema, config, raw, folded, prefix, fuzzy)
        ranks = [(_any_term(schema, [n + FOLDED for n in names], folded, prefix), NO_TYPO_SCORE)]
        if raw != folded:
            # tones are the text's own: a listing with the very words outranks one only tagged with their concept
            ranks.append((_any_term(schema, names, raw), TONE_SCORE))
        tiers.append(tier(word, position, ranks))
    for offset, run in enumerate(terms.cjk_runs, start=count):
        grams = [(tantivy.Occur.Should, tantivy.Query.term_query(schema, Fields.CJK, g)) for g in run]
        share = max(1, math.ceil(len(grams) * CJK_RUN_SHARE))
        tiers.append(tier(tantivy.Query.boolean_query(grams, minimum_number_should_match=share), offset, []))
    words = [(tantivy.Occur.Should, t) for t in tiers]
    if concepts and taggable:
        # a tagged listing is found with fewer words (or none: another language), and those it has still
        # count: the tag joins the words' count as `required` clauses (scoring 0 but one), so the words
        # are read once, both to select and to rank
        tagged = tantivy.Query.term_set_query(schema, Fields.CONCEPTS, list(concepts))
        standing_in = max(1, required)
        extra = [(tantivy.Occur.Should, tantivy.Query.const_score_query(tagged, BROADER_CONCEPT_SCORE))]
        extra += [(tantivy.Occur.Should, tantivy.Query.const_score_query(tagged, 0.0))] * (standing_in - 1)
        clauses = [
            (tantivy.Occur.Must, tantivy.Query.boolean_query(words + extra, minimum_number_should_match=standing_in))
        ]
        if not scored:
            return clauses[0][1]
        # each topic the query names that the listing is about; concepts named by the same words ("nuôi cá":
        # fish farming, and aquaculture by a synonym) are one topic
        topics: dict[tuple[int, ...] | str, list[str]] = {}
        for concept_id, positions in concept_words:  # one naming no whole word is a topic of its own
            topics.setdefault(tuple(positions) or concept_id, []).append(concept_id)
        for same_words in topics.values():
            on_topic = tantivy.Query.term_set_query(schema, Fields.CONCEPTS, same_words)
            clauses.append((tantivy.Occur.Should, tantivy.Query.const_score_query(on_topic, CONCEPT_SCORE)))
    elif tiers:
        enough_words = tantivy.Query.boolean_query(words, minimum_number_should_match=required)
        if not scored:
            return enough_words
        clauses = [(tantivy.Occur.Must, enough_words)]
    else:
        return None
    for position in range(1, count):  # proximity: only ranks, never retrieves
        pair: list[str | tuple[int, str]] = list(terms.folded_words[position - 1 : position + 1])
        prefix = terms.last_is_prefix and position == count - 1
        phrase = tantivy.Query.phrase_prefix_query if prefix else tantivy.Query.phrase_query
        side_by_side = [(tantivy.Occur.Should, phrase(schema, name + FOLDED, pair)) for name in names]
        clauses.append(
            (
                tantivy.Occur.Should,
                tantivy.Query.const_score_query(tantivy.Query.boolean_query(side_by_side), PAIR_SCORE),
            )
        )
    return tantivy.Query.boolean_query(clauses)


_WORD_CONSTANT = tantivy.Query.const_score_query(tantivy.Query.all_query(), WORD_SCORE)


def _demoting(schema: tantivy.Schema, combined: tantivy.Query, query: SearchQuery) -> tantivy.Query:
    """The query with FRESH_SCORE for the documents it does not demote: an optional clause, so the
    demoted ones still match (a sorted search ignores it)."""
    if query.demote is None or query.sort:
        return combined
    fresh = _filter_query(schema, RangeFilter(query.demote.field, gte=query.demote.before))
    return tantivy.Query.boolean_query(
        [
            (tantivy.Occur.Must, combined),
            (tantivy.Occur.Should, tantivy.Query.const_score_query(fresh, FRESH_SCORE)),
        ]
    )


def _filter_query(schema: tantivy.Schema, item: Filter) -> tantivy.Query:
    if isinstance(item, TermFilter):
        return tantivy.Query.term_set_query(schema, item.field, [_keyword(v) for v in item.values])
    field_type = tantivy.FieldType.Float if item.field in FLOAT_FIELDS else tantivy.FieldType.Integer
    cast = float if item.field in FLOAT_FIELDS else _int_bound
    lower = item.gte if item.gte is not None else item.gt
    upper = item.lte if item.lte is not None else item.lt
    return tantivy.Query.range_query(
        schema,
        item.field,
        field_type,
        lower_bound=cast(lower) if lower is not None else None,
        upper_bound=cast(upper) if upper is not None else None,
        include_lower=item.gt is None,
        include_upper=item.lt is None,
    )


def _int_bound(value: float) -> int:
    return int(value)


def _facets(searcher: tantivy.Searcher, query: tantivy.Query, names: tuple[str, ...]) -> dict[str, dict[str, int]]:
    spec = {name: {"terms": {"field": name, "size": MAX_FACET_VALUES}} for name in names}
    raw = searcher.aggregate(query, spec)
    return {
        name: {str(bucket["key"]): int(bucket["doc_count"]) for bucket in raw.get(name, {}).get("buckets", [])}
        for name in names
    }


def _highlights(document: dict[str, Any], terms: QueryTerms) -> dict[str, str]:
    marked: dict[str, str] = {}
    for name in HIGHLIGHTED:
        text = document.get(name)
        if isinstance(text, str) and (hit := highlight(text, terms)):
            marked[name] = hit
    for language, texts in (document.get(Fields.TRANSLATIONS) or {}).items():
        title = texts.get("title") if isinstance(texts, dict) else texts
        if isinstance(title, str) and (hit := highlight(title, terms)):
            marked[f"translations.{language}.title"] = hit
    return marked
