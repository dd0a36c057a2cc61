"""The change feed through the API: order, resumption, tombstones, time window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from app.integration.feed import feed_cursor, feed_position
from tests.helpers import Registered, create_listing, expect, make_staff, register


async def read_all(client: AsyncClient, cursor: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    while True:
        params: dict[str, Any] = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        page = expect(await client.get("/api/v1/feed/changes", params=params), 200)
        entries += page["items"]
        if page["next_cursor"] is None:
            return entries
        cursor = page["next_cursor"]


@pytest.fixture
async def people(client: AsyncClient, session: AsyncSession) -> tuple[Registered, Registered]:
    return await register(client, organization="Viện Cơ khí"), await make_staff(client, session, "moderator")


def test_cursors_round_trip() -> None:
    assert feed_position(feed_cursor(42)) == 42
    assert feed_position(None) == 0


class TestChanges:
    async def test_each_record_once_at_its_latest_change_and_resumable(
        self, client: AsyncClient, people: tuple[Registered, Registered]
    ) -> None:
        owner, moderator = people
        first, second, third = [
            await create_listing(client, owner, status="published", moderator=moderator, title=f"Công nghệ số {i}")
            for i in range(3)
        ]
        await create_listing(client, owner, title="Bản nháp không bao giờ công bố")
        entries = await read_all(client, limit=2)
        listings = [e["id"] for e in entries if e["type"] == "offer"]
        assert listings == [first["id"], second["id"], third["id"]], "no draft, change order"
        assert len({e["id"] for e in entries}) == len(entries), "each record once"
        mark = entries[-1]["cursor"]

        current = await client.get(f"/api/v1/offers/{first['id']}")
        changed = await client.patch(
            f"/api/v1/offers/{first['id']}",
            json={"trl": 9},
            headers={**owner.headers, "If-Match": current.headers["etag"]},
        )
        assert changed.status_code == 200
        later = await read_all(client, cursor=mark)
        assert [(e["id"], e["record"]["trl"]) for e in later] == [(first["id"], 9)], "moved to its new position"

    async def test_withdrawn_listings_become_tombstones(
        self, client: AsyncClient, people: tuple[Registered, Registered]
    ) -> None:
        owner, moderator = people
        offer = await create_listing(client, owner, status="published", moderator=moderator)
        mark = (await read_all(client))[-1]["cursor"]
        expect(await client.post(f"/api/v1/offers/{offer['id']}/withdraw", headers=owner.headers), 200)
        [tombstone] = await read_all(client, cursor=mark)
        assert (tombstone["id"], tombstone["deleted"], tombstone["record"]) == (offer["id"], True, None)
        assert tombstone["url"].endswith(f"/api/v1/offers/{offer['id']}")

    async def test_a_time_window(self, client: AsyncClient, people: tuple[Registered, Registered]) -> None:
        owner, moderator = people
        await create_listing(client, owner, status="published", moderator=moderator)
        future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
        page = expect(await client.get("/api/v1/feed/changes", params={"from": future}), 200)
        assert (page["items"], page["total"]) == ([], 0)
        past = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
        page = expect(await client.get("/api/v1/feed/changes", params={"until": past}), 200)
        assert page["items"] == []
        page = expect(await client.get("/api/v1/feed/changes", params={"from": past, "until": future}), 200)
        assert {e["type"] for e in page["items"]} == {"offer", "organization"}

    async def test_a_cursor_from_elsewhere_is_refused(self, client: AsyncClient) -> None:
        problem = expect(await client.get("/api/v1/feed/changes", params={"cursor": "bm90LWEtY3Vyc29y"}), 422)
        assert problem["errors"][0]["loc"] == ["query", "cursor"]
