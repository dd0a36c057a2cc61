"""Meilisearch filter expressions quote user values, so they can never become filter syntax."""

from __future__ import annotations

import pytest

from app.models.base import utcnow
from app.search.backend import RangeFilter, TermFilter
from app.search.documents import Fields
from app.search.index_config import CONFIGS
from app.search.meili import (
    BROADER_WEIGHT,
    CONCEPT_WEIGHT,
    STALE_WEIGHT,
    concept_queries,
    demoted_queries,
    filter_expression,
    index_settings,
    quote,
    tone_query,
)
from app.search.schemas import SearchSort
from app.search.service import SearchParams, build_query, stale_before


def test_values_are_quoted_and_escaped() -> None:
    assert quote('Hải Phòng" OR kind = "x') == '"Hải Phòng\\" OR kind = \\"x"'
    assert quote("back\\slash") == '"back\\\\slash"'
    assert quote(True) == "true"
    assert quote(7) == "7"


def test_expression_of_terms_and_ranges() -> None:
    expression = filter_expression(
        [
            TermFilter("field", ("biotech", "environment")),
            RangeFilter("trl", gte=5, lte=8),
            RangeFilter("expires_at", gt=100),
        ]
    )
    assert expression == [
        '(field = "biotech" OR field = "environment")',
        "(trl >= 5)",
        "(trl <= 8)",
        "(expires_at > 100)",
    ]


def test_injection_stays_inside_the_literal() -> None:
    [clause] = filter_expression([TermFilter("province", ('x" OR visibility = "anonymous',))])
    assert clause == '(province = "x\\" OR visibility = \\"anonymous")'


def test_field_names_are_checked() -> None:
    with pytest.raises(ValueError, match="attribute"):
        filter_expression([TermFilter("field = 1 OR x", ("a",))])


def test_meilisearch_ranks_the_tone_spellings_first_without_typos() -> None:
    # Meilisearch folds every mark; the Telex spellings are how "đường" outranks "Dương" there
    settings = index_settings(CONFIGS["offers"])
    assert settings["searchableAttributes"][0] == Fields.TONES
    assert Fields.TONES in settings["typoTolerance"]["disableOnAttributes"]
    assert tone_query("sản xuất đường") == "sản xuất đường sanr xuaats dduwowngf"
    assert tone_query("xu ly nuoc thai") == "xu ly nuoc thai"


def test_meilisearch_ranks_a_named_concept_above_a_broader_one() -> None:
    # "điện mặt trời nổi" names floating solar; solar PV is its broader concept and names no word
    query = build_query("offers", SearchParams(q="điện mặt trời nổi trên ao nuôi"), utcnow())
    queries = concept_queries("offers", query, {"filter": ['(kind = "offer")']})
    weights = {q["filter"][-1]: q["federationOptions"]["weight"] for q in queries}
    assert weights == {'(concepts = "floating-solar")': CONCEPT_WEIGHT, '(concepts = "solar-pv")': BROADER_WEIGHT}
    assert all(q["q"] == "" and q["filter"][0] == '(kind = "offer")' for q in queries)


def test_meilisearch_weighs_profiles_unconfirmed_for_a_year_down_without_hiding_them() -> None:
    # decided by the query's cut-off, not a flag in the documents: no reindexing as time passes
    now = utcnow()
    query = build_query("experts", SearchParams(q="xử lý nước thải"), now, stale_days=365)
    assert query.demote is not None
    cut_off = stale_before(now, 365)
    words = {"indexUid": "experts", "q": query.q, "filter": ['(country = "VN")'], "federationOptions": {"weight": 1.0}}
    merged = [words, *concept_queries("experts", query, words)]
    assert [q["federationOptions"]["weight"] for q in merged][:2] == [1.0, CONCEPT_WEIGHT]
    split = demoted_queries(merged, query.demote)
    # each query twice: the fresh profiles at its weight, the others (or without a date) weighed down
    fresh, stale = f"(last_confirmed_at >= {cut_off})", f"(NOT (last_confirmed_at >= {cut_off}))"
    assert [(q["filter"][-1], q["federationOptions"]["weight"]) for q in split] == [
        pair
        for q in merged
        for pair in (
            (fresh, q["federationOptions"]["weight"]),
            (stale, q["federationOptions"]["weight"] * STALE_WEIGHT),
        )
    ]
    assert [q["filter"][:-1] for q in split] == [q["filter"] for q in merged for _ in range(2)]
    # sorted by a field, the order is the field's
    assert build_query("experts", SearchParams(sort=SearchSort.NEWEST), now, stale_days=365).demote is None
