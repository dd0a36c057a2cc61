"""Two exchanges, two real servers: one harvests the other's change feed through creates, updates,
withdrawals and deletions, and a harvester killed mid-page resumes without losing or duplicating."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from app.db import Database, unit_of_work
from app.models import HarvestState, Listing
from tests.fixtures.database import drop_postgres_database
from tests.fixtures.live import _copy_postgres_database, copy_sqlite_database
from tests.helpers import PASSWORD, demand_payload, offer_payload
from tests.integration.live_servers import (
    MODERATOR_EMAIL,
    MODERATOR_PASSWORD,
    Server,
    running_server,
    start_techex,
    techex,
)


@pytest.fixture
async def two_databases(live_template: str, tmp_path: Path) -> AsyncIterator[tuple[str, str]]:
    """Two fresh migrated databases: the source exchange's and the harvesting exchange's."""
    if make_url(live_template).get_backend_name() == "sqlite":
        yield (
            await asyncio.to_thread(copy_sqlite_database, live_template, tmp_path / "source.db"),
            await asyncio.to_thread(copy_sqlite_database, live_template, tmp_path / "harvester.db"),
        )
        return
    urls = (await _copy_postgres_database(live_template), await _copy_postgres_database(live_template))
    try:
        yield urls
    finally:
        for url in urls:
            await drop_postgres_database(url)


class Exchange:
    """A client of one running exchange, signed in as an enterprise and as its moderator."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.http = httpx.Client(base_url=server.url, timeout=30)
        self.owner = self._sign_up()
        self.moderator = self._token(MODERATOR_EMAIL, MODERATOR_PASSWORD)

    def _token(self, email: str, password: str) -> dict[str, str]:
        response = self.http.post("/api/v1/auth/token", data={"username": email, "password": password})
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    def _sign_up(self) -> dict[str, str]:
        body = {
            "email": "owner@vien-moi-truong.example.vn",
            "password": PASSWORD,
            "full_name": "Phạm Thu Hà",
            "organization": {
                "name": "Viện Môi trường Biển",
                "kind": "institute",
                "country": "VN",
                "province": "Hải Phòng",
            },
        }
        assert self.http.post("/api/v1/auth/register", json=body).status_code == 201
        return self._token(body["email"], PASSWORD)

    def publish(self, kind: str, **overrides: Any) -> dict[str, Any]:
        payload = offer_payload(**overrides) if kind == "offer" else demand_payload(**overrides)
        created = self.http.post(f"/api/v1/{kind}s", json=payload, headers=self.owner)
        assert created.status_code == 201, created.text
        listing_id = created.json()["id"]
        assert self.http.post(f"/api/v1/{kind}s/{listing_id}/submit", headers=self.owner).status_code == 200
        published = self.http.post(f"/api/v1/{kind}s/{listing_id}/publish", headers=self.moderator)
        assert published.status_code == 200, published.text
        return published.json()

    def public(self, kind: str) -> list[dict[str, Any]]:
        response = self.http.get(f"/api/v1/{kind}s", params={"limit": 100})
        assert response.status_code == 200, response.text
        return list(response.json()["items"])


def harvest(harvester: Server, source: Server, *extra: str) -> str:
    done = techex("harvest", source.url, "--source", "hai-phong", *extra, env=harvester.env)
    assert done.returncode == 0, done.stderr
    return done.stdout


async def harvested_rows(database_url: str) -> list[tuple[str, str, str | None]]:
    database = Database.from_url(database_url)
    try:
        async with unit_of_work(database.reader) as session:
            rows = await session.execute(
                select(Listing.external_id, Listing.status, Listing.title).where(Listing.source == "hai-phong")
            )
            return [(row[0], row[1], row[2]) for row in rows]
    finally:
        await database.dispose()


@pytest.mark.slow
async def test_one_exchange_harvests_another_through_creates_updates_and_withdrawals(
    two_databases: tuple[str, str], tmp_path: Path
) -> None:
    source_url, harvester_url = two_databases
    with (
        running_server(source_url, tmp_path / "index-source") as source_server,
        running_server(harvester_url, tmp_path / "index-harvester") as harvester_server,
    ):
        source, harvester = Exchange(source_server), Exchange(harvester_server)
        named = source.publish("offer", title="Vật liệu lọc nano mangan oxit xử lý asen cho nước sạch")
        anonymous = source.publish("offer", title="Chế phẩm vi sinh xử lý nước thải thủy sản", visibility="anonymous")
        need = source.publish("demand")
        draft = source.http.post(
            "/api/v1/offers", json=offer_payload(title="Bản nháp chưa công bố"), headers=source.owner
        )
        assert draft.status_code == 201

        harvest(harvester_server, source_server)

        offers = {o["origin_url"].rsplit("/", 1)[-1]: o for o in harvester.public("offer")}
        assert set(offers) == {named["id"], anonymous["id"]}, "published offers only, never the draft"
        copy = offers[named["id"]]
        assert copy["source"] == "hai-phong"
        assert copy["origin_url"] == f"{source_server.url}/api/v1/offers/{named['id']}"
        assert (copy["title"], copy["trl"]) == (named["title"], named["trl"])
        assert copy["price_max"] == named["price_max"]
        assert copy["organization"]["name"] == "Viện Môi trường Biển"
        assert copy["contact"] == {"person": None, "email": None, "phone": None}, "no personal data travels"
        hidden = offers[anonymous["id"]]
        assert (hidden["organization"], hidden["owner_hidden"]) == (None, True), "still anonymous when harvested"
        demands = harvester.public("demand")
        assert [d["origin_url"].rsplit("/", 1)[-1] for d in demands] == [need["id"]]

        # Harvested listings are searchable and matchable like local ones.
        local_need = harvester.http.post(
            "/api/v1/demands",
            json=demand_payload(title="Cần vật liệu lọc asen cho trạm cấp nước", concepts=["arsenic-removal"]),
            headers=harvester.owner,
        ).json()
        deadline = time.monotonic() + 30
        while True:
            matches = harvester.http.get(f"/api/v1/demands/{local_need['id']}/matches", headers=harvester.owner)
            found = (
                [m["candidate"]["id"] for m in matches.json().get("items", [])] if matches.status_code == 200 else []
            )
            if copy["id"] in found or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.5)
        assert copy["id"] in found, matches.text
        searched = harvester.http.get("/api/v1/search/offers", params={"facets": "source", "source": "hai-phong"})
        assert searched.status_code == 200, searched.text
        assert searched.json()["facets"]["source"] == {"hai-phong": 2}, "provenance is a search facet"
        assert {hit["document"]["source"] for hit in searched.json()["items"]} == {"hai-phong"}

        # Changes at the source: an update, a withdrawal, a deletion.
        current = source.http.get(f"/api/v1/offers/{named['id']}")
        updated = source.http.patch(
            f"/api/v1/offers/{named['id']}",
            json={"title": "Vật liệu lọc nano mangan oxit thế hệ mới", "trl": 8},
            headers={**source.owner, "If-Match": current.headers["etag"]},
        )
        assert updated.status_code == 200, updated.text
        assert source.http.post(f"/api/v1/demands/{need['id']}/withdraw", headers=source.owner).status_code == 200
        current = source.http.get(f"/api/v1/offers/{anonymous['id']}")
        deleted = source.http.delete(
            f"/api/v1/offers/{anonymous['id']}", headers={**source.owner, "If-Match": current.headers["etag"]}
        )
        assert deleted.status_code == 204, deleted.text

        harvest(harvester_server, source_server)

        offers_now = harvester.public("offer")
        assert [(o["id"], o["title"], o["trl"]) for o in offers_now] == [
            (copy["id"], "Vật liệu lọc nano mangan oxit thế hệ mới", 8)
        ], "updated in place, the deleted one gone"
        assert harvester.public("demand") == [], "the withdrawn demand is withdrawn here too"
        rows = await harvested_rows(harvester_url)
        assert sorted(rows) == sorted(
            [
                (named["id"], "published", "Vật liệu lọc nano mangan oxit thế hệ mới"),
                (anonymous["id"], "archived", anonymous["title"]),
                (need["id"], "archived", need["title"]),
            ]
        ), "one copy per record, tombstones archived"

        # A third run finds nothing new.
        assert "0 entries" in harvest(harvester_server, source_server)


@pytest.mark.slow
async def test_harvester_killed_mid_page_resumes_from_its_cursor(
    two_databases: tuple[str, str], tmp_path: Path
) -> None:
    source_url, harvester_url = two_databases
    with running_server(source_url, tmp_path / "index-source") as source_server:
        source = Exchange(source_server)
        published = [
            source.publish("offer", title=f"Công nghệ xử lý nước số {i:02d} cho nông thôn")["id"] for i in range(30)
        ]
        env = {**source_server.env, "DATABASE_URL": harvester_url, "INDEX_DIR": str(tmp_path / "index-harvester")}
        harvester = start_techex(
            "harvest", source_server.url, "--source", "hai-phong", "--page-size", "20", "--delay", "0.2", env=env
        )
        database = Database.from_url(harvester_url)
        try:
            deadline = time.monotonic() + 120
            while True:
                async with unit_of_work(database.reader) as session:
                    saved = int(await session.scalar(select(func.count()).where(Listing.source == "hai-phong")) or 0)
                if saved >= 3 or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.05)
            harvester.send_signal(signal.SIGKILL)  # no clean-up of any kind, mid-way through the first page
            harvester.wait(timeout=10)
            async with unit_of_work(database.reader) as session:
                saved = int(await session.scalar(select(func.count()).where(Listing.source == "hai-phong")) or 0)
                state = await session.get(HarvestState, "hai-phong")
            assert 3 <= saved < 20, f"the harvester must die mid-page for this test to mean anything ({saved})"
            assert state is not None
            assert state.cursor is not None, "the cursor is saved with every entry"
        finally:
            await database.dispose()

        done = techex("harvest", source_server.url, "--source", "hai-phong", "--page-size", "20", env=env)
        assert done.returncode == 0, done.stderr
        rows = await harvested_rows(harvester_url)
        assert sorted(external_id for external_id, _, _ in rows) == sorted(published), "nothing lost, nothing twice"
