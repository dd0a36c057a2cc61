"""The matching engine: pure and deterministic — profiles in, ranked and explained matches out.

A match's score is a weighted sum of features, each in [0, 1]; the weights
live in one `Weights` object. Every feature that contributes becomes a
reason with its contribution and a sentence in Vietnamese, English or
Japanese. Concepts are language-independent, so a Vietnamese need finds an
English or Japanese offer through them.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

from app.search.text import cjk_bigrams, fold_word, words


@dataclass(frozen=True)
class Weights:
    """How much each feature counts; the score is the weighted sum divided by the sum of weights."""

    text: float = 0.45  # lexical similarity: local cosine and the search engine's relevance (LOCAL_TEXT_SHARE)
    concepts: float = 0.30  # shared taxonomy concepts (owner-given or inferred): coverage of the need's topics
    field: float = 0.05  # same field
    subfield: float = 0.02  # sub-fields in common (those of the concepts); more lifts loosely related offers
    trl: float = 0.06  # the offer's TRL reaches the demand's minimum
    budget: float = 0.04  # price range overlaps the budget
    transfer: float = 0.03  # a transfer type both accept
    geography: float = 0.03  # the offer targets the demand's country / province
    language: float = 0.02  # a language in common
    freshness: float = 0.01  # recently updated
    verified: float = 0.01  # the owner is verified
    # Share of the text weight that moves to shared concepts when the two listings have no text in a common
    # language: their words cannot be compared (only names and acronyms may meet), so the topics they share
    # are the evidence there is. Not a feature of its own: the total weight stays the same.
    concepts_across_languages: float = 0.5
    # Tuned on tests/data/matching_eval.yaml with scripts/eval_matching.py; see docs/BENCHMARKS.md.

    def total(self) -> float:
        return float(sum(getattr(self, name) for name in FEATURE_WEIGHTS))


FEATURE_WEIGHTS = tuple(name for name in Weights.__dataclass_fields__ if name != "concepts_across_languages")
DEFAULT_WEIGHTS = Weights()

# Words nearly every listing has (folded): they say nothing of a topic — as "any of these words" a search
# would match the whole catalogue, and in the similarity they make every pair of texts a little alike.
COMMON_WORDS = frozenset(
    [
        "cong",
        "nghe",
        "va",
        "cho",
        "cua",
        "cac",
        "voi",
        "trong",
        "tu",
        "de",
        "la",
        "mot",
        "nhung",
        "duoc",
        "co",
        "khong",
        "can",
        "giai",
        "phap",
        "he",
        "thong",
        "san",
        "xuat",
        "quy",
        "trinh",
        "ung",
        "dung",
        "the",
        "and",
        "for",
        "of",
        "with",
        "in",
        "to",
        "a",
        "an",
        "technology",
        "system",
        "solution",
        "production",
        "process",
        "using",
    ]
)
FRESH_DAYS = 365
# Share of the text feature that is the local, rarity-weighted cosine; the rest is the search engine's relevance,
# which is relative to the best hit (the best of a page of chance matches still scores 1), so it counts less.
# 0.5 before words were weighted by rarity; 0.7 measured best on the development needs and the held-out split
# of tests/data/matching_eval.yaml alike (docs/BENCHMARKS.md).
LOCAL_TEXT_SHARE = 0.7
# More concepts than this on one listing reads as keyword stuffing: its concept score shrinks in proportion.
STUFFED_CONCEPTS = 15


@dataclass(frozen=True)
class Profile:
    """What the engine knows of a listing (offer or demand)."""

    id: str
    kind: str
    field: str
    concepts: frozenset[str]
    inferred_concepts: frozenset[str] = frozenset()
    subfields: frozenset[str] = frozenset()  # taxonomy sub-fields of all its concepts
    text: str = ""
    trl: int | None = None  # offers
    min_trl: int | None = None  # demands
    price_min: float | None = None  # offers: price; demands: budget
    price_max: float | None = None
    transfer_types: frozenset[str] = frozenset()
    country: str = "VN"
    province: str | None = None
    target_countries: frozenset[str] = frozenset()
    languages: frozenset[str] = frozenset()  # working languages the owner declared
    text_languages: frozenset[str] = frozenset()  # languages its texts are written in (original and translations)
    updated_at: datetime | None = None
    owner_verified: bool = False
    search_relevance: float = 0.0  # the backend's score for this candidate, normalised to [0, 1]

    @property
    def all_concepts(self) -> frozenset[str]:
        return self.concepts | self.inferred_concepts


@dataclass(frozen=True)
class Reason:
    feature: str
    contribution: float
    params: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Match:
    candidate_id: str
    score: float
    reasons: tuple[Reason, ...]


@lru_cache(maxsize=8192)
def _term_vector(text: str, exact: bool = False) -> tuple[dict[str, int], float]:
    """Word counts (folded, or `exact`: as written, tones kept) and Japanese character bigrams, and their
    norm; cached, since a need meets many candidates and vice versa."""
    counts: Counter[str] = Counter()
    for word in words(text):
        folded = fold_word(word)
        if len(word) > 1 and folded not in COMMON_WORDS:
            counts[word if exact else folded] += 1
    counts.update(cjk_bigrams(text))
    return dict(counts), math.sqrt(sum(c * c for c in counts.values()))


@lru_cache(maxsize=8192)
def written_with_marks(text: str) -> bool:
    """Is the text's Latin script written with its diacritics (Vietnamese as it should be typed)? Then its
    words are compared with another such text as written: "cá" (fish) is not "ca" (a shift) nor "cà"
    (aubergine). Text typed without them ("da ca") is compared folded, as it may mean any of them."""
    latin = words(text)
    marked = sum(1 for word in latin if fold_word(word) != word)
    return marked > 0 and marked >= 0.15 * len(latin)


def cosine(a: str, b: str, rarity: Rarity | None = None) -> float:
    """Cosine of the two texts' word counts, as written where both carry their marks, else folded; with
    `rarity`, each word weighted by how rare it is among the texts being compared, so words most candidates
    share (a place, "hàng", "nước") stop making unrelated listings look alike."""
    exact = written_with_marks(a) and written_with_marks(b)
    (va, norm_a), (vb, norm_b) = (
        (rarity.vector(a, exact), rarity.vector(b, exact))
        if rarity
        else (_term_vector(a, exact), _term_vector(b, exact))
    )
    if not norm_a or not norm_b:
        return 0.0
    if len(vb) < len(va):
        va, vb = vb, va
    return sum(count * vb.get(term, 0) for term, count in va.items()) / (norm_a * norm_b)


class Rarity:
    """Inverse document frequency over the texts of one ranking, log((N + 1) / (df + 1)) + 1 (smoothed as
    in common tf-idf: a word in every text weighs 1, one in a single text of a hundred about 5), for words
    folded and as written, with each text's weighted vectors kept for the ranking's many comparisons."""

    def __init__(self, texts: list[str]) -> None:
        n = len(texts)
        self.idf: dict[bool, dict[str, float]] = {}
        for exact in (False, True):
            df: Counter[str] = Counter()
            for text in texts:
                df.update(_term_vector(text, exact)[0].keys())
            self.idf[exact] = {term: math.log((n + 1) / (count + 1)) + 1.0 for term, count in df.items()}
        self._vectors: dict[tuple[str, bool], tuple[dict[str, float], float]] = {}

    def vector(self, text: str, exact: bool = False) -> tuple[Mapping[str, float], float]:
        if (text, exact) not in self._vectors:
            idf = self.idf[exact]
            weighted = {term: count * idf.get(term, 1.0) for term, count in _term_vector(text, exact)[0].items()}
            self._vectors[text, exact] = (weighted, math.sqrt(sum(w * w for w in weighted.values())))
        return self._vectors[text, exact]


def _overlap(low_a: float | None, high_a: float | None, low_b: float | None, high_b: float | None) -> float | None:
    """1 when the ranges overlap, less the further apart they are; None when either is unknown."""
    if (low_a is None and high_a is None) or (low_b is None and high_b is None):
        return None
    a0, a1 = low_a or high_a or 0.0, high_a or low_a or 0.0
    b0, b1 = low_b or high_b or 0.0, high_b or low_b or 0.0
    if a0 <= b1 and b0 <= a1:
        return 1.0
    gap = (a0 - b1) if a0 > b1 else (b0 - a1)
    return max(0.0, 1.0 - gap / max(a1, b1, 1.0))


def features(
    need: Profile, candidate: Profile, now: datetime, rarity: Rarity | None = None
) -> dict[str, tuple[float, dict[str, object]]]:
    """Each feature's value in [0, 1] and the facts that explain it; `need` is the listing being matched."""
    offer, demand = (candidate, need) if candidate.kind == "offer" else (need, candidate)
    shared = sorted(need.all_concepts & candidate.all_concepts)
    result: dict[str, tuple[float, dict[str, object]]] = {}
    local = cosine(need.text, candidate.text, rarity)
    text = LOCAL_TEXT_SHARE * local + (1 - LOCAL_TEXT_SHARE) * candidate.search_relevance
    result["text"] = (text, {"similarity": round(text, 2)})
    if shared:
        inferred = sorted(set(shared) - (need.concepts & candidate.concepts))
        # Coverage of the need's topics. A candidate is not rewarded for naming few topics (a one-concept
        # listing would beat a richer, truly fitting one); only a listing stuffed with topics is discounted.
        coverage = len(shared) / max(1, len(need.all_concepts))
        spread = min(1.0, STUFFED_CONCEPTS / max(1, len(candidate.all_concepts)))
        result["concepts"] = (coverage * spread, {"shared": shared, "inferred": inferred})
    if need.field == candidate.field:
        result["field"] = (1.0, {"field": need.field})
    shared_subfields = sorted(need.subfields & candidate.subfields)
    if shared_subfields:
        # coarser than concepts: two listings on neighbouring topics (MBBR and constructed wetlands) still agree
        result["subfield"] = (len(shared_subfields) / len(need.subfields), {"subfields": shared_subfields})
    if offer.trl is not None and demand.min_trl is not None:
        fit = 1.0 if offer.trl >= demand.min_trl else max(0.0, 1.0 - (demand.min_trl - offer.trl) / 4)
        result["trl"] = (fit, {"trl": offer.trl, "min_trl": demand.min_trl})
    elif offer.trl is not None:
        result["trl"] = (offer.trl / 9, {"trl": offer.trl, "min_trl": None})
    budget = _overlap(offer.price_min, offer.price_max, demand.price_min, demand.price_max)
    if budget is not None:
        result["budget"] = (budget, {"overlap": budget == 1.0})
    common_transfer = sorted(offer.transfer_types & demand.transfer_types)
    if common_transfer:
        result["transfer"] = (1.0, {"types": common_transfer})
    if demand.country in offer.target_countries or (offer.province and offer.province == demand.province):
        result["geography"] = (1.0, {"country": demand.country, "province": demand.province})
    common_languages = sorted(need.languages & candidate.languages)
    if common_languages:
        result["language"] = (1.0, {"languages": common_languages})
    if candidate.updated_at is not None:
        age_days = max(0.0, (now - candidate.updated_at).total_seconds() / 86400)
        result["freshness"] = (max(0.0, 1.0 - age_days / FRESH_DAYS), {"days": int(age_days)})
    if candidate.owner_verified:
        result["verified"] = (1.0, {})
    return result


def comparable_texts(a: Profile, b: Profile) -> bool:
    """Whether the two listings have text in a common language (unknown languages count as comparable)."""
    return not a.text_languages or not b.text_languages or bool(a.text_languages & b.text_languages)


def score(
    need: Profile,
    candidate: Profile,
    now: datetime,
    weights: Weights = DEFAULT_WEIGHTS,
    rarity: Rarity | None = None,
) -> Match:
    total_weight = weights.total()
    reasons = []
    total = 0.0
    weight_of = {name: getattr(weights, name) for name in FEATURE_WEIGHTS}
    if not comparable_texts(need, candidate):
        moved = weights.text * weights.concepts_across_languages
        weight_of["text"] -= moved
        weight_of["concepts"] += moved
    for name, (value, params) in features(need, candidate, now, rarity).items():
        contribution = weight_of[name] * value / total_weight
        if contribution > 0:
            total += contribution
            reasons.append(Reason(name, round(contribution, 4), params))
    reasons.sort(key=lambda r: (-r.contribution, r.feature))
    return Match(candidate.id, round(total, 4), tuple(reasons))


def rank(
    need: Profile,
    candidates: list[Profile],
    now: datetime,
    *,
    weights: Weights = DEFAULT_WEIGHTS,
    exclude: frozenset[str] = frozenset(),
    limit: int = 20,
    min_score: float = 0.0,
) -> list[Match]:
    """The best candidates first (ties by id, so the order is deterministic); excluded ids never return.
    Words are weighted by their rarity among the candidates and the need."""
    rarity = Rarity([need.text, *(c.text for c in candidates)])
    scored = [score(need, c, now, weights, rarity) for c in candidates if c.id not in exclude and c.id != need.id]
    scored = [m for m in scored if m.score >= min_score]
    scored.sort(key=lambda m: (-m.score, m.candidate_id))
    return scored[:limit]


@dataclass(frozen=True)
class Reciprocal:
    """How well two organisations fit each other: both directions and their harmonic mean."""

    score: float
    for_us: float
    for_them: float
    best_for_us: Match | None


def reciprocal(
    ours: list[Profile], theirs: list[Profile], now: datetime, weights: Weights = DEFAULT_WEIGHTS
) -> Reciprocal:
    """The best fit of their listings to our needs/offers, and of ours to theirs (offer ↔ demand only).
    A pair where either side finds nothing scores 0: both must want the meeting."""
    best_for_us: Match | None = None
    for_them = 0.0
    for mine in ours:
        for other in theirs:
            if mine.kind == other.kind:
                continue
            match = score(mine, other, now, weights)
            if best_for_us is None or match.score > best_for_us.score:
                best_for_us = match
            for_them = max(for_them, score(other, mine, now, weights).score)
    for_us = best_for_us.score if best_for_us else 0.0
    combined = 2 * for_us * for_them / (for_us + for_them) if for_us and for_them else 0.0
    return Reciprocal(round(combined, 4), for_us, for_them, best_for_us)
