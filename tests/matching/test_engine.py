"""The matching engine and its explanations, tested directly."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.matching.concepts import infer_concepts
from app.matching.engine import Match, Profile, Rarity, Weights, cosine, rank, score
from app.matching.explain import explain, language_of, negotiate, sentence
from app.matching.profiles import subfields_of

NOW = datetime(2026, 11, 23, tzinfo=UTC)

DEMAND = Profile(
    id="need",
    kind="demand",
    field="environment",
    concepts=frozenset({"wastewater-treatment"}),
    text="Cần công nghệ xử lý nước thải chế biến thủy sản",
    min_trl=6,
    price_min=100.0,
    price_max=500.0,
    transfer_types=frozenset({"licence"}),
    country="VN",
    province="Hải Phòng",
    languages=frozenset({"vi"}),
)
GOOD = Profile(
    id="good",
    kind="offer",
    field="environment",
    concepts=frozenset({"wastewater-treatment", "biological-treatment"}),
    text="Hệ thống xử lý nước thải thủy sản bằng MBBR",
    trl=7,
    price_min=200.0,
    price_max=400.0,
    transfer_types=frozenset({"licence"}),
    target_countries=frozenset({"VN"}),
    languages=frozenset({"vi", "en"}),
    updated_at=NOW - timedelta(days=30),
    owner_verified=True,
)
JAPANESE = Profile(
    id="japanese",
    kind="offer",
    field="environment",
    concepts=frozenset(),
    inferred_concepts=frozenset(infer_concepts("高効率生物膜法による排水処理システム", "wastewater treatment system")),
    text="高効率生物膜法による排水処理システム",
    trl=9,
    languages=frozenset({"ja", "en"}),
)
UNRELATED = Profile(
    id="paint",
    kind="offer",
    field="new_materials",
    concepts=frozenset({"roofing-paint"}),
    text="Sơn mái độ bền cao",
    trl=8,
    price_min=5000.0,
    price_max=9000.0,
)


def test_a_fitting_offer_outranks_an_unrelated_one() -> None:
    ranked = rank(DEMAND, [UNRELATED, GOOD], NOW)
    assert [m.candidate_id for m in ranked] == ["good", "paint"]
    assert ranked[0].score > 2 * ranked[1].score


def test_concepts_carry_a_japanese_offer_to_a_vietnamese_need() -> None:
    assert "wastewater-treatment" in JAPANESE.inferred_concepts
    ranked = rank(DEMAND, [UNRELATED, JAPANESE], NOW)
    assert ranked[0].candidate_id == "japanese"
    concepts = next(r for r in ranked[0].reasons if r.feature == "concepts")
    assert concepts.params["inferred"] == ["wastewater-treatment"]


def test_japanese_texts_are_tagged_by_the_words_they_use() -> None:
    # short forms as written, not only the taxonomy's compound labels (溶接技術, 排熱回収)
    assert "welding" in infer_concepts("造船所の溶接自動化")
    assert "heat-recovery" in infer_concepts("工場の排熱を活用したい")
    # an ambiguous short form is not a synonym: 機械 (machine) is in 機械学習 (machine learning)
    assert set(infer_concepts("機械学習による画像認識")) == {"artificial-intelligence", "computer-vision"}


def test_shared_topics_stand_in_for_words_that_cannot_be_compared() -> None:
    need = replace(DEMAND, text_languages=frozenset({"vi"}))
    foreign = replace(JAPANESE, text_languages=frozenset({"ja", "en"}))
    comparable = replace(foreign, text_languages=frozenset({"vi", "ja"}))  # same words, one language in common
    across, within = score(need, foreign, NOW), score(need, comparable, NOW)

    def concepts(match: Match) -> float:
        return next(r.contribution for r in match.reasons if r.feature == "concepts")

    assert concepts(across) == pytest.approx(concepts(within) * (0.30 + 0.45 * 0.5) / 0.30, abs=1e-3)
    assert across.score > within.score
    assert abs(sum(r.contribution for r in across.reasons) - across.score) < 1e-3
    # no shared topic, no credit; and the share can be turned off
    unrelated = replace(UNRELATED, text_languages=frozenset({"ja"}))
    assert score(need, unrelated, NOW) == score(need, replace(unrelated, text_languages=frozenset({"vi"})), NOW)
    assert score(need, foreign, NOW, Weights(concepts_across_languages=0.0)).score == pytest.approx(within.score)
    # the text-only ablation stays text only
    text_only = Weights(**{name: 0.0 for name in Weights.__dataclass_fields__} | {"text": 1.0})
    assert score(need, foreign, NOW, text_only).score == 0.0


@given(
    st.sets(st.sampled_from(["vi", "en", "ja"])),
    st.sets(st.sampled_from(["vi", "en", "ja"])),
    st.integers(min_value=1, max_value=9),
)
def test_scores_stay_between_0_and_1(need_languages: set[str], offer_languages: set[str], trl: int) -> None:
    # everything agrees, down to the words (shared names count even across languages)
    need = replace(DEMAND, text=GOOD.text, text_languages=frozenset(need_languages), country="VN")
    offer = replace(
        GOOD, concepts=DEMAND.concepts, trl=trl, search_relevance=1.0, text_languages=frozenset(offer_languages)
    )
    assert 0 < score(need, offer, NOW).score <= 1


def test_common_words_make_no_two_texts_alike() -> None:
    assert cosine("Công nghệ sản xuất phân bón cho nông dân", "Hệ thống lọc nước cho gia đình") == 0.0
    assert cosine("Công nghệ sản xuất phân bón vi sinh", "Phân bón vi sinh cho lúa") > 0.5


def test_a_word_every_candidate_shares_counts_less_than_a_rare_one() -> None:
    need = "Xưởng ở Hải Phòng cần máy cắt thép tấm"
    same_city = "Sơn chống nóng mái tôn cho nhà xưởng ở Hải Phòng"
    same_topic = "Máy cắt plasma cho thép tấm"
    pool = [need, same_city, same_topic, *(f"Công nghệ {w} tại Hải Phòng" for w in ("biogas", "LED", "nấm", "tôm"))]
    rarity = Rarity(pool)
    # counted plainly, the place the two listings share makes the paint half as alike as the cutter
    assert cosine(need, same_city) > 0.5 * cosine(need, same_topic)
    assert cosine(need, same_city, rarity) < 0.35 * cosine(need, same_topic, rarity)
    assert cosine(need, "Hệ thống lọc nước", rarity) == 0.0


def test_words_written_with_their_tones_are_compared_as_written() -> None:
    fish = "Chế biến da cá tra thành collagen"
    assert cosine("Giống cà chua ghép chịu mặn", fish) == 0.0  # cà (aubergine, tomato) is not cá (fish)
    assert cosine("Thu hoạch cà phê đạt chuẩn", fish) == 0.0
    assert cosine("Phụ phẩm da cá", fish) > 0.3
    # typed without marks, "ca" may be either: compared folded
    assert cosine("che bien da ca", fish) > 0.3
    assert cosine("che bien da ca", "Giống cà chua") > 0.0


def test_japanese_texts_are_compared_by_their_characters() -> None:
    need = replace(JAPANESE, id="need-ja", kind="demand", text="高効率の生物膜システムを探しています", trl=None)
    assert cosine(need.text, JAPANESE.text) > 0.3
    assert cosine(need.text, UNRELATED.text) == 0.0
    ranked = rank(need, [UNRELATED, JAPANESE], NOW)
    assert ranked[0].candidate_id == "japanese"
    assert any(r.feature == "text" for r in ranked[0].reasons)


def test_every_reason_says_its_contribution_and_they_add_up() -> None:
    match = score(DEMAND, GOOD, NOW)
    assert {r.feature for r in match.reasons} >= {"concepts", "field", "trl", "budget", "transfer", "verified"}
    assert abs(sum(r.contribution for r in match.reasons) - match.score) < 1e-3
    assert 0 < match.score <= 1


def test_dismissed_candidates_never_return() -> None:
    assert [m.candidate_id for m in rank(DEMAND, [GOOD, UNRELATED], NOW, exclude=frozenset({"good"}))] == ["paint"]


@given(st.integers(min_value=1, max_value=8), st.integers(min_value=1, max_value=9))
def test_raising_trl_never_lowers_the_score(trl: int, min_trl: int) -> None:
    need = replace(DEMAND, min_trl=min_trl)
    lower, higher = replace(GOOD, trl=trl), replace(GOOD, trl=trl + 1)
    assert score(need, higher, NOW).score >= score(need, lower, NOW).score


@given(st.lists(st.sampled_from(["a", "b", "c", "d"]), unique=True), st.lists(st.sampled_from(["a", "b"]), unique=True))
def test_ranking_is_deterministic_and_excludes(order: list[str], excluded: list[str]) -> None:
    profiles = {i: replace(GOOD, id=i) for i in "abcd"}
    candidates = [profiles[i] for i in order]
    first = rank(DEMAND, candidates, NOW, exclude=frozenset(excluded))
    second = rank(DEMAND, list(reversed(candidates)), NOW, exclude=frozenset(excluded))
    assert first == second
    assert not {m.candidate_id for m in first} & set(excluded)


def test_a_shared_sub_field_counts_even_without_a_shared_concept() -> None:
    # drinking water and biological treatment: different concepts, one sub-field (water and wastewater)
    need = replace(DEMAND, concepts=frozenset({"drinking-water"}), subfields=subfields_of(["drinking-water"]))
    neighbour = replace(
        GOOD, concepts=frozenset({"biological-treatment"}), subfields=subfields_of(["biological-treatment"])
    )
    elsewhere = replace(neighbour, id="elsewhere", subfields=subfields_of(["roofing-paint"]))
    match = score(need, neighbour, NOW)
    assert match.score > score(need, elsewhere, NOW).score
    reason = next(r for r in match.reasons if r.feature == "subfield")
    assert sentence(reason, "vi") == "Cùng chuyên ngành: Xử lý nước và nước thải"
    assert sentence(reason, "en") == "Same sub-field: Water and wastewater treatment"
    assert sentence(reason, "ja") == "同じ専門分野: 水・排水処理"


def test_explanations_in_three_languages() -> None:
    match = score(DEMAND, GOOD, NOW)
    by_feature = {r.feature: r for r in match.reasons}
    assert sentence(by_feature["field"], "vi") == "Cùng lĩnh vực: công nghệ môi trường"
    assert sentence(by_feature["trl"], "vi") == "TRL 7 ≥ yêu cầu tối thiểu 6"
    assert sentence(by_feature["trl"], "en") == "TRL 7 ≥ required minimum 6"
    assert sentence(by_feature["trl"], "ja") == "TRL 7 ≥ 必要最低 6"
    assert sentence(by_feature["field"], "ja") == "同じ分野: 環境技術"
    assert sentence(by_feature["concepts"], "en").startswith("Shared topics: wastewater treatment")
    for language in ("vi", "en", "ja"):
        assert all(sentence(r, language) for r in match.reasons)


def test_accept_language_picks_a_supported_language() -> None:
    assert language_of("ja-JP,ja;q=0.9,en;q=0.8") == "ja"
    assert language_of("fr-FR, en;q=0.5") == "en"
    assert language_of(None) == "vi"


def test_accept_language_honours_quality_values_and_falls_back_to_the_listing() -> None:
    assert negotiate("en;q=0.3, ja;q=0.8") == "ja"  # order in the header does not decide, the quality does
    assert negotiate("ja;q=0, en") == "en"  # q=0 means "not this one"
    assert negotiate("fr, de;q=0.5", default="ja") == "ja"
    assert negotiate(None, default="en") == "en"
    assert negotiate("*", default="ja") == "ja"


def test_a_thin_listing_does_not_outscore_a_richer_fitting_one_on_concepts() -> None:
    need = replace(DEMAND, concepts=frozenset({"paints-coatings"}), subfields=frozenset())
    thin = replace(UNRELATED, id="thin", concepts=frozenset({"paints-coatings"}))
    rich = replace(
        UNRELATED,
        id="rich",
        concepts=frozenset({"paints-coatings", "anticorrosion", "coil-coating", "powder-coating"}),
    )
    ranked = rank(need, [thin, rich], NOW)
    concepts_of = {m.candidate_id: next(r for r in m.reasons if r.feature == "concepts") for m in ranked}
    assert concepts_of["rich"].contribution >= concepts_of["thin"].contribution
    # only a listing stuffed with topics is discounted
    stuffed = replace(rich, id="stuffed", concepts=rich.concepts | {f"topic-{i}" for i in range(40)})
    assert score(need, stuffed, NOW).score < score(need, rich, NOW).score


def test_shortfalls_are_gaps_not_reasons_and_codes_are_shown_as_labels() -> None:
    low = replace(GOOD, trl=4, price_min=9000.0, price_max=9500.0, transfer_types=frozenset({"turnkey_equipment"}))
    need = replace(DEMAND, transfer_types=frozenset({"turnkey_equipment"}), languages=frozenset({"vi"}))
    explained = explain(score(need, replace(low, languages=frozenset({"vi"})), NOW).reasons, "en")
    gaps = {r.feature: text for r, text in explained.gaps}
    fits = {r.feature: text for r, text in explained.fits}
    assert gaps["trl"] == "TRL 4 is below the required minimum of 6"
    assert gaps["budget"] == "Price outside the budget"
    assert "trl" not in fits
    assert "budget" not in fits
    assert fits["transfer"] == "Transfer type both accept: turnkey equipment"
    assert "freshness" not in fits  # "Updated 30 days ago" says nothing about fit
    assert all(r.contribution >= 0.02 for r, _ in explained.fits)
    japanese = {r.feature: text for r, text in explain(score(need, low, NOW).reasons, "ja").fits}
    assert japanese["transfer"] == "双方が受け入れる移転形態: ターンキー設備"


def test_languages_and_countries_are_named_in_the_readers_language() -> None:
    from app.matching.engine import Reason

    reason = Reason("language", 0.02, {"languages": ["vi"]})
    assert sentence(reason, "en") == "Working language in common: Vietnamese"
    assert sentence(reason, "ja") == "共通の使用言語: ベトナム語"
    place = Reason("geography", 0.03, {"country": "VN", "province": None})
    assert sentence(place, "en") == "Serves the location: Vietnam"
    assert sentence(place, "vi") == "Phù hợp địa bàn: Việt Nam"


def test_low_similarity_is_not_shown() -> None:
    from app.matching.engine import Reason

    assert not explain([Reason("text", 0.03, {"similarity": 0.04})], "en").fits
    assert explain([Reason("text", 0.2, {"similarity": 0.45})], "en").fits[0][1] == "Similar description (45%)"
