"""Concept tagging: which taxonomy concepts a text mentions, in Vietnamese, English or Japanese.

Labels and synonyms are matched as whole phrases on folded words (so "xu ly
nuoc thai" and "xử lý nước thải" both tag `wastewater-treatment`); Japanese
labels, which have no spaces, are matched as substrings.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from app.search.text import fold, is_cjk, words
from app.taxonomy.data import get_taxonomy

MAX_PHRASE_WORDS = 6


@dataclass(frozen=True)
class ConceptIndex:
    phrases: dict[tuple[str, ...], frozenset[str]]  # folded word sequence → concept ids
    cjk: dict[str, frozenset[str]]  # CJK label → concept ids


@lru_cache
def concept_index() -> ConceptIndex:
    phrases: dict[tuple[str, ...], set[str]] = {}
    cjk: dict[str, set[str]] = {}
    for concept in get_taxonomy().concepts.values():
        for label in [*concept.labels.values(), *concept.synonyms]:
            if is_cjk(label):
                cjk.setdefault(label, set()).add(concept.id)
                continue
            key = tuple(fold(w) for w in words(label))
            if key and len(key) <= MAX_PHRASE_WORDS and not (len(key) == 1 and len(key[0]) < 3):
                phrases.setdefault(key, set()).add(concept.id)
    return ConceptIndex(
        phrases={k: frozenset(v) for k, v in phrases.items()},
        cjk={k: frozenset(v) for k, v in cjk.items()},
    )


def infer_concepts(*texts: str) -> list[str]:
    """Concept ids mentioned in the texts, in taxonomy order."""
    index = concept_index()
    found: set[str] = set()
    for text in texts:
        if not text:
            continue
        tokens = [fold(w) for w in words(text)]
        for start in range(len(tokens)):
            for length in range(1, min(MAX_PHRASE_WORDS, len(tokens) - start) + 1):
                found |= index.phrases.get(tuple(tokens[start : start + length]), frozenset())
        if is_cjk(text):
            for label, ids in index.cjk.items():
                if label in text:
                    found |= ids
    order = {concept_id: position for position, concept_id in enumerate(get_taxonomy().concepts)}
    return sorted(found, key=order.__getitem__)
