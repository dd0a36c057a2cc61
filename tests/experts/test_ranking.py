"""Expert ranking, unit-tested: words in two languages cannot be compared, meaning stands in for them."""

from __future__ import annotations

from app.experts.ranking import ExpertProfile, rank_experts, score_expert
from app.matching.engine import Profile

NEED = Profile(
    id="need",
    kind="demand",
    field="other",
    concepts=frozenset(),
    text="Sơn vỏ tàu phồng rộp và gỉ sau bốn tháng, cần người hướng dẫn lại cách làm sạch và phun sơn",
    text_languages=frozenset({"vi"}),
)
# the same likeness in meaning (a standard score of 2.0) for both; the Vietnamese one shares a few words
VIETNAMESE = ExpertProfile(
    id="vi", concepts=frozenset(), text="Tư vấn sơn công nghiệp cho nhà xưởng và kết cấu thép", meaning=2.0
)
JAPANESE = ExpertProfile(
    id="ja", concepts=frozenset(), text="船体塗装の劣化診断と防食設計、素地調整の品質管理", meaning=2.0
)


def test_an_expert_in_another_language_is_judged_by_meaning_in_place_of_words() -> None:
    vietnamese = score_expert(NEED, VIETNAMESE, need_languages=NEED.text_languages)
    japanese = score_expert(NEED, JAPANESE, need_languages=NEED.text_languages)
    # the Japanese CV shares no word with the need: its words' weight goes to its meaning, explained as such
    assert "text" not in {r.feature for r in japanese.reasons}
    assert {r.feature for r in japanese.reasons} == {"meaning"}
    # the Vietnamese profile's few shared words count as words, with no such transfer
    assert {r.feature for r in vietnamese.reasons} == {"text", "meaning"}
    assert japanese.expertise > vietnamese.expertise


def test_without_the_transfer_the_shared_words_would_win() -> None:
    # the same two experts scored as if the need were written in Japanese too: words are compared as they are
    both = frozenset({"vi", "ja"})
    vietnamese = score_expert(NEED, VIETNAMESE, need_languages=both)
    japanese = score_expert(NEED, JAPANESE, need_languages=both)
    assert vietnamese.expertise > japanese.expertise


def test_words_in_common_across_languages_still_count_when_they_say_more() -> None:
    # an English CV naming the need's own terms: its words are more alike than its meaning says
    english = ExpertProfile(
        id="en", concepts=frozenset(), text="sơn vỏ tàu phồng rộp: hull paint blistering and rust", meaning=0.6
    )
    match = score_expert(NEED, english, need_languages=NEED.text_languages)
    assert "text" in {r.feature for r in match.reasons}


def test_rank_experts_reads_the_listings_languages_from_its_words_when_none_are_declared() -> None:
    undeclared = Profile(id="need", kind="demand", field="other", concepts=frozenset(), text=NEED.text)
    ranked = rank_experts(undeclared, [VIETNAMESE, JAPANESE])
    assert [m.expert_id for m in ranked] == ["ja", "vi"]
