"""Matching through HTTP: ranked, explained, across languages; feedback; alerts."""

from __future__ import annotations

import uuid

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from tests.helpers import create_listing, expect, make_staff, register

JAPANESE_OFFER = {
    "language": "ja",
    "title": "高効率生物膜法による排水処理システム",
    "summary": "食品工場や水産加工場の排水を省スペースで処理する生物膜システム。",
    "translations": {
        "en": {"title": "High-efficiency biofilm wastewater treatment", "summary": "Treats seafood effluent."}
    },
    "concepts": [],
    "field": "environment",
    "trl": 9,
}


@pytest.fixture
async def moderator(client: AsyncClient, session: AsyncSession):
    return await make_staff(client, session, "moderator")


@pytest.fixture
async def market(app: FastAPI, client: AsyncClient, moderator):
    """A Vietnamese need, a Vietnamese and a Japanese offer that answer it, and an unrelated one."""
    buyer = await register(client, organization="Công ty Thủy sản Cát Hải")
    institute = await register(client, kind="institute", organization="Viện Công nghệ Môi trường")
    japan = await register(client, organization="北九州エコウォーター", country="JP")
    painter = await register(client, organization="Công ty Sơn")
    demand = await create_listing(
        client,
        buyer,
        "demand",
        status="published",
        moderator=moderator,
        title="Cần công nghệ xử lý nước thải chế biến thủy sản",
        concepts=["wastewater-treatment"],
        min_trl=6,
    )
    local = await create_listing(
        client,
        institute,
        status="published",
        moderator=moderator,
        title="Hệ thống xử lý nước thải thủy sản bằng MBBR",
        concepts=["wastewater-treatment", "biological-treatment"],
        trl=8,
        transfer_types=["turnkey_equipment"],
        price_min="1000000000",
        price_max="3000000000",
    )
    japanese = await create_listing(client, japan, status="published", moderator=moderator, **JAPANESE_OFFER)
    paint = await create_listing(
        client,
        painter,
        status="published",
        moderator=moderator,
        title="Sơn mái độ bền cao",
        field="new_materials",
        concepts=["roofing-paint"],
        trl=8,
    )
    await app.state.indexer.drain()
    return {
        "buyer": buyer,
        "institute": institute,
        "demand": demand,
        "local": local,
        "japanese": japanese,
        "paint": paint,
    }


class TestMatches:
    async def test_offers_for_a_demand_are_ranked_and_explained(self, client: AsyncClient, market) -> None:
        result = expect(await client.get(f"/api/v1/demands/{market['demand']['id']}/matches"), 200)
        ranked = [m["candidate"]["id"] for m in result["items"]]
        assert set(ranked[:2]) == {market["local"]["id"], market["japanese"]["id"]}
        assert market["paint"]["id"] not in ranked[:2]
        top = result["items"][0]
        assert top["rank"] == 1
        assert 0 < top["score"] <= 1
        texts = [r["text"] for r in top["reasons"]]
        assert "Cùng lĩnh vực: công nghệ môi trường" in texts
        assert any(
            t.startswith("TRL 8 ≥ yêu cầu tối thiểu 6") or t.startswith("TRL 9 ≥ yêu cầu tối thiểu 6") for t in texts
        )

    async def test_reasons_speak_the_readers_language_and_say_which(self, client: AsyncClient, market) -> None:
        path = f"/api/v1/demands/{market['demand']['id']}/matches"
        response = await client.get(path)  # no Accept-Language: the demand's own language
        result = expect(response, 200)
        assert result["language"] == "vi"
        assert response.headers["content-language"] == "vi"
        assert "Accept-Language" in response.headers["vary"]
        response = await client.get(path, headers={"Accept-Language": "vi;q=0.1, en;q=0.4, ja;q=0.9"})
        assert expect(response, 200)["language"] == "ja"
        assert response.headers["content-language"] == "ja"
        local = next(
            m
            for m in expect(await client.get(path, headers={"Accept-Language": "en"}), 200)["items"]
            if m["candidate"]["id"] == market["local"]["id"]
        )
        texts = [r["text"] for r in local["reasons"]]
        assert "Transfer type both accept: turnkey equipment" in texts  # a label, not the code
        assert not any("_" in t for t in texts)
        assert all(r["contribution"] >= 0.02 for r in local["reasons"])
        assert not any(t.startswith("Updated") for t in texts)

    async def test_a_japanese_demand_gets_japanese_reasons_by_default(
        self, app: FastAPI, client: AsyncClient, market, moderator
    ) -> None:
        seeker = await register(client, organization="株式会社水処理研究所", country="JP")
        demand = await create_listing(
            client,
            seeker,
            "demand",
            status="published",
            moderator=moderator,
            language="ja",
            title="水産加工場の排水処理技術を探しています",
            summary="高効率な生物処理を希望します。",
            min_trl=9,
        )
        await app.state.indexer.drain()
        response = await client.get(f"/api/v1/demands/{demand['id']}/matches")
        result = expect(response, 200)
        assert result["language"] == "ja"
        assert response.headers["content-language"] == "ja"
        local = next(m for m in result["items"] if m["candidate"]["id"] == market["local"]["id"])
        # TRL 8 under the required 9: a gap, not among the reasons that add to the score
        assert [g["text"] for g in local["gaps"]] == ["TRL 8 は必要最低 9 に届かない"]
        assert "trl" not in {r["feature"] for r in local["reasons"]}

    async def test_a_japanese_offer_is_found_through_inferred_concepts(self, client: AsyncClient, market) -> None:
        japanese = expect(await client.get(f"/api/v1/offers/{market['japanese']['id']}", headers={}), 200)
        assert japanese["concepts"] == []
        result = expect(
            await client.get(f"/api/v1/demands/{market['demand']['id']}/matches", headers={"Accept-Language": "en"}),
            200,
        )
        match = next(m for m in result["items"] if m["candidate"]["id"] == market["japanese"]["id"])
        concepts = next(r for r in match["reasons"] if r["feature"] == "concepts")
        # the Japanese summary names seafood-processing plants (水産加工場) too, as the Vietnamese need does
        assert concepts["text"].startswith("Shared topics: ")
        assert "wastewater treatment (inferred from the text)" in concepts["text"]
        assert "seafood processing (inferred from the text)" in concepts["text"]

    async def test_a_japanese_need_finds_offers_by_their_japanese_words(
        self, app: FastAPI, client: AsyncClient, market, moderator
    ) -> None:
        seeker = await register(client, organization="株式会社北九州製作所", country="JP")
        demand = await create_listing(
            client,
            seeker,
            "demand",
            status="published",
            moderator=moderator,
            language="ja",
            title="高効率で省スペースな装置を探しています",  # no taxonomy concept: only the words can find it
            summary="設置面積の小さいものが望ましい。",
            concepts=[],
        )
        await app.state.indexer.drain()
        result = expect(await client.get(f"/api/v1/demands/{demand['id']}/matches"), 200)
        top = result["items"][0]
        assert top["candidate"]["id"] == market["japanese"]["id"]
        assert "text" in {r["feature"] for r in top["reasons"]}

    async def test_owners_names_do_not_make_listings_alike(
        self, app: FastAPI, client: AsyncClient, market, moderator
    ) -> None:
        # both owners are named after the same district, and say so in their summaries
        buyer = await register(client, organization="Công ty Cổ phần Phân bón Tiên Lãng")
        demand = await create_listing(
            client,
            buyer,
            "demand",
            status="published",
            moderator=moderator,
            title="Cần túi đựng phân hủy sinh học",
            summary="Công ty Cổ phần Phân bón Tiên Lãng cần túi tự hủy để đóng gói sản phẩm.",
            field="new_materials",
            concepts=["bioplastics"],
        )
        station = await register(client, kind="institute", organization="Trạm Nghiên cứu Rừng ngập mặn Tiên Lãng")
        purifier = await create_listing(
            client,
            station,
            status="published",
            moderator=moderator,
            title="Thiết bị lọc nước lợ cho hộ gia đình",
            summary="Trạm Nghiên cứu Rừng ngập mặn Tiên Lãng chuyển giao thiết bị lọc nước lợ.",
            description="",
            translations={},
            concepts=["desalination"],
        )
        await app.state.indexer.drain()
        result = expect(await client.get(f"/api/v1/demands/{demand['id']}/matches"), 200)
        found = next((m for m in result["items"] if m["candidate"]["id"] == purifier["id"]), None)
        assert found is None or "text" not in {r["feature"] for r in found["reasons"]}

    async def test_reasons_in_japanese(self, client: AsyncClient, market) -> None:
        result = expect(
            await client.get(f"/api/v1/demands/{market['demand']['id']}/matches", headers={"Accept-Language": "ja"}),
            200,
        )
        assert result["language"] == "ja"
        assert "同じ分野: 環境技術" in [r["text"] for r in result["items"][0]["reasons"]]

    async def test_demands_for_an_offer(self, client: AsyncClient, market) -> None:
        result = expect(await client.get(f"/api/v1/offers/{market['local']['id']}/matches"), 200)
        assert result["items"][0]["candidate"]["id"] == market["demand"]["id"]

    async def test_dismissed_never_returns_and_bookmarks_are_marked(self, client: AsyncClient, market) -> None:
        path = f"/api/v1/demands/{market['demand']['id']}/matches"
        buyer = market["buyer"]
        expect(
            await client.put(f"{path}/{market['local']['id']}", json={"action": "dismiss"}, headers=buyer.headers), 204
        )
        expect(
            await client.put(f"{path}/{market['japanese']['id']}", json={"action": "bookmark"}, headers=buyer.headers),
            204,
        )
        result = expect(await client.get(path), 200)
        ids = [m["candidate"]["id"] for m in result["items"]]
        assert market["local"]["id"] not in ids
        assert next(m for m in result["items"] if m["candidate"]["id"] == market["japanese"]["id"])["bookmarked"]
        stranger = market["institute"]
        refused = await client.put(
            f"{path}/{market['paint']['id']}", json={"action": "dismiss"}, headers=stranger.headers
        )
        assert refused.status_code == 403

    async def test_feedback_on_an_unknown_candidate_is_404_and_a_repeated_put_no_conflict(
        self, client: AsyncClient, market
    ) -> None:
        path = f"/api/v1/demands/{market['demand']['id']}/matches"
        buyer = market["buyer"]
        unknown = await client.put(f"{path}/{uuid.uuid4()}", json={"action": "dismiss"}, headers=buyer.headers)
        assert unknown.status_code == 404, unknown.text
        not_an_offer = await client.put(
            f"{path}/{market['demand']['id']}", json={"action": "bookmark"}, headers=buyer.headers
        )
        assert not_an_offer.status_code == 404
        for action in ("bookmark", "bookmark", "dismiss", None, None):
            expect(
                await client.put(f"{path}/{market['japanese']['id']}", json={"action": action}, headers=buyer.headers),
                204,
            )
        assert market["japanese"]["id"] in [m["candidate"]["id"] for m in expect(await client.get(path), 200)["items"]]

    async def test_counterpart_organisations_are_reciprocal(self, client: AsyncClient, market) -> None:
        result = expect(await client.get(f"/api/v1/organizations/{market['buyer'].organization_id}/matches"), 200)
        assert result["items"]
        top = result["items"][0]
        # both offer organisations answer the need (the Japanese one names seafood-processing plants too)
        answering = {market["institute"].organization_id, market["japanese"]["organization"]["id"]}
        assert top["organization"]["id"] in answering
        assert {i["organization"]["id"] for i in result["items"][:2]} == answering
        assert top["reasons"]
        a, b = top["score_for_you"], top["score_for_them"]
        assert top["score"] == pytest.approx(2 * a * b / (a + b), abs=1e-3)


class TestAlerts:
    async def test_new_listings_raise_notifications(self, app: FastAPI, client: AsyncClient, market, moderator) -> None:
        buyer = market["buyer"]
        expect(
            await client.post(
                "/api/v1/match-subscriptions",
                json={"listing_id": market["demand"]["id"], "threshold": 0.3},
                headers=buyer.headers,
            ),
            201,
        )
        expect(
            await client.post(
                "/api/v1/match-subscriptions", json={"kind": "offer", "query": "loc asen"}, headers=buyer.headers
            ),
            201,
        )
        newcomer = await register(client, kind="institute")
        await create_listing(
            client,
            newcomer,
            status="published",
            moderator=moderator,
            title="Bể lọc sinh học xử lý nước thải thủy sản",
            concepts=["wastewater-treatment"],
            trl=7,
        )
        await create_listing(
            client, newcomer, status="published", moderator=moderator, title="Cát lọc asen cho giếng khoan"
        )
        notes = expect(await client.get("/api/v1/notifications", headers=buyer.headers), 200)
        titles = {n["payload"]["title"] for n in notes["items"]}
        assert "Bể lọc sinh học xử lý nước thải thủy sản" in titles
        assert "Cát lọc asen cho giếng khoan" in titles
        funnel = expect(await client.get("/api/v1/stats/funnel"), 200)  # this year
        assert funnel["matches"] == notes["total"] >= 2
        first = notes["items"][0]
        read = expect(await client.post(f"/api/v1/notifications/{first['id']}/read", headers=buyer.headers), 200)
        assert read["read_at"] is not None
        unread = expect(await client.get("/api/v1/notifications", params={"unread": True}, headers=buyer.headers), 200)
        assert unread["total"] == notes["total"] - 1
        other = market["institute"]
        assert (
            await client.post(f"/api/v1/notifications/{first['id']}/read", headers=other.headers)
        ).status_code == 404


async def test_candidates_by_concept_come_from_the_needs_own_topics_first(
    client: AsyncClient, app: FastAPI, moderator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A broader topic (solar power, for floating solar) may tag more listings than one search brings; the
    listings on the topic asked for must not be left to chance among them."""
    monkeypatch.setattr("app.matching.service.CANDIDATES", 2)
    buyer = await register(client, organization="Công ty Thủy lợi Tiên Lãng")
    maker = await register(client, organization="太陽光メーカー", country="JP")
    for title in ("屋根置き太陽光発電システム", "太陽光発電の遠隔監視", "工場向け太陽光発電"):
        await create_listing(client, maker, status="published", moderator=moderator, language="ja", title=title)
    floating = await create_listing(
        client, maker, status="published", moderator=moderator, language="ja", title="ため池向け水上太陽光発電"
    )
    demand = await create_listing(
        client, buyer, "demand", status="published", moderator=moderator, title="Cần điện mặt trời nổi trên hồ"
    )
    await app.state.indexer.drain()
    result = expect(await client.get(f"/api/v1/demands/{demand['id']}/matches"), 200)
    assert floating["id"] in [m["candidate"]["id"] for m in result["items"]]
