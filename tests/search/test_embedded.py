"""The embedded engine counts facets on a query of its own, without the clauses that only rank:
it must match exactly the listings the ranked query finds, whatever rule found them."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from app.search.embedded import EmbeddedBackend
from app.search.service import SearchParams, build_query
from tests.search.test_contract import NOW, OFFERS, load, offer

QUERIES = [
    "xu ly nuoc thai",  # no diacritics, a word spared from four
    "xử lý nước thải",  # tones
    "nuoc thia",  # typo
    "nuoi trong thuy s",  # prefix
    "sơn chống ăn mòn cho tàu",  # a concept stands for four of the words; the Japanese offer has none
    "arsenic removal filter for groundwater",  # words nobody wrote drop out
    "船舶用 防食塗料",  # CJK runs, one of them named by a concept
]


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[EmbeddedBackend]:
    backend = EmbeddedBackend(tmp_path / "index")
    await backend.ensure_indexes()
    await load(
        backend,
        offer("Xử lý nước thải dệt nhuộm", field="environment"),
        offer("Xu ly nuoc thai chan nuoi", field="biotech"),
        offer("Xử lý nước cấp nông thôn", field="environment", summary="Lọc nước thải sinh hoạt."),
        offer("Nuôi trồng thủy sản tuần hoàn", field="agriculture_food"),
        offer("Nuôi trong thủy sinh", field="biotech", summary="Thủy sinh cảnh."),
        offer("港湾構造物の防食コーティング", language="ja", concepts=["anticorrosion"], field="new_materials"),
        offer("Sơn chống cháy cho tàu", field="new_materials"),
        offer("Arsenic removal filter media", language="en", field="environment"),
        offer("Robot hàn vỏ tàu", field="automation"),
    )
    yield backend
    await backend.close()


@pytest.mark.parametrize("q", QUERIES)
async def test_facet_counts_are_the_counts_of_what_the_ranked_query_finds(engine: EmbeddedBackend, q: str) -> None:
    query = build_query(OFFERS, SearchParams(q=q, facets=("field",), limit=100), NOW)
    result = await engine.search(OFFERS, query)
    assert result.hits, q
    assert result.total == len(result.hits)
    assert result.facets["field"] == dict(Counter(hit.document["field"] for hit in result.hits))
