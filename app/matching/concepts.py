"""Concept tagging: which taxonomy concepts a text mentions, in Vietnamese, English or Japanese.

Labels and synonyms are matched as whole phrases on folded words (so "xu ly
nuoc thai" and "xử lý nước thải" both tag `wastewater-treatment`). Japanese
has no spaces: a Japanese label counts only where it starts and ends on word
boundaries that a morphological analyser (Sudachi) finds, so エビ does not tag
shrimp inside エビデンス. Where one match lies inside a longer one, the longer
wins ("khí nhà kính", 温室効果ガス are greenhouse gases, not greenhouses);
a concept also tags the broader concepts the taxonomy names for it
(floating solar → solar photovoltaics). A label of three words or more
also matches with up to two other words between its words, in its order
("lò nung gạch men tốn ga" names "lò nung tốn ga"): people describing a
problem put the object between the words of its name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from app.search.text import fold, is_cjk, words
from app.taxonomy.data import get_taxonomy

MAX_PHRASE_WORDS = 6
# Raised whenever a change here tags texts differently: stored concepts are then inferred again
# (app/taxonomy/retag.py), as after a change to the taxonomy.
TAGGER_VERSION = 2
# Words a long label's words may have between them in prose; shorter labels ("xử lý", "heat pump") match as written.
MAX_GAP = 2
GAPPED_LABEL_WORDS = 3
_WORD = re.compile(r"\w+", re.UNICODE)
_CJK_LABEL_CHARS = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f]")
_CJK_RUN = re.compile(f"(?:{_CJK_LABEL_CHARS.pattern})+")


@dataclass(frozen=True)
class ConceptIndex:
    phrases: dict[tuple[str, ...], frozenset[str]]  # folded word sequence → concept ids
    # upper-case labels of up to four letters (AI, RO, ITS, EDGE, HIS) → ids: in prose matched case-exact, since
    # folded they are everyday words ("ai" is Vietnamese for "who", "its" and "his" English); in a query, any case
    acronyms: dict[str, frozenset[str]]
    cjk: dict[str, frozenset[str]]  # Japanese label → concept ids
    broader: dict[str, frozenset[str]]  # concept id → all its broader concepts (transitively)
    # folded word sequence → the labels' own (lower-cased) spellings, tones kept: a query that writes
    # its tones names a concept only if they agree ("máy ép bún" is a noodle press, not "máy ép bùn")
    spellings: dict[tuple[str, ...], frozenset[tuple[str, ...]]]
    long_phrases: dict[str, tuple[tuple[str, ...], ...]]  # first folded word → labels that may match with gaps


@lru_cache
def concept_index() -> ConceptIndex:
    taxonomy = get_taxonomy()
    phrases: dict[tuple[str, ...], set[str]] = {}
    cjk: dict[str, set[str]] = {}
    acronyms: dict[str, set[str]] = {}
    spellings: dict[tuple[str, ...], set[tuple[str, ...]]] = {}
    for concept in taxonomy.concepts.values():
        for label in [*concept.labels.values(), *concept.synonyms]:
            if is_cjk(label):
                cjk.setdefault(label, set()).add(concept.id)
                continue
            key = tuple(fold(w) for w in words(label))
            if len(key) == 1 and len(key[0]) <= 4 and label.strip().isupper():
                acronyms.setdefault(label.strip(), set()).add(concept.id)
            elif key and len(key) <= MAX_PHRASE_WORDS and not (len(key) == 1 and len(key[0]) < 3):
                phrases.setdefault(key, set()).add(concept.id)
                spellings.setdefault(key, set()).add(tuple(words(label)))
    broader: dict[str, frozenset[str]] = {}
    for concept_id in taxonomy.concepts:
        seen: set[str] = set()
        todo = list(taxonomy.concepts[concept_id].broader)
        while todo:
            parent = todo.pop()
            if parent not in seen:
                seen.add(parent)
                todo.extend(taxonomy.concepts[parent].broader)
        broader[concept_id] = frozenset(seen)
    return ConceptIndex(
        phrases={k: frozenset(v) for k, v in phrases.items()},
        acronyms={k: frozenset(v) for k, v in acronyms.items()},
        cjk={k: frozenset(v) for k, v in cjk.items()},
        broader=broader,
        spellings={k: frozenset(v) for k, v in spellings.items()},
        long_phrases=_by_first_word([key for key in phrases if len(key) >= GAPPED_LABEL_WORDS]),
    )


def _by_first_word(keys: list[tuple[str, ...]]) -> dict[str, tuple[tuple[str, ...], ...]]:
    grouped: dict[str, list[tuple[str, ...]]] = {}
    for key in keys:
        grouped.setdefault(key[0], []).append(key)
    return {first: tuple(group) for first, group in grouped.items()}


@lru_cache(maxsize=1)
def _japanese_tokenizer() -> Any:
    """Sudachi with its core dictionary, loaded once (about a second); mode A cuts the finest units, so
    every word boundary a label can start or end on is known."""
    from sudachipy import Dictionary, SplitMode

    tokenizer = Dictionary(dict="core").tokenizer(mode=SplitMode.A)
    return tokenizer, SplitMode.A


def japanese_boundaries(text: str) -> set[int]:
    """Character offsets where a Japanese word starts or ends."""
    tokenizer, mode = _japanese_tokenizer()
    boundaries = {0, len(text)}
    # Sudachi refuses inputs over ~49 KB; listings are far shorter, but cut long texts at line breaks.
    for offset, chunk in _chunks(text, 4000):
        for morpheme in tokenizer.tokenize(chunk, mode):
            boundaries.add(offset + morpheme.begin())
            boundaries.add(offset + morpheme.end())
    return boundaries


def _chunks(text: str, size: int) -> list[tuple[int, str]]:
    return [(start, text[start : start + size]) for start in range(0, len(text), size)] or [(0, "")]


def _innermost_dropped(spans: list[tuple[int, int, frozenset[str]]]) -> set[str]:
    """Concepts of the matches not lying strictly inside a longer match."""
    kept: set[str] = set()
    for start, end, ids in spans:
        inside = any(s <= start and end <= e and (e - s) > (end - start) for s, e, _ in spans)
        if not inside:
            kept |= ids
    return kept


def _latin_concepts(text: str, index: ConceptIndex) -> set[str]:
    # Latin words inside Japanese text ("画像認識AIによる") count too: cut them out of the CJK run.
    raw = _WORD.findall(_CJK_LABEL_CHARS.sub(" ", text))
    lowered = [w.lower() for w in raw]
    tokens = [fold(w) for w in lowered]
    spans = [(i, i + 1, index.acronyms[w]) for i, w in enumerate(raw) if w in index.acronyms]
    for start in range(len(tokens)):
        for length in range(1, min(MAX_PHRASE_WORDS, len(tokens) - start) + 1):
            key = tuple(tokens[start : start + length])
            ids = index.phrases.get(key)
            # Written tones must agree with the label's, as in a query: "tôi" (I) is not "tời" (a winch),
            # "công nhân" (workers) not "công nhận" (accreditation); unmarked text matches either, but for
            # a one-word label with marks: "toi", "vai" are far more often "tôi" (I), "vài" (a few) than
            # "tời", "vải" (cloth). A search query may still mean it (query_concept_words).
            written = lowered[start : start + length]
            if ids and any(
                _same_tones(written, label) and (length > 1 or written[0] == label[0] or label[0] == fold(label[0]))
                for label in index.spellings[key]
            ):
                spans.append((start, start + length, ids))
    gapped = [
        (positions[0], positions[-1] + 1, index.phrases[key])
        for start, token in enumerate(tokens)
        for key in index.long_phrases.get(token, ())
        if (positions := _gapped_positions(tokens, start, key))
        and any(_same_tones([lowered[i] for i in positions], label) for label in index.spellings[key])
    ]
    # a match with gaps adds its concept, but never hides an exact one it spans
    return _innermost_dropped(spans) | _innermost_dropped(gapped + spans)


def _gapped_positions(tokens: list[str], start: int, key: tuple[str, ...]) -> list[int] | None:
    """Where the label's words lie from `start` on, each within MAX_GAP words of the one before; None when
    they don't, or when they are contiguous (an exact match, found already)."""
    positions = [start]
    for word in key[1:]:
        after = positions[-1] + 1
        found = next((i for i in range(after, min(len(tokens), after + MAX_GAP + 1)) if tokens[i] == word), None)
        if found is None:
            return None
        positions.append(found)
    return positions if positions[-1] - start + 1 > len(key) else None


def _japanese_spans(text: str, index: ConceptIndex) -> list[tuple[int, int, frozenset[str]]]:
    """Japanese labels found on word boundaries, those inside a longer match left out."""
    if not _CJK_LABEL_CHARS.search(text):
        return []
    candidates = []
    for label in index.cjk:  # every occurrence, overlapping ones too (a regex alternation hides them)
        start = text.find(label)
        while start >= 0:
            candidates.append((start, start + len(label), index.cjk[label]))
            start = text.find(label, start + 1)
    if not candidates:
        return []
    boundaries = japanese_boundaries(text)
    spans = [(s, e, ids) for s, e, ids in candidates if s in boundaries and e in boundaries]
    return [
        (start, end, ids)
        for start, end, ids in spans
        if not any(s <= start and end <= e and (e - s) > (end - start) for s, e, _ in spans)
    ]


def _japanese_concepts(text: str, index: ConceptIndex) -> set[str]:
    return {concept_id for _, _, ids in _japanese_spans(text, index) for concept_id in ids}


def infer_concepts(*texts: str) -> list[str]:
    """Concept ids mentioned in the texts, with their broader concepts, in taxonomy order."""
    index = concept_index()
    found: set[str] = set()
    for text in texts:
        if not text:
            continue
        found |= _latin_concepts(text, index)
        found |= _japanese_concepts(text, index)
    return with_broader(found)


def with_broader(concept_ids: Iterable[str]) -> list[str]:
    """The concepts and all their broader ones, in taxonomy order."""
    index = concept_index()
    found = set(concept_ids)
    for concept_id in list(found):
        found |= index.broader[concept_id]
    return sorted(found, key=_taxonomy_order().__getitem__)


def narrowest(concept_ids: Iterable[str]) -> list[str]:
    """The concepts of the list that none of the others is a kind of: its own topics, without the broader
    ones they bring (floating solar, not solar photovoltaics too)."""
    index = concept_index()
    ids = list(dict.fromkeys(concept_ids))
    implied = {parent for concept_id in ids for parent in index.broader.get(concept_id, ())}
    return [concept_id for concept_id in ids if concept_id not in implied]


@lru_cache(maxsize=1)
def _taxonomy_order() -> dict[str, int]:
    return {concept_id: position for position, concept_id in enumerate(get_taxonomy().concepts)}


def query_concept_words(query: str) -> dict[str, frozenset[int]]:
    """The concepts a search query names, each with the positions of the query words that name it:
    the query's Latin-script words (`QueryTerms.folded_words`) first, then its CJK runs, the order in
    which the engines count a query's words. "tái chế rác thải điện tử" → {e-waste-recycling: {0…5}}.
    A listing tagged with the concept answers those words whatever language it is written in. A
    Japanese label in a run of which it is less than half names no word ("れんが工場の排熱回収" →
    {heat-recovery: {}}): a topic of the query still. Broader concepts are not listed."""
    index = concept_index()
    raw = [w for w in _WORD.findall(query) if not _CJK_LABEL_CHARS.search(w)]
    lowered = [w.lower() for w in raw]
    tokens = [fold(w) for w in lowered]
    # a query is keywords, typed in any case: "plc" asks for PLC
    spans = [(i, i + 1, index.acronyms[w.upper()]) for i, w in enumerate(raw) if w.upper() in index.acronyms]
    for start in range(len(tokens)):
        for length in range(1, min(MAX_PHRASE_WORDS, len(tokens) - start) + 1):
            key = tuple(tokens[start : start + length])
            ids = index.phrases.get(key)
            if ids and any(_same_tones(lowered[start : start + length], label) for label in index.spellings[key]):
                spans.append((start, start + length, ids))
    named: dict[str, set[int]] = {}
    for start, end, ids in spans:
        if not any(s <= start and end <= e and (e - s) > (end - start) for s, e, _ in spans):
            for concept_id in ids:
                named.setdefault(concept_id, set()).update(range(start, end))
    for offset, run in enumerate(_CJK_RUN.findall(query), start=len(tokens)):
        covered: dict[str, int] = {}
        for start, end, ids in _japanese_spans(run, index):
            for concept_id in ids:
                covered[concept_id] = covered.get(concept_id, 0) + end - start
        for concept_id, length in covered.items():
            # a label naming most of the run ("防食" in "防食塗料") stands for it; one word of a longer
            # run ("排熱回収" in "れんが工場の排熱回収") names a topic of the query but not the whole run
            words = named.setdefault(concept_id, set())
            if 2 * length >= len(run):
                words.add(offset)
    return {concept_id: frozenset(positions) for concept_id, positions in named.items()}


def _same_tones(query_words: list[str], label_words: tuple[str, ...]) -> bool:
    """Whether the query's words may be the label's: equal as written, or one of the two unmarked."""
    return all(q == w or q == fold(q) or w == fold(w) for q, w in zip(query_words, label_words, strict=True))
