"""Experts for a listing (ranked, explained in vi/en/ja, expertise before evidence, stale profiles lower),
search over experts, and the network's statistics in JSON and in the XLSX report."""

from __future__ import annotations

import io
import uuid
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from openpyxl import load_workbook
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.models import Expert
from app.models.base import utcnow
from tests.conftest import make_settings
from tests.experts.test_api import create_expert
from tests.helpers import Registered, create_listing, expect, make_staff, register


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Matching by meaning on, as in production."""
    return make_settings(database_url, semantic_matching=True)


@pytest.fixture
async def moderator(client: AsyncClient, session: AsyncSession) -> Registered:
    return await make_staff(client, session, "moderator")


@pytest.fixture
async def network(app: FastAPI, client: AsyncClient, moderator: Registered) -> dict[str, Any]:
    """A seafood wastewater need; a fitting expert abroad (written in Japanese), a fitting expert at home with
    less evidence, one with the same expertise but a stale profile, a renowned expert in another field."""
    buyer = await register(client, organization="Công ty Chế biến Thủy sản Cát Hải")
    university = await register(client, kind="university", organization="Đại học Kỹ thuật")
    demand = await create_listing(
        client,
        buyer,
        "demand",
        status="published",
        moderator=moderator,
        title="Cần cải tạo hệ thống xử lý nước thải chế biến thủy sản",
        summary="Nước thải nhiều đạm và mỡ, amoni vượt chuẩn; cần chuyên gia đánh giá phương án cải tạo.",
        concepts=["wastewater-treatment"],
    )
    common = {"concepts": [], "orcid": None, "highest_trl": None, "offers": ["assessment", "consulting"]}
    abroad = await create_expert(
        client,
        university,
        **common,
        name="Trần Thị Lan",
        headline="水産加工排水の排水処理と窒素除去",
        bio="水産加工場の排水処理施設の改修を多数手がけた。",
        keywords=["排水処理", "窒素除去"],
        industry_years=15,
        patents_count=4,
        publications_count=30,
    )
    home = await create_expert(
        client,
        university,
        **common,
        name="Lê Văn Hòa",
        country="VN",
        overseas_vietnamese=False,
        headline="Xử lý nước thải chế biến thủy sản",
        bio="Thiết kế trạm xử lý nước thải cho nhà máy chế biến thủy sản.",
        keywords=["nước thải", "thủy sản"],
        industry_years=2,
        patents_count=0,
        publications_count=3,
    )
    stale = await create_expert(
        client,
        university,
        **common,
        name="Phạm Quốc Việt",
        country="VN",
        overseas_vietnamese=False,
        headline="Xử lý nước thải chế biến thủy sản",
        bio="Thiết kế trạm xử lý nước thải cho nhà máy chế biến thủy sản.",
        keywords=["nước thải", "thủy sản"],
        industry_years=2,
        patents_count=0,
        publications_count=3,
    )
    renowned = await create_expert(
        client,
        university,
        **common,
        name="Hoàng Minh Đức",
        headline="Robot công nghiệp và gia công CNC",
        bio="Tích hợp robot hàn cho nhà máy cơ khí.",
        keywords=["robot", "CNC"],
        industry_years=30,
        patents_count=12,
        publications_count=150,
    )
    return {
        "buyer": buyer,
        "university": university,
        "demand": demand,
        "abroad": abroad,
        "home": home,
        "stale": stale,
        "renowned": renowned,
    }


async def _experts_for(client: AsyncClient, demand_id: str, language: str) -> dict[str, Any]:
    response = await client.get(f"/api/v1/demands/{demand_id}/experts", headers={"Accept-Language": language})
    body = expect(response, 200)
    assert response.headers["content-language"] == language
    return body


class TestExpertsForADemand:
    async def test_ranked_expertise_first_across_languages_and_explained(
        self, app: FastAPI, client: AsyncClient, session: AsyncSession, network: dict[str, Any]
    ) -> None:
        await session.execute(
            update(Expert)
            .where(Expert.id == uuid.UUID(network["stale"]["id"]))
            .values(last_confirmed_at=utcnow() - timedelta(days=400))
        )
        await session.commit()
        await app.state.indexer.drain()
        body = await _experts_for(client, network["demand"]["id"], "en")
        order = [item["expert"]["id"] for item in body["items"]]
        abroad, home, stale = network["abroad"]["id"], network["home"]["id"], network["stale"]["id"]
        assert network["renowned"]["id"] not in order, "evidence without expertise in the topic does not match"
        assert order.index(abroad) < order.index(home), "a Japanese profile on the topic, with more evidence"
        assert order.index(home) < order.index(stale), "the same profile, not confirmed for a year, ranks lower"
        first = body["items"][0]
        features = [reason["feature"] for reason in first["reasons"]]
        assert "concepts" in features
        assert "industry" in features
        assert "patents" in features
        concepts = next(r["text"] for r in first["reasons"] if r["feature"] == "concepts")
        assert concepts.startswith("Shared topics: ")
        assert "wastewater treatment" in concepts
        stale_item = body["items"][order.index(stale)]
        assert stale_item["expert"]["stale"] is True
        assert [g["text"] for g in stale_item["gaps"]] == ["Profile not confirmed for over 12 months"]
        # the same reasons in Vietnamese and Japanese
        vi = await _experts_for(client, network["demand"]["id"], "vi")
        ja = await _experts_for(client, network["demand"]["id"], "ja")
        assert any(
            r["text"].startswith("Cùng chủ đề: ") and "xử lý nước thải" in r["text"] for r in vi["items"][0]["reasons"]
        )
        assert any(
            r["text"].startswith("共通のテーマ: ") and "排水処理" in r["text"] for r in ja["items"][0]["reasons"]
        )
        assert any("15 năm kinh nghiệm" in r["text"] for r in vi["items"][0]["reasons"])

    async def test_an_expert_on_a_neighbouring_topic_in_another_language_is_found(
        self, app: FastAPI, client: AsyncClient, moderator: Registered
    ) -> None:
        """No shared concept, no shared word: the sub-field (water treatment) is the bridge, and says so."""
        buyer = await register(client, organization="Công ty Cấp nước Nông thôn")
        university = await register(client, kind="university", organization="Kyushu Water Lab")
        demand = await create_listing(
            client,
            buyer,
            "demand",
            status="published",
            moderator=moderator,
            title="Nước sinh hoạt của xã nhiễm asen",
            summary="Cần công nghệ khử asen cho trạm 200 m3/ngày.",
            concepts=["arsenic-removal"],
        )
        common = {"orcid": None, "highest_trl": None, "offers": ["consulting"], "keywords": []}
        neighbour = await create_expert(
            client,
            university,
            **common,
            name="Sato Hiroshi",
            headline="除鉄・除マンガン",
            bio="生物ろ過による除鉄・除マンガン設備を設計してきた。",
            concepts=["iron-manganese-removal"],
        )
        elsewhere = await create_expert(
            client,
            university,
            **common,
            name="Suzuki Taro",
            headline="造船所の溶接自動化",
            bio="溶接ロボットの導入を支援。",
            concepts=["welding"],
        )
        await app.state.indexer.drain()
        body = await _experts_for(client, demand["id"], "en")
        found = {item["expert"]["id"]: item for item in body["items"]}
        assert neighbour["id"] in found
        assert elsewhere["id"] not in found
        reasons = found[neighbour["id"]]["reasons"]
        assert "concepts" not in {r["feature"] for r in reasons}
        subfield = next(r["text"] for r in reasons if r["feature"] == "subfield")
        assert subfield.startswith("Same sub-field: ")
        assert "Water and wastewater treatment" in subfield

    async def test_private_evidence_is_not_used_nor_shown(
        self, app: FastAPI, client: AsyncClient, network: dict[str, Any]
    ) -> None:
        path = f"/api/v1/experts/{network['abroad']['id']}"
        etag = (await client.get(path)).headers["etag"]
        expect(
            await client.patch(
                path,
                json={"visibility": {"patents_count": "private", "industry_years": "members"}},
                headers={**network["university"].headers, "If-Match": etag},
            ),
            200,
        )
        await app.state.indexer.drain()
        body = await _experts_for(client, network["demand"]["id"], "en")
        item = next(i for i in body["items"] if i["expert"]["id"] == network["abroad"]["id"])
        features = {r["feature"] for r in item["reasons"]}
        assert not features & {"patents", "industry"}

    async def test_offer_side_and_unknown_listing(self, client: AsyncClient, network: dict[str, Any]) -> None:
        offer = await create_listing(client, network["buyer"], "offer")  # a draft: only its owner sees it
        response = await client.get(f"/api/v1/offers/{offer['id']}/experts", headers=network["buyer"].headers)
        assert expect(response, 200)["listing_id"] == offer["id"]
        assert (await client.get(f"/api/v1/offers/{offer['id']}/experts")).status_code == 404


class TestSearch:
    async def test_vietnamese_without_marks_typos_and_facets(
        self, app: FastAPI, client: AsyncClient, network: dict[str, Any]
    ) -> None:
        await app.state.indexer.drain()
        found = expect(await client.get("/api/v1/search/experts", params={"q": "nuoc thai thuy san"}), 200)
        ids = {hit["id"] for hit in found["items"]}
        assert {network["home"]["id"], network["stale"]["id"]} <= ids
        assert network["renowned"]["id"] not in ids
        typo = expect(await client.get("/api/v1/search/experts", params={"q": "robbot"}), 200)
        assert [hit["id"] for hit in typo["items"]] == [network["renowned"]["id"]]
        # a Vietnamese query finds the Japanese profile through the shared concept
        bridged = expect(await client.get("/api/v1/search/experts", params={"q": "xử lý nước thải"}), 200)
        assert network["abroad"]["id"] in {hit["id"] for hit in bridged["items"]}
        faceted = expect(
            await client.get(
                "/api/v1/search/experts",
                params={"facets": "country,overseas_vietnamese,offers,languages,concepts", "overseas_vietnamese": True},
            ),
            200,
        )
        assert faceted["total"] == 2
        assert faceted["facets"]["country"] == {"JP": 2}
        assert faceted["facets"]["overseas_vietnamese"] == {"true": 2}
        assert faceted["facets"]["offers"] == {"assessment": 2, "consulting": 2}
        hit = faceted["items"][0]["document"]
        assert "contact" not in hit
        assert hit["city"] is None, "members-only by default"
        bad = await client.get("/api/v1/search/experts", params={"facets": "fee_basis"})
        assert bad.status_code == 422


class TestStatistics:
    async def test_json_and_report(self, client: AsyncClient, network: dict[str, Any]) -> None:
        asker = network["buyer"]
        for expert_key, accept in (("abroad", True), ("home", False), ("renowned", None)):
            sent = expect(
                await client.post(
                    f"/api/v1/experts/{network[expert_key]['id']}/consultations",
                    json={"message": "Xin tư vấn về phương án công nghệ."},
                    headers=asker.headers,
                ),
                201,
            )
            if accept is not None:
                action = "accept" if accept else "decline"
                path = f"/api/v1/consultations/{sent['id']}/{action}"
                expect(await client.post(path, json={}, headers=network["university"].headers), 200)
        stats = expect(await client.get("/api/v1/stats/experts"), 200)
        assert stats["experts"] == 4
        assert stats["overseas_vietnamese"] == 2
        assert stats["overseas_share"] == 0.5
        assert {r["country"]: r["experts"] for r in stats["by_country"]} == {"JP": 2, "VN": 2}
        assert {r["field"]: r["experts"] for r in stats["by_field"]}["environment"] == 3
        assert (stats["requests"], stats["requests_accepted"], stats["requests_declined"]) == (3, 1, 1)
        assert stats["acceptance_rate"] == 0.5
        report = await client.get("/api/v1/stats/report.xlsx")
        sheet = load_workbook(io.BytesIO(report.content))["experts"]
        rows = {(r[0], r[1]): r for r in sheet.iter_rows(min_row=2, values_only=True)}
        assert rows[("total", "experts")][2] == 4
        assert rows[("total", "overseas_share")][4] == 0.5
        assert rows[("requests", "acceptance_rate")][4] == 0.5
        assert rows[("country", "JP")][3] == 2
