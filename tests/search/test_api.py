"""Search through HTTP on the real app: the outbox keeps the index in step with the database."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.config import Settings
from app.db import Database
from app.main import create_app
from app.search.meili import MeiliBackend
from app.seed import load_demo_data
from tests.conftest import BASE_URL
from tests.helpers import create_listing, expect, make_staff, register


@pytest.fixture
async def moderator(client: AsyncClient, session: AsyncSession):
    return await make_staff(client, session, "moderator")


async def search(client: AsyncClient, kind: str = "offers", **params: object) -> dict:
    return expect(await client.get(f"/api/v1/search/{kind}", params=params), 200)


class TestIndexFollowsTheDatabase:
    async def test_published_listing_becomes_searchable_and_leaves_when_withdrawn(
        self, app: FastAPI, client: AsyncClient, moderator
    ) -> None:
        owner = await register(client, kind="institute", organization="Viện Công nghệ Môi trường")
        draft = await create_listing(client, owner, title="Hệ thống xử lý nước thải làng nghề")
        published = await create_listing(
            client, owner, status="published", moderator=moderator, title="Bể lọc sinh học xử lý nước thải thủy sản"
        )
        status = expect(await client.get("/api/v1/search/status"), 200)
        assert status["outbox"]["pending"] > 0
        await app.state.indexer.drain()
        assert expect(await client.get("/api/v1/search/status"), 200)["outbox"]["pending"] == 0

        result = await search(client, q="xu ly nuoc thai")
        assert [h["id"] for h in result["items"]] == [published["id"]], "drafts are not searchable"
        hit = result["items"][0]
        assert hit["document"]["organization_name"] == "Viện Công nghệ Môi trường"
        assert "<mark>" in hit["highlights"]["title"]
        assert draft["id"] not in str(result)

        path = f"/api/v1/offers/{published['id']}"
        current = await client.get(path, headers=owner.headers)
        expect(
            await client.patch(
                path,
                json={"title": "Bể lọc sinh học cho ao nuôi tôm"},
                headers={**owner.headers, "If-Match": current.headers["etag"]},
            ),
            200,
        )
        await app.state.indexer.drain()
        assert (await search(client, q="xu ly nuoc thai"))["total"] == 0
        assert (await search(client, q="ao nuoi tom"))["total"] == 1

        expect(await client.post(f"{path}/withdraw", headers=owner.headers), 200)
        await app.state.indexer.drain()
        assert (await search(client, q="ao nuoi tom"))["total"] == 0

    async def test_organisation_changes_reach_its_listings(self, app: FastAPI, client: AsyncClient, moderator) -> None:
        owner = await register(client, organization="Công ty Cũ")
        await create_listing(client, owner, status="published", moderator=moderator, title="Máy sấy lạnh trái cây")
        expect(
            await client.patch(
                f"/api/v1/organizations/{owner.organization_id}", json={"name": "Công ty Mới"}, headers=owner.headers
            ),
            200,
        )
        await app.state.indexer.drain()
        [hit] = (await search(client, q="may say lanh"))["items"]
        assert hit["document"]["organization_name"] == "Công ty Mới"
        orgs = await search(client, "organizations", q="cong ty moi")
        assert [h["id"] for h in orgs["items"]] == [owner.organization_id]


class TestSearchApi:
    async def test_filters_facets_and_sorting(self, app: FastAPI, client: AsyncClient, moderator) -> None:
        owner = await register(client, kind="university")
        for title, field, trl in (
            ("Robot hàn vỏ tàu thủy", "automation", 8),
            ("Robot phun sơn kết cấu thép", "automation", 6),
            ("Sơn chống hà cho tàu biển", "new_materials", 7),
        ):
            await create_listing(
                client, owner, status="published", moderator=moderator, title=title, field=field, trl=trl, concepts=[]
            )
        await app.state.indexer.drain()
        robots = await search(client, q="robot", facets="field,ip_status", sort="-trl")
        assert [h["document"]["trl"] for h in robots["items"]] == [8, 6]
        assert robots["facets"]["field"] == {"automation": 2}
        assert (await search(client, q="tau", field="new_materials"))["total"] == 1
        assert (await search(client, trl_min=7))["total"] == 2
        assert (await search(client, owner_kind="university", limit=1, page=3))["items"][0]["id"]

    async def test_unknown_facet_is_a_clear_422(self, client: AsyncClient) -> None:
        body = expect(await client.get("/api/v1/search/offers", params={"facets": "field,password"}), 422)
        assert body["errors"][0]["loc"] == ["query", "facets"]
        assert "password" in body["errors"][0]["msg"]

    async def test_anonymous_listing_hides_its_owner_in_search(
        self, app: FastAPI, client: AsyncClient, moderator
    ) -> None:
        owner = await register(client, organization="Tập đoàn Kín Tiếng")
        await create_listing(
            client,
            owner,
            status="published",
            moderator=moderator,
            visibility="anonymous",
            title="Công nghệ tái chế nhựa PET",
        )
        await app.state.indexer.drain()
        result = await search(client, q="tai che nhua")
        assert result["total"] == 1
        assert "Kín Tiếng" not in str(result)
        assert owner.organization_id not in str(result)
        assert (await search(client, q="kin tieng"))["total"] == 0


class TestDemoCatalogue:
    async def test_done_when_queries(self, app: FastAPI, client: AsyncClient) -> None:
        await load_demo_data(app.state.database)
        await app.state.indexer.drain()
        status = expect(await client.get("/api/v1/search/status"), 200)
        assert status["indexes"]["offers"]["documents"] == 209
        assert status["indexes"]["demands"]["documents"] == 84

        wastewater = await search(client, q="xu ly nuoc thai", limit=5)
        assert all("xử lý nước thải" in h["document"]["title"].lower() for h in wastewater["items"][:3])
        media = await search(client, q="mangan oxyt", limit=3)
        assert "mangan oxit" in media["items"][0]["document"]["title"]
        japanese = await search(client, q="浄水", limit=5)
        assert japanese["items"][0]["document"]["title"] == "浄水用セラミック膜ろ過装置"
        # and, through the concept it names (drinking water), Vietnamese offers on the same topic
        assert any(h["document"]["language"] == "vi" for h in japanese["items"])
        demands = await search(client, "demands", q="nuoc thai thuy san")
        assert demands["total"] >= 3


class TestOutage:
    async def test_search_outage_never_fails_a_write(
        self, settings: Settings, engine: AsyncEngine, db_connection, tmp_path: Path
    ) -> None:
        down = MeiliBackend("http://127.0.0.1:9", None)  # nothing listens there
        app = create_app(settings, database=Database(engine, bind=db_connection), search=down)
        async with (
            app.router.lifespan_context(app),
            AsyncClient(transport=ASGITransport(app=app), base_url=BASE_URL) as http,
        ):
            owner = await register(http)
            created = await http.post("/api/v1/offers", json={**_offer()}, headers=owner.headers)
            assert created.status_code == 201
            with pytest.raises(Exception, match=r"(?i)connect|unavailable"):
                await app.state.indexer.drain_once()
            status = expect(await http.get("/api/v1/search/status"), 200)
            assert status["healthy"] is False
            assert status["outbox"]["pending"] >= 2  # the organisation and the offer wait for search to return
            failed = await http.get("/api/v1/search/offers", params={"q": "asen"})
            assert expect(failed, 503)["code"] == "SearchUnavailable"
            ready = expect(await http.get("/readyz"), 200)
            assert ready["checks"]["search"]["status"] == "failing"


def _offer() -> dict:
    from tests.helpers import offer_payload

    return offer_payload()


class TestDemandTexts:
    async def test_problem_statement_and_requirements_are_searched_and_tagged(
        self, app: FastAPI, client: AsyncClient, moderator
    ) -> None:
        # a demand filled in as the form labels it: the need is in the problem and the requirements
        owner = await register(client, organization="Công ty Nước sạch Tiên Lãng")
        demand = await create_listing(
            client,
            owner,
            "demand",
            status="published",
            moderator=moderator,
            title="Nâng cấp trạm cấp nước xã",
            summary="Trạm 300 m³/ngày phục vụ 2.000 hộ.",
            concepts=[],
            problem_statement="Nước giếng khoan nhiễm asen vượt quy chuẩn.",
            requirements="Vận hành không cần hóa chất, vật liệu thay thế được tại chỗ.",
        )
        await app.state.indexer.drain()
        for words in ("gieng khoan", "không cần hóa chất"):
            hits = (await search(client, "demands", q=words))["items"]
            assert [h["id"] for h in hits] == [demand["id"]], words
        read = expect(await client.get(f"/api/v1/demands/{demand['id']}", headers=owner.headers), 200)
        assert "arsenic-removal" in read["inferred_concepts"]
