"""Ranking experts for a listing: pure and deterministic, like the listing engine.

Expertise first (the listing's topics the expert covers, the taxonomy sub-fields they share — the
bridge left when a need and an expert in different languages name neighbouring topics —, how
alike their words are, and how alike in meaning their texts are, in any of the three languages), then
evidence (industry experience, the TRL the expert has reached, patents, publications, consultations
that helped on the platform, offering the kind of help the listing needs). Words written in two
languages cannot be compared, so for an expert who writes in another language than the listing,
likeness in meaning stands in for likeness of words where it is higher (as concepts do for listings
in two languages). Evidence counts in full only for experts with real expertise in the topic: a
renowned expert in another field does not outrank a fitting one. A profile not confirmed for a year
loses part of its score and says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from app.matching.engine import Profile, Rarity, Reason, cosine
from app.matching.semantic import text_language


@dataclass(frozen=True)
class ExpertWeights:
    concepts: float = 0.45
    text: float = 0.30
    subfield: float = 0.05
    meaning: float = 0.25
    industry: float = 0.07
    trl_reached: float = 0.03
    patents: float = 0.04
    publications: float = 0.02
    consultations: float = 0.05
    offers: float = 0.03
    language: float = 0.01
    # Expertise (share of its weight) at which evidence counts in full; below, in proportion.
    evidence_gate: float = 0.25
    stale_factor: float = 0.7
    # Less expertise than this (share of its weight) is no match: a word or two in common is chance. A shared
    # sub-field alone (0.0625: a neighbouring topic, often all that links texts in two languages) just passes.
    min_expertise: float = 0.06
    # Likeness in meaning (a standard score, app/matching/semantic.py) that counts nothing, and in full.
    meaning_floor: float = 0.5
    meaning_full: float = 2.5

    @property
    def expertise_weight(self) -> float:
        return sum(float(getattr(self, name)) for name in EXPERTISE)

    def total(self) -> float:
        return self.expertise_weight + sum(float(getattr(self, name)) for name in EVIDENCE)


EXPERTISE = ("concepts", "subfield", "text", "meaning")
EVIDENCE = ("industry", "trl_reached", "patents", "publications", "consultations", "offers", "language")
DEFAULT_EXPERT_WEIGHTS = ExpertWeights()
# What each kind of listing asks of an expert: a need wants advice and assessment; an offer, someone
# who can assess, value or help a buyer adopt it.
HELPFUL_OFFERS = {
    "demand": frozenset({"consulting", "assessment", "joint_research", "training"}),
    "offer": frozenset({"assessment", "valuation", "consulting", "training"}),
}


@dataclass(frozen=True)
class ExpertProfile:
    """What the ranking knows of an expert: the public part of the profile only (a ranking and its
    reasons are shown to anyone), and the platform's own record of consultations."""

    id: str
    concepts: frozenset[str]
    subfields: frozenset[str] = frozenset()  # taxonomy sub-fields of its concepts
    text: str = ""
    industry_years: int | None = None
    highest_trl: int | None = None
    patents_count: int | None = None
    publications_count: int | None = None
    helpful_consultations: int = 0
    offers: frozenset[str] = frozenset()
    languages: frozenset[str] = frozenset()
    stale: bool = False
    search_relevance: float = 0.0
    meaning: float = 0.0  # centred likeness in meaning of its public words and the listing's
    language: str | None = None  # of its public words (ja, vi, en), where its vector says; else read from them


@dataclass(frozen=True)
class ExpertMatch:
    expert_id: str
    score: float
    expertise: float
    evidence: float
    reasons: tuple[Reason, ...] = field(default_factory=tuple)


def _capped(value: int | None, full_at: float) -> float:
    return min(1.0, (value or 0) / full_at)


def score_expert(
    need: Profile,
    expert: ExpertProfile,
    weights: ExpertWeights = DEFAULT_EXPERT_WEIGHTS,
    rarity: Rarity | None = None,
    need_languages: frozenset[str] = frozenset(),
) -> ExpertMatch:
    """`need_languages`: the languages the listing's words are written in (its own and its translations')."""
    total_weight = weights.total()
    values: dict[str, tuple[float, dict[str, object]]] = {}
    shared = sorted(need.all_concepts & expert.concepts)
    if shared:
        values["concepts"] = (len(shared) / max(1, len(need.all_concepts)), {"shared": shared, "inferred": []})
    common_subfields = sorted(need.subfields & expert.subfields)
    if common_subfields:
        values["subfield"] = (len(common_subfields) / len(need.subfields), {"subfields": common_subfields})
    text = 0.5 * cosine(need.text, expert.text, rarity) + 0.5 * expert.search_relevance
    span = weights.meaning_full - weights.meaning_floor
    meaning = min(1.0, max(0.0, (expert.meaning - weights.meaning_floor) / span))
    meaning_weight = weights.meaning
    if need_languages and meaning > text and (expert.language or text_language(expert.text)) not in need_languages:
        text, meaning_weight = 0.0, weights.meaning + weights.text  # the words' weight goes to their meaning
    if text > 0:
        values["text"] = (text, {"similarity": round(text, 2)})
    if meaning > 0:
        values["meaning"] = (meaning * meaning_weight / weights.meaning, {})
    expertise = sum(getattr(weights, name) * values[name][0] for name in EXPERTISE if name in values)
    expertise_share = expertise / weights.expertise_weight
    if expert.industry_years:
        values["industry"] = (_capped(expert.industry_years, 15), {"years": expert.industry_years})
    wanted_trl = need.min_trl or need.trl
    if expert.highest_trl:
        fit = 1.0 if not wanted_trl or expert.highest_trl >= wanted_trl else expert.highest_trl / wanted_trl
        values["trl_reached"] = (fit, {"trl": expert.highest_trl})
    if expert.patents_count:
        values["patents"] = (_capped(expert.patents_count, 5), {"count": expert.patents_count})
    if expert.publications_count:
        values["publications"] = (_capped(expert.publications_count, 30), {"count": expert.publications_count})
    if expert.helpful_consultations:
        values["consultations"] = (_capped(expert.helpful_consultations, 3), {"count": expert.helpful_consultations})
    helpful = sorted(expert.offers & HELPFUL_OFFERS.get(need.kind, frozenset()))
    if helpful:
        values["offers"] = (1.0, {"offers": helpful})
    common = sorted(need.languages & expert.languages)
    if common:
        values["language"] = (1.0, {"languages": common})
    gate = min(1.0, expertise_share / weights.evidence_gate) if weights.evidence_gate else 1.0
    factor = weights.stale_factor if expert.stale else 1.0
    reasons, total, evidence = [], 0.0, 0.0
    for name, (value, params) in values.items():
        share = getattr(weights, name) * value / total_weight
        if name in EVIDENCE:
            share *= gate
            evidence += share
        share *= factor
        if share > 0:
            total += share
            reasons.append(Reason(name, round(share, 4), params))
    if expert.stale:
        reasons.append(Reason("stale", 0.0, {}))
    reasons.sort(key=lambda r: (-r.contribution, r.feature))
    evidence_weight = sum(getattr(weights, name) for name in EVIDENCE) / total_weight
    return ExpertMatch(
        expert.id,
        round(total, 4),
        round(expertise_share, 4),
        round(evidence / evidence_weight, 4) if evidence_weight else 0.0,
        tuple(reasons),
    )


def rank_experts(
    need: Profile,
    experts: list[ExpertProfile],
    *,
    weights: ExpertWeights = DEFAULT_EXPERT_WEIGHTS,
    limit: int = 20,
    min_score: float = 0.0,
) -> list[ExpertMatch]:
    """Best first; ties by id so the order is deterministic. Experts with no expertise in the topic are left out.
    Words are weighted by their rarity among the experts and the need, as in listing matches."""
    rarity = Rarity([need.text, *(e.text for e in experts)])
    languages = need.text_languages or frozenset({text_language(need.text)})
    scored = [score_expert(need, e, weights, rarity, languages) for e in experts]
    scored = [m for m in scored if m.expertise >= weights.min_expertise and m.score >= min_score]
    scored.sort(key=lambda m: (-m.score, m.expert_id))
    return scored[:limit]
