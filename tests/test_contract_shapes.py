"""The shapes every frontend relies on, through HTTP on both databases: money as exact decimal strings from
request to statistics, one list envelope with cursors and `Link` headers, filters that take several values."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from tests.helpers import Registered, create_listing, expect, make_staff, offer_payload, register

LARGE = "9007199254740993"  # 2^53 + 1: as a double (a JavaScript number) it reads 9007199254740992


@pytest.fixture
async def moderator(client: AsyncClient, session: AsyncSession) -> Registered:
    return await make_staff(client, session, "moderator")


def _links(header: str | None) -> dict[str, str]:
    """`Link: <url>; rel="next", <url>; rel="prev"` as {rel: url}."""
    return {rel: url for url, rel in re.findall(r'<([^>]+)>; rel="(\w+)"', header or "")}


def _deal(supplier: Registered, buyer: Registered, **overrides: Any) -> dict[str, Any]:
    return {
        "supplier_organization_id": supplier.organization_id,
        "buyer_organization_id": buyer.organization_id,
        "deal_type": "licence",
        "origin": "domestic_institute_university",
        "field": "environment",
        "stage": "signed",
        "signed_on": "2025-05-01",
        **overrides,
    }


class TestMoney:
    async def test_a_large_vnd_amount_and_a_fractional_usd_amount_survive_every_step(
        self, app: FastAPI, client: AsyncClient, moderator: Registered
    ) -> None:
        owner = await register(client, kind="institute")
        vnd = await create_listing(
            client, owner, status="published", moderator=moderator, price_min=LARGE, price_max=LARGE
        )
        usd = await create_listing(
            client, owner, status="published", moderator=moderator, currency="USD", price_min="1250.50",
            price_max="12345678901.25", title="Thiết bị lọc nước bằng màng gốm cho trạm cấp nước",
        )  # fmt: skip
        assert (vnd["price_min"], vnd["currency"]) == (LARGE, "VND")
        assert (usd["price_min"], usd["price_max"], usd["currency"]) == ("1250.50", "12345678901.25", "USD")
        read = expect(await client.get(f"/api/v1/offers/{vnd['id']}"), 200)
        assert read["price_min"] == read["price_max"] == LARGE
        browsed = expect(await client.get("/api/v1/offers", params={"organization_id": owner.organization_id}), 200)
        assert {o["price_min"] for o in browsed["items"]} == {LARGE, "1250.50"}

        await app.state.indexer.drain()
        hits = expect(await client.get("/api/v1/search/offers", params={"sort": "-price"}), 200)["items"]
        shown = {h["id"]: (h["document"]["price_min"], h["document"]["currency"]) for h in hits}
        assert shown[vnd["id"]] == (LARGE, "VND")
        assert shown[usd["id"]] == ("1250.50", "USD")

        supplier, buyer = owner, await register(client)
        big = expect(
            await client.post("/api/v1/deals", json=_deal(supplier, buyer, value=LARGE), headers=supplier.headers), 201
        )
        assert (big["value"], big["value_vnd"]) == (LARGE, LARGE)
        expect(await client.post(f"/api/v1/deals/{big['id']}/confirm", headers=buyer.headers), 200)
        expect(await client.post(f"/api/v1/deals/{big['id']}/confirm", headers=moderator.headers), 200)
        small = expect(
            await client.post(
                "/api/v1/deals",
                json=_deal(supplier, buyer, value="1250.50", currency="USD", vnd_rate="26000.5"),
                headers=supplier.headers,
            ),
            201,
        )
        assert (small["value"], small["vnd_rate"], small["value_vnd"]) == ("1250.50", "26000.5", "32513625.25")
        expect(await client.post(f"/api/v1/deals/{small['id']}/confirm", headers=buyer.headers), 200)

        total = "9007199287254618.25"  # LARGE + 1250.50 × 26000.5 (32,513,625.25), nothing rounded
        indicators = expect(await client.get("/api/v1/stats/indicators", params={"year": 2025}), 200)
        value = next(i for i in indicators["indicators"] if i["code"] == "transaction_value")
        assert value["value"] == value["numerator"] == total
        by_field = expect(await client.get("/api/v1/stats/deals-by-field", params={"year": 2025}), 200)
        assert by_field["total_value_vnd"] == by_field["rows"][0]["value_vnd"] == total
        exported = (await client.get("/api/v1/stats/deals-by-field", params={"year": 2025, "format": "csv"})).text
        rows = list(csv.DictReader(io.StringIO(exported.lstrip("\ufeff"))))
        assert [r["value_vnd"] for r in rows] == [total, total]
        exported = (await client.get("/api/v1/stats/indicators", params={"year": 2025, "format": "csv"})).text
        rows = list(csv.DictReader(io.StringIO(exported.lstrip("\ufeff"))))
        assert next(r for r in rows if r["code"] == "transaction_value")["value"] == total

    async def test_amounts_in_the_currency_minor_units(self, client: AsyncClient) -> None:
        owner = await register(client)
        vnd = expect(
            await client.post(
                "/api/v1/offers",
                json={**offer_payload(), "price_min": "350000000.00", "price_max": 750000000},
                headers=owner.headers,
            ),
            201,
        )
        assert (vnd["price_min"], vnd["price_max"]) == ("350000000", "750000000")
        usd = expect(
            await client.post(
                "/api/v1/offers",
                json={**offer_payload(), "currency": "USD", "price_min": 1250.5},
                headers=owner.headers,
            ),
            201,
        )
        assert usd["price_min"] == "1250.50", "a short JSON number is exact, written in cents"

    @pytest.mark.parametrize(
        ("amount", "error"),
        [
            (9007199254740993, "amount_not_exact"),  # a JSON number a browser has already rounded
            (1234567890123.4567, "amount_not_exact"),
            ("1e9", "amount_format"),
            ("-5", "amount_format"),
            ("1 000", "amount_format"),
            ("1250.505", "amount_format"),
            (True, "amount_type"),
        ],
    )
    async def test_amounts_that_could_be_misread_are_refused(
        self, client: AsyncClient, amount: object, error: str
    ) -> None:
        owner = await register(client)
        refused = await client.post(
            "/api/v1/offers", json={**offer_payload(), "price_min": amount}, headers=owner.headers
        )
        problem = expect(refused, 422)
        assert [(e["loc"], e["type"]) for e in problem["errors"]] == [(["body", "price_min"], error)]


class TestLists:
    async def test_a_growing_thread_is_read_by_cursor_without_gaps_or_repeats(
        self, client: AsyncClient, moderator: Registered
    ) -> None:
        owner = await register(client)
        offer = await create_listing(client, owner, status="published", moderator=moderator)
        buyer = await register(client)
        interest = expect(
            await client.post(
                "/api/v1/interests", json={"listing_id": offer["id"], "message": "Quan tâm"}, headers=buyer.headers
            ),
            201,
        )
        path = f"/api/v1/interests/{interest['id']}/messages"
        for n in range(5):
            expect(await client.post(path, json={"body": f"tin {n}"}, headers=buyer.headers), 201)

        first = await client.get(path, params={"limit": 2}, headers=owner.headers)
        page = expect(first, 200)
        assert [m["body"] for m in page["items"]] == ["tin 0", "tin 1"]
        assert (page["total"], page["page"], page["limit"]) == (5, 1, 2)
        assert page["next_cursor"]
        assert _links(first.headers.get("link"))["next"].endswith(f"limit=2&cursor={page['next_cursor']}")
        # a message written while the client reads shifts nothing
        expect(await client.post(path, json={"body": "tin 5"}, headers=owner.headers), 201)

        seen, response = [m["body"] for m in page["items"]], first
        while page["next_cursor"]:
            response = await client.get(_links(response.headers.get("link"))["next"], headers=owner.headers)
            page = expect(response, 200)
            assert page["page"] is None, "reached by a keyset cursor"
            seen += [m["body"] for m in page["items"]]
        assert seen == [f"tin {n}" for n in range(6)]
        assert "next" not in _links(response.headers.get("link"))

    async def test_page_lists_link_next_and_prev_and_refuse_foreign_cursors(self, client: AsyncClient) -> None:
        for n in range(3):
            await register(client, organization=f"Công ty Phân Trang {n}")
        first = await client.get("/api/v1/organizations", params={"q": "Phân Trang", "limit": 2})
        page = expect(first, 200)
        assert (page["total"], page["page"], len(page["items"])) == (3, 1, 2)
        second = await client.get(_links(first.headers["link"])["next"])
        last = expect(second, 200)
        assert (last["page"], len(last["items"]), last["next_cursor"]) == (2, 1, None)
        assert set(_links(second.headers["link"])) == {"prev"}
        assert "page=1" in _links(second.headers["link"])["prev"]
        assert {o["id"] for o in page["items"] + last["items"]} == {
            o["id"] for o in expect(await client.get("/api/v1/organizations", params={"q": "Phân Trang"}), 200)["items"]
        }

        for cursor in ("not-a-cursor", "eyJhIjpbIjIwMjYtMDEtMDFUMDA6MDA6MDArMDA6MDAiLCJ4Il19"):
            refused = expect(await client.get("/api/v1/organizations", params={"cursor": cursor}), 422)
            assert refused["errors"][0]["loc"] == ["query", "cursor"]
        both = expect(await client.get("/api/v1/organizations", params={"cursor": page["next_cursor"], "page": 2}), 422)
        assert both["errors"][0]["loc"] == ["query", "page"]

    async def test_lists_once_unpaginated_answer_the_envelope(self, client: AsyncClient) -> None:
        organizer = await register(client, kind="intermediary")
        sessions = [
            {
                "name": "Sáng",
                "starts_at": "2026-12-10T08:30:00+07:00",
                "ends_at": "2026-12-10T10:30:00+07:00",
                "meeting_minutes": 20,
                "tables": 5,
            }
        ]
        event = expect(
            await client.post(
                "/api/v1/events",
                json={
                    "name": "Kết nối",
                    "organizer_organization_id": organizer.organization_id,
                    "field": "environment",
                    "sessions": sessions,
                },
                headers=organizer.headers,
            ),
            201,
        )
        answer = await client.get(
            f"/api/v1/events/{event['id']}/slots", params={"limit": 4, "page": 2}, headers=organizer.headers
        )
        slots = expect(answer, 200)
        assert (slots["total"], slots["page"], [s["number"] for s in slots["items"]]) == (6, 2, [4, 5])
        assert set(_links(answer.headers["link"])) == {"prev"}
        for path in (f"/api/v1/events/{event['id']}/participants", f"/api/v1/events/{event['id']}/requests"):
            empty = expect(await client.get(path, headers=organizer.headers), 200)
            assert (empty["items"], empty["total"], empty["next_cursor"]) == ([], 0, None)
        subscriptions = expect(await client.get("/api/v1/match-subscriptions", headers=organizer.headers), 200)
        assert subscriptions["items"] == []
        too_many = await client.get("/api/v1/match-subscriptions", params={"limit": 101}, headers=organizer.headers)
        assert expect(too_many, 422)["errors"][0]["loc"] == ["query", "limit"]


class TestMultiValueFilters:
    async def test_two_values_of_a_filter_return_both_kinds(
        self, app: FastAPI, client: AsyncClient, moderator: Registered
    ) -> None:
        owner = await register(client)
        environment = await create_listing(client, owner, status="published", moderator=moderator)
        energy = await create_listing(
            client, owner, status="published", moderator=moderator, field="new_energy", title="Pin mặt trời màng mỏng"
        )
        await create_listing(
            client, owner, status="published", moderator=moderator, field="agriculture_food", title="Giống lúa chịu mặn"
        )
        both = {environment["id"], energy["id"]}
        browsed = expect(await client.get("/api/v1/offers?field=environment&field=new_energy"), 200)
        assert {o["id"] for o in browsed["items"]} == both
        assert browsed["total"] == 2
        await app.state.indexer.drain()
        found = expect(await client.get("/api/v1/search/offers?field=environment&field=new_energy"), 200)
        assert {h["id"] for h in found["items"]} == both
        statuses = expect(await client.get("/api/v1/offers?status=published&status=draft", headers=owner.headers), 200)
        assert len(statuses["items"]) == 3

    @pytest.mark.parametrize(
        "path",
        ["/api/v1/offers", "/api/v1/demands", "/api/v1/search/offers", "/api/v1/events", "/api/v1/organizations"],
    )
    async def test_an_invalid_value_among_several_is_named(self, client: AsyncClient, path: str) -> None:
        name = {"/api/v1/events": "field", "/api/v1/organizations": "sector"}.get(path, "field")
        problem = expect(await client.get(f"{path}?{name}=environment&{name}=alchemy"), 422)
        assert [e["loc"] for e in problem["errors"]] == [["query", name, 1]]
