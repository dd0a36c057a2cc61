"""Text normalisation, tested directly."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.search.text import (
    QueryTerms,
    cjk_bigrams,
    edit_distance,
    fold,
    highlight,
    tone_key,
    tone_text,
    typo_distance,
    without_names,
    words,
)


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Xử lý nước thải", "xu ly nuoc thai"),
        ("Đường Dương", "duong duong"),
        ("ĐẶNG đặng", "dang dang"),
        ("Ơn Ưu Ạ Ỹ", "on uu a y"),
        ("công nghệ sinh học", "cong nghe sinh hoc"),
        ("Vật liệu nano", "vat lieu nano"),
    ],
)
def test_fold_removes_vietnamese_diacritics(text: str, folded: str) -> None:
    assert fold(text) == folded


@given(
    st.text(
        alphabet="aăâbcdđeêghiklmnoôơpqrstuưvxyáàảãạắằẳẵặấầẩẫậéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợúùủũụứừửữựýỳỷỹỵ ",
        max_size=40,
    )
)
def test_fold_is_idempotent_and_ascii_for_vietnamese(text: str) -> None:
    assert fold(fold(text)) == fold(text)
    assert fold(text).isascii()


def test_japanese_is_cut_into_bigrams() -> None:
    assert cjk_bigrams("ヒ素除去") == ["ヒ素", "素除", "除去"]
    assert cjk_bigrams("水 and 膜ろ過") == ["水", "膜ろ", "ろ過"]
    assert words("ヒ素 arsenic removal") == ["arsenic", "removal"]


def test_typo_budget_grows_with_length() -> None:
    assert [typo_distance(w) for w in ("asen", "nuoc", "mangan", "manganese")] == [1, 1, 1, 2]
    assert typo_distance("ly") == 0


def test_edit_distance_counts_transpositions_once() -> None:
    assert edit_distance("oxyt", "oxit", 1) == 1
    assert edit_distance("nouc", "nuoc", 1) == 1
    assert edit_distance("arsenic", "asen", 2) == 3


def test_highlight_marks_words_matched_without_diacritics_typos_and_prefix() -> None:
    terms = QueryTerms.parse("xu ly nuoc tha")
    assert highlight("Hệ thống xử lý nước thải", terms) == (
        "Hệ thống <mark>xử</mark> <mark>lý</mark> <mark>nước</mark> <mark>thải</mark>"
    )
    assert highlight("Vật liệu mangan oxit", QueryTerms.parse("oxyt ")) == "Vật liệu mangan <mark>oxit</mark>"
    assert highlight("Công nghệ sinh học", QueryTerms.parse("robot")) is None


def test_highlight_escapes_markup() -> None:
    assert (
        highlight("<script>asen</script>", QueryTerms.parse("asen")) == "&lt;script&gt;<mark>asen</mark>&lt;/script&gt;"
    )


def test_last_word_is_a_prefix_only_while_typing() -> None:
    assert QueryTerms.parse("nuoc tha").last_is_prefix
    assert not QueryTerms.parse("nuoc tha ").last_is_prefix


def test_owner_names_are_blanked_in_any_case_wherever_they_occur() -> None:
    text = "Viện Chăn nuôi chuyển giao vắc xin; liên hệ VIỆN CHĂN NUÔI."
    blanked = without_names(text, ["Viện Chăn nuôi", ""])
    assert "chăn" not in blanked.lower()
    assert "vắc xin" in blanked
    assert len(blanked) == len(text)  # blanked, not cut: nothing else moves
    assert without_names(text, []) == text


@pytest.mark.parametrize(
    ("word", "key"),
    [
        ("đường", "dduwowngf"),  # sugar, road
        ("Dương", "duwowng"),  # ocean: folds to "duong" as well
        ("dương", "duwowng"),
        ("cá", "cas"),  # fish
        ("ca", "ca"),  # as in "ca cao"
        ("nấm", "naams"),  # mushroom
        ("năm", "nawm"),  # year
        ("chè", "chef"),  # tea
        ("che", "che"),  # to cover
        ("ượ", "uwowj"),
    ],
)
def test_tone_keys_keep_the_marks_that_folding_drops(word: str, key: str) -> None:
    assert tone_key(word) == key
    assert tone_key(word).isascii()


def test_tone_text_spells_only_the_marked_words() -> None:
    assert tone_text("Sản xuất đường từ mía, water ca cao") == "sanr xuaats dduwowngf tuwf mias"


def test_each_japanese_run_is_one_word_of_the_query() -> None:
    terms = QueryTerms.parse("船舶用 防食塗料")
    assert terms.cjk_runs == (("船舶", "舶用"), ("防食", "食塗", "塗料"))
