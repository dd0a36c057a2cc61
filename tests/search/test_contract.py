"""The search contract: one suite, run against every backend.

The embedded engine always runs. Meilisearch runs when `MEILI_URL` points at a
live server (with `MEILI_API_KEY` if it needs one); otherwise those cases are
skipped and the reason is printed.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.matching.concepts import infer_concepts
from app.models import Listing, Organization
from app.search.backend import RangeFilter, SearchBackend, SearchQuery, TermFilter
from app.search.documents import Fields, expert_document, listing_document, organization_document
from app.search.embedded import EmbeddedBackend
from app.search.schemas import SearchSort
from app.search.service import SearchParams, build_query

NOW = datetime.now(UTC)
OFFERS = "offers"
EXPERTS = "experts"


def _meili_skip_reason() -> str | None:
    url = os.environ.get("MEILI_URL")
    if not url:
        return "Meilisearch contract tests skipped: MEILI_URL is not set"
    try:
        httpx.get(f"{url.rstrip('/')}/health", timeout=2).raise_for_status()
    except httpx.HTTPError as error:
        return f"Meilisearch contract tests skipped: no server at {url} ({type(error).__name__})"
    return None


@pytest.fixture(params=["embedded", "meilisearch"])
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SearchBackend]:
    if request.param == "embedded":
        engine: SearchBackend = EmbeddedBackend(tmp_path / "index")
    else:
        reason = _meili_skip_reason()
        if reason:
            print(reason)
            pytest.skip(reason)
        from app.search.meili import MeiliBackend

        engine = MeiliBackend(
            os.environ["MEILI_URL"], os.environ.get("MEILI_API_KEY"), prefix=f"t{uuid.uuid4().hex[:8]}_"
        )
    await engine.ensure_indexes()
    yield engine
    await engine.close()


def owner(name: str = "Viện Tài nguyên và Môi trường biển", **values: Any) -> Organization:
    defaults = {"kind": "institute", "country": "VN", "province": "Hải Phòng", "verified": True}
    return Organization(
        id=uuid.uuid4(),
        name=name,
        name_i18n={},
        description_i18n={},
        sectors=[],
        services=[],
        languages=["vi"],
        created_at=NOW,
        updated_at=NOW,
        **(defaults | values),
    )


def offer(title: str, *, org: Organization | None = None, translations: dict | None = None, **values: Any) -> dict:
    org = org or owner()
    defaults: dict[str, Any] = {
        "summary": "Công nghệ đã thử nghiệm tại Hải Phòng.",
        "description": "",
        "field": "environment",
        "concepts": [],
        "transfer_types": ["licence"],
        "trl": 6,
        "ip_status": "know_how",
        "language": "vi",
        "visibility": "public",
        "currency": "VND",
        "price_min": Decimal(100),
        "price_max": Decimal(200),
        "country": org.country,
        "province": org.province,
        "origin_kind": "institute_university",
        "proposed_for_city": False,
        "created_at": NOW - timedelta(days=10),
        "updated_at": NOW - timedelta(days=10),
        "expires_at": NOW + timedelta(days=300),
    }
    listing = Listing(
        id=uuid.uuid4(),
        kind="offer",
        reference=f"TO-VN-20261122-{uuid.uuid4().int % 10000:04d}",
        organization_id=org.id,
        status="published",
        title=title,
        translations=translations or {},
        **(defaults | values),
    )
    return listing_document(listing, org)


async def ids(backend: SearchBackend, **query: Any) -> list[str]:
    result = await backend.search(OFFERS, SearchQuery(**query))
    return [hit.id for hit in result.hits]


async def public(backend: SearchBackend, q: str) -> list[str]:
    """What the public search asks the backend for `q` (its concepts included)."""
    result = await backend.search(OFFERS, build_query(OFFERS, SearchParams(q=q), NOW))
    return [hit.id for hit in result.hits]


def tagged_offer(title: str, **values: Any) -> dict:
    """An offer tagged with the concepts its title names, as the listing service tags it."""
    return offer(title, concepts=infer_concepts(title), **values)


async def load(backend: SearchBackend, *documents: dict) -> list[str]:
    await backend.upsert(OFFERS, list(documents))
    return [d["id"] for d in documents]


class TestVietnamese:
    async def test_query_without_diacritics_finds_text_with_them(self, backend: SearchBackend) -> None:
        wastewater, fertiliser = await load(
            backend,
            offer("Hệ thống xử lý nước thải chế biến thủy sản"),
            offer("Sản xuất phân bón vi sinh từ phụ phẩm"),
        )
        found = await ids(backend, q="xu ly nuoc thai")
        assert found[0] == wastewater
        assert fertiliser not in found

    async def test_exact_diacritics_rank_first(self, backend: SearchBackend) -> None:
        ocean, road = await load(
            backend,
            offer("Nuôi hàu Thái Bình Dương thương phẩm"),
            offer("Bê tông đường giao thông nông thôn"),
        )
        assert (await ids(backend, q="đường"))[:2] == [road, ocean]
        assert set(await ids(backend, q="duong")) >= {road, ocean}

    async def test_d_matches_đ(self, backend: SearchBackend) -> None:
        [chicken] = await load(backend, offer("Chỉ thị phân tử chọn giống gà Đông Tảo"))
        assert await ids(backend, q="ga dong tao") == [chicken]

    async def test_typo_is_tolerated(self, backend: SearchBackend) -> None:
        media, _ = await load(
            backend,
            offer("Vật liệu lọc nano mangan oxit phủ cát thạch anh hấp phụ asen"),
            offer("Sơn mái độ bền cao trên nền nhựa polyester"),
        )
        assert (await ids(backend, q="mangan oxyt"))[0] == media

    async def test_last_word_is_a_prefix(self, backend: SearchBackend) -> None:
        [solar] = await load(backend, offer("Grid-tied solar lighting for public offices"))
        assert await ids(backend, q="grid-tied sol") == [solar]


class TestWordFallback:
    async def test_a_word_no_listing_has_drops_out(self, backend: SearchBackend) -> None:
        media, _ = await load(
            backend,
            offer("Iron-oxide coated sand filter media for arsenic removal", language="en"),
            offer("Sơn mái độ bền cao trên nền nhựa polyester"),
        )
        assert await ids(backend, q="arsenic removal filter media for groundwater") == [media]

    async def test_listings_with_every_word_rank_first(self, backend: SearchBackend) -> None:
        partial, complete, _ = await load(
            backend,
            offer("Arsenic removal by ion exchange", language="en"),
            offer("Arsenic removal media for village wells", language="en"),
            offer("Composite fishing-boat hulls", language="en"),
        )
        assert await ids(backend, q="arsenic removal media") == [complete, partial]

    async def test_a_japanese_word_no_listing_has_drops_out(self, backend: SearchBackend) -> None:
        port, ship, _ = await load(
            backend,
            tagged_offer("港湾構造物の防食塗料", language="ja"),
            tagged_offer("船舶用防食塗料", language="ja"),
            offer("造船向け溶接ロボット", language="ja"),
        )
        assert await ids(backend, q="防食塗料") == [ship, port] or await ids(backend, q="防食塗料") == [port, ship]
        assert (await public(backend, "船舶用 防食塗料"))[:2] == [ship, port]
        assert port in await public(backend, "防食塗料 ノルウェー")


class TestTones:
    async def test_the_exact_tones_outrank_a_word_that_folds_alike(self, backend: SearchBackend) -> None:
        cacao, fish_sauce = await load(
            backend,
            offer("Chế biến hạt ca cao lên men"),
            offer("Nước mắm truyền thống ủ chượp nhanh", summary="Chế biến cá cơm thành nước mắm trong 6 tháng."),
        )
        assert await ids(backend, q="chế biến cá") == [fish_sauce, cacao]
        assert set(await ids(backend, q="che bien ca")) == {fish_sauce, cacao}

    async def test_tea_is_not_a_shade_net(self, backend: SearchBackend) -> None:
        net, tea = await load(
            backend,
            offer("Lưới che nắng xanh cho nhà kính"),
            offer("Máy sao sấy liên hoàn", summary="Sao và sấy chè xanh búp tươi, 200 kg/giờ."),
        )
        assert await ids(backend, q="chè xanh") == [tea, net]


class TestConceptBridge:
    async def test_a_vietnamese_query_finds_a_japanese_only_offer_by_its_concept(self, backend: SearchBackend) -> None:
        coating, _ = await load(
            backend,
            offer("港湾構造物の防食コーティング", language="ja", concepts=["anticorrosion"]),
            offer("Robot hàn vỏ tàu", concepts=["industrial-robots"]),
        )
        assert await public(backend, "sơn chống ăn mòn cho tàu") == [coating]
        assert await public(backend, "防食塗料") == [coating]

    async def test_tagged_listings_rank_above_listings_with_only_the_words(self, backend: SearchBackend) -> None:
        pond, wind = await load(
            backend,
            offer("Giải pháp IoT giám sát ao nuôi thủy sản", summary="Cảm biến cho ao nuôi tôm, điện năng thấp."),
            offer("養殖池向け小型風力発電", language="ja", concepts=["wind-power"]),
        )
        assert (await public(backend, "điện gió cho ao nuôi"))[0] == wind
        assert pond in await public(backend, "điện gió cho ao nuôi")

    async def test_the_concept_the_query_names_outranks_its_broader_one(self, backend: SearchBackend) -> None:
        # "điện mặt trời nổi" names floating solar; a listing tagged only with solar power (its broader
        # concept) and more of the other words is not what was asked for
        floating, rooftop = await load(
            backend,
            tagged_offer("Floating solar arrays for fish and shrimp ponds", language="en"),
            offer("Điện mặt trời cho ao nuôi tôm", summary="Lắp tấm pin trên bờ ao.", concepts=["solar-pv"]),
        )
        assert await public(backend, "điện mặt trời nổi cho ao nuôi tôm") == [floating, rooftop]


class TestLanguages:
    async def test_japanese_query_finds_japanese_text(self, backend: SearchBackend) -> None:
        ceramic, _ = await load(
            backend,
            offer("浄水用セラミック膜ろ過装置", language="ja"),
            offer("Hệ thống lọc nước bằng màng RO"),
        )
        assert await ids(backend, q="セラミック膜") == [ceramic]

    async def test_any_word_query_finds_japanese_text_sharing_part_of_it(self, backend: SearchBackend) -> None:
        # the matching service asks for "any word": a long Japanese need shares a few words with an offer
        welding, _ = await load(
            backend,
            offer("造船向け溶接ロボット", language="ja"),
            offer("Hệ thống lọc nước bằng màng RO"),
        )
        need = "造船所の溶接自動化 船体ブロックの溶接をロボットで自動化したい"
        assert await ids(backend, q=need, match_any=True, fuzzy=False) == [welding]

    async def test_a_search_can_keep_to_the_listings_own_words(self, backend: SearchBackend) -> None:
        # the keyword field adds the concept's labels in three languages; matching compares texts only
        [mbbr] = await load(backend, offer("Hệ thống MBBR cho nhà máy thủy sản", concepts=["wastewater-treatment"]))
        assert await ids(backend, q="wastewater treatment") == [mbbr]
        own_words = (Fields.SEARCH_TITLE, Fields.SEARCH_SUMMARY, Fields.SEARCH_DESCRIPTION)
        assert await ids(backend, q="wastewater treatment", fields=own_words) == []
        assert await ids(backend, q="MBBR", fields=own_words) == [mbbr]

    async def test_english_translation_is_searchable(self, backend: SearchBackend) -> None:
        [wastewater] = await load(
            backend,
            offer(
                "Hệ thống xử lý nước thải bằng MBBR",
                translations={"en": {"title": "MBBR wastewater treatment", "summary": "Treats seafood effluent."}},
            ),
        )
        assert await ids(backend, q="wastewater treatment") == [wastewater]
        assert await ids(backend, q="seafood effluent") == [wastewater]


class TestFiltersAndFacets:
    async def test_each_filter(self, backend: SearchBackend) -> None:
        company = owner("Công ty Tự động hóa Lạch Tray", kind="enterprise", province="Cần Thơ")
        robot, paint, water = await load(
            backend,
            offer(
                "Robot hàn vỏ tàu",
                org=company,
                field="automation",
                trl=8,
                ip_status="patent_granted",
                concepts=["industrial-robots"],
                transfer_types=["joint_venture"],
                proposed_for_city=True,
            ),
            offer("Sơn chống hà cho tàu biển", field="new_materials", trl=5, concepts=["paints-coatings"]),
            offer("浄水装置", language="ja", field="environment", trl=9),
        )
        cases = [
            (TermFilter("field", ("automation",)), [robot]),
            (TermFilter("field", ("automation", "new_materials")), [robot, paint]),
            (TermFilter("concepts", ("paints-coatings",)), [paint]),
            (TermFilter("ip_status", ("patent_granted",)), [robot]),
            (TermFilter("transfer_types", ("joint_venture",)), [robot]),
            (TermFilter("owner_kind", ("enterprise",)), [robot]),
            (TermFilter("province", ("Cần Thơ",)), [robot]),
            (TermFilter("language", ("ja",)), [water]),
            (TermFilter("proposed_for_city", (True,)), [robot]),
            (RangeFilter("trl", gte=6, lte=8), [robot]),
            (RangeFilter("trl", gt=8), [water]),
        ]
        for item, expected in cases:
            assert sorted(await ids(backend, filters=(item,))) == sorted(expected), item

    async def test_expired_documents_are_filtered_out(self, backend: SearchBackend) -> None:
        live, _ = await load(
            backend, offer("Công nghệ còn hạn"), offer("Công nghệ hết hạn", expires_at=NOW - timedelta(days=1))
        )
        visible = await ids(backend, filters=(RangeFilter("expires_at", gt=NOW.timestamp()),))
        assert visible == [live]

    async def test_facet_counts_follow_the_query(self, backend: SearchBackend) -> None:
        await load(
            backend,
            offer("Xử lý nước thải A", field="environment"),
            offer("Xử lý nước thải B", field="environment", ip_status="patent_granted"),
            offer("Xử lý nước thải C", field="biotech"),
            offer("Sơn mái", field="new_materials"),
        )
        result = await backend.search(OFFERS, SearchQuery(q="nuoc thai", facets=("field", "ip_status")))
        assert result.total == 3
        assert result.facets["field"] == {"environment": 2, "biotech": 1}
        assert result.facets["ip_status"] == {"know_how": 2, "patent_granted": 1}

    async def test_filter_injection_is_just_a_value(self, backend: SearchBackend) -> None:
        await load(backend, offer("Công nghệ bất kỳ"))
        hostile = TermFilter("province", ('x" OR country = "VN', "x') OR 1=1 --"))
        assert await ids(backend, filters=(hostile,)) == []


class TestOrderAndPages:
    async def test_sorting(self, backend: SearchBackend) -> None:
        old, new, mid = await load(
            backend,
            offer("Công nghệ một", trl=3, price_min=Decimal(300), created_at=NOW - timedelta(days=30)),
            offer("Công nghệ hai", trl=9, price_min=Decimal(100), created_at=NOW - timedelta(days=1)),
            offer("Công nghệ ba", trl=6, price_min=Decimal(200), created_at=NOW - timedelta(days=10)),
        )
        assert await ids(backend, sort="-created_at") == [new, mid, old]
        assert await ids(backend, sort="trl") == [old, mid, new]
        assert await ids(backend, sort="price_min") == [new, mid, old]

    async def test_pagination_reports_the_total(self, backend: SearchBackend) -> None:
        await load(backend, *(offer(f"Công nghệ nước sạch {i}", created_at=NOW - timedelta(hours=i)) for i in range(7)))
        first = await backend.search(OFFERS, SearchQuery(q="nuoc sach", sort="-created_at", limit=3))
        third = await backend.search(OFFERS, SearchQuery(q="nuoc sach", sort="-created_at", offset=6, limit=3))
        assert first.total == third.total == 7
        assert len(first.hits) == 3
        assert len(third.hits) == 1

    async def test_highlights_mark_the_matched_words(self, backend: SearchBackend) -> None:
        await load(backend, offer("Hệ thống xử lý nước thải"))
        [hit] = (await backend.search(OFFERS, SearchQuery(q="nuoc thai"))).hits
        assert "<mark>nước</mark>" in hit.highlights["title"]
        assert "<mark>thải</mark>" in hit.highlights["title"]


class TestChanges:
    async def test_updates_and_deletes_become_visible(self, backend: SearchBackend) -> None:
        document = offer("Máy sấy nông sản")
        await load(backend, document)
        assert await ids(backend, q="may say") == [document["id"]]
        await load(backend, {**document, "title": "Máy ép viên nén trấu", "search_title": "Máy ép viên nén trấu"})
        assert await ids(backend, q="say") == []  # ("may say" would still find it by "may": see TestWordFallback)
        assert await ids(backend, q="vien nen") == [document["id"]]
        assert (await backend.search(OFFERS, SearchQuery())).total == 1  # replaced, not duplicated
        await backend.delete(OFFERS, [document["id"]])
        assert await ids(backend, q="vien nen") == []

    async def test_rebuild_swaps_in_a_fresh_index(self, backend: SearchBackend) -> None:
        stale, kept = offer("Công nghệ cũ"), offer("Công nghệ mới")
        await load(backend, stale, kept)
        assert await backend.rebuild(OFFERS, [kept]) == 1
        assert await ids(backend) == [kept["id"]]


class TestAnonymity:
    async def test_anonymous_listing_does_not_carry_its_owner(self, backend: SearchBackend) -> None:
        secret = owner("Công ty Bí Mật Hải Phòng", kind="enterprise")
        [listing] = await load(backend, offer("Công nghệ ẩn danh xử lý rác", org=secret, visibility="anonymous"))
        [hit] = (await backend.search(OFFERS, SearchQuery(q="xu ly rac"))).hits
        assert hit.id == listing
        assert "organization_name" not in hit.document
        assert "organization_id" not in hit.document
        assert "Bí Mật" not in str(hit.document) + str(hit.highlights)
        assert await ids(backend, q="bi mat") == []


class TestOrganizations:
    async def test_organisations_by_name_without_diacritics(self, backend: SearchBackend) -> None:
        institute = owner("Viện Nghiên cứu Hải sản")
        await backend.upsert(
            "organizations", [organization_document(institute), organization_document(owner("Công ty Sơn"))]
        )
        result = await backend.search("organizations", SearchQuery(q="hai san"))
        assert [hit.id for hit in result.hits] == [str(institute.id)]


def expert(name: str, headline: str, **values: Any) -> dict:
    """An expert's search document, made as the indexer makes it (public fields only)."""
    from app.experts.service import expert_inferred_concepts
    from app.models import Expert

    defaults: dict[str, Any] = {
        "title": "TS.",
        "affiliation": "Viện Tài nguyên và Môi trường biển",
        "country": "VN",
        "city": "Hải Phòng",
        "overseas_vietnamese": False,
        "languages": ["vi"],
        "bio": "",
        "concepts": [],
        "keywords": [],
        "offers": ["consulting"],
        "visibility": {},
        "created_at": NOW - timedelta(days=10),
        "updated_at": NOW - timedelta(days=10),
        "last_confirmed_at": NOW - timedelta(days=10),
    }
    record = Expert(id=uuid.uuid4(), name=name, headline=headline, **(defaults | values))
    record.inferred_concepts = expert_inferred_concepts(record)
    return expert_document(record)


async def experts(backend: SearchBackend, *documents: dict) -> list[str]:
    await backend.upsert(EXPERTS, list(documents))
    return [d["id"] for d in documents]


STALE_DAYS = 365
UNCONFIRMED = NOW - timedelta(days=STALE_DAYS + 35)


async def find_experts(backend: SearchBackend, **params: Any) -> Any:
    """What the public expert search asks the backend (profiles unconfirmed for a year demoted)."""
    return await backend.search(EXPERTS, build_query(EXPERTS, SearchParams(**params), NOW, STALE_DAYS))


async def expert_ids(backend: SearchBackend, **params: Any) -> list[str]:
    return [hit.id for hit in (await find_experts(backend, **params)).hits]


class TestExperts:
    """The expert index answers like the listing indexes: marks optional, typos tolerated, facets counted."""

    async def test_vietnamese_without_marks_and_with_a_typo(self, backend: SearchBackend) -> None:
        water, paint = await experts(
            backend,
            expert("Nguyễn Văn Thành", "Xử lý nước thải chế biến thủy sản"),
            expert("Lê Thị Hồng", "Sơn chống ăn mòn cho tàu biển"),
        )
        assert [h.id for h in (await find_experts(backend, q="xu ly nuoc thai")).hits][:1] == [water]
        assert [h.id for h in (await find_experts(backend, q="chong an mon")).hits] == [paint]
        assert [h.id for h in (await find_experts(backend, q="Nguyen Van Thnah")).hits][:1] == [water]

    async def test_a_concept_bridges_languages(self, backend: SearchBackend) -> None:
        [japanese] = await experts(backend, expert("田中 健一", "水産加工場の排水処理", country="JP", languages=["ja"]))
        hits = (await find_experts(backend, q="xử lý nước thải")).hits
        assert [h.id for h in hits] == [japanese]

    async def test_facets_and_filters(self, backend: SearchBackend) -> None:
        await experts(
            backend,
            expert(
                "Trần Minh Quân",
                "RAS aquaculture",
                country="AU",
                overseas_vietnamese=True,
                offers=["mentoring"],
                languages=["vi", "en"],
            ),
            expert("Phạm Thu", "Định giá công nghệ", offers=["valuation", "consulting"], languages=["vi", "en"]),
            expert("Kim Min-jun", "Battery recycling", country="KR", languages=["ko", "en"]),
        )
        facets = ("country", "overseas_vietnamese", "offers", "languages")
        result = await find_experts(backend, facets=facets)
        assert result.total == 3
        assert result.facets["country"] == {"AU": 1, "VN": 1, "KR": 1}
        assert result.facets["overseas_vietnamese"] == {"true": 1, "false": 2}
        assert result.facets["offers"] == {"mentoring": 1, "valuation": 1, "consulting": 2}
        assert result.facets["languages"] == {"vi": 2, "en": 3, "ko": 1}
        overseas = await find_experts(backend, terms=(("overseas_vietnamese", (True,)),))
        assert [h.document["name"] for h in overseas.hits] == ["Trần Minh Quân"]
        both = await find_experts(backend, terms=(("country", ("KR", "AU")), ("languages", ("en",))))
        assert {h.document["name"] for h in both.hits} == {"Trần Minh Quân", "Kim Min-jun"}

    async def test_fields_hidden_from_the_public_are_not_indexed(self, backend: SearchBackend) -> None:
        [hidden] = await experts(
            backend,
            expert(
                "Đỗ Quang Hải",
                "Tư vấn tự động hóa",
                bio="Chuyên gia gốm áp điện",
                city="Đà Nẵng",
                visibility={"bio": "members", "city": "members", "languages": "private"},
            ),
        )
        assert (await find_experts(backend, q="gom ap dien")).total == 0
        [hit] = (await find_experts(backend, q="tu dong hoa")).hits
        assert hit.id == hidden
        assert hit.document["city"] is None
        assert hit.document["languages"] == []

    async def test_filter_values_cannot_inject(self, backend: SearchBackend) -> None:
        await experts(backend, expert("Vũ Hà", "Khử mặn nước biển"))
        injected = await find_experts(backend, terms=(("country", ('VN" OR country != "',)),))
        assert injected.total == 0


class TestExpertFreshness:
    """A profile not confirmed for a year ranks below the profiles that answer the query as well, and is
    never hidden: decided when searching, so the index needs no rewrite as time passes."""

    async def test_stale_ranks_below_an_otherwise_equal_fresh_profile(self, backend: SearchBackend) -> None:
        # indexed first, the stale one would come first on a tie
        stale, fresh = await experts(
            backend,
            expert("Trần Văn An", "Xử lý nước thải chế biến thủy sản", last_confirmed_at=UNCONFIRMED),
            expert("Trần Văn Bình", "Xử lý nước thải chế biến thủy sản"),
        )
        for q in ("xử lý nước thải", "xu ly nuoc thai", "thuy san", ""):
            assert await expert_ids(backend, q=q) == [fresh, stale], q

    async def test_a_much_better_stale_match_still_comes_first(self, backend: SearchBackend) -> None:
        stale, fresh = await experts(
            backend,
            expert("Hoàng Minh", "Đo đạc thủy văn sông Cấm", last_confirmed_at=UNCONFIRMED),
            expert("Đặng Lan", "Đo đạc thủy văn vùng ven biển"),
        )
        # the fresh one has two of the three words
        assert await expert_ids(backend, q="thuy van song") == [stale, fresh]
        [only] = (await find_experts(backend, q="song cam")).hits
        assert only.id == stale

    async def test_demoted_profiles_count_in_totals_facets_and_filters(self, backend: SearchBackend) -> None:
        stale, _ = await experts(
            backend,
            expert("Kim Min-jun", "Battery recycling", country="KR", last_confirmed_at=UNCONFIRMED),
            expert("Trần Minh Quân", "Battery recycling", country="AU"),
        )
        result = await find_experts(backend, q="battery recycling", facets=("country",))
        assert result.total == 2
        assert result.facets["country"] == {"KR": 1, "AU": 1}
        assert await expert_ids(backend, q="battery", terms=(("country", ("KR",)),)) == [stale]

    async def test_confirming_lifts_the_profile_back(self, backend: SearchBackend) -> None:
        # once both are fresh, the words side by side in a headline answer better than apart in a biography
        headline = expert("Hoàng Minh", "Đo đạc thủy văn", last_confirmed_at=UNCONFIRMED)
        biography = expert("Đặng Lan", "Tư vấn môi trường", bio="Đo đạc địa hình và thủy văn cho các cảng.")
        await experts(backend, headline, biography)
        assert await expert_ids(backend, q="do dac thuy van") == [biography["id"], headline["id"]]
        await experts(backend, {**headline, Fields.LAST_CONFIRMED_AT: int(NOW.timestamp())})
        assert await expert_ids(backend, q="do dac thuy van") == [headline["id"], biography["id"]]

    async def test_a_sort_by_date_is_not_reordered(self, backend: SearchBackend) -> None:
        older, newer = await experts(
            backend,
            expert("Hoàng Minh", "Đo đạc thủy văn", created_at=NOW - timedelta(days=800)),
            expert("Đặng Lan", "Đo đạc thủy văn", created_at=NOW - timedelta(days=5), last_confirmed_at=UNCONFIRMED),
        )
        assert await expert_ids(backend, q="thuy van", sort=SearchSort.NEWEST) == [newer, older]
