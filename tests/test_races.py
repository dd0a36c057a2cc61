"""Concurrent requests on one resource: one wins, the other gets a coded 409/412, never a 500.

Each race runs its two requests at once (`asyncio.gather`) against an app with a real
engine, every request on its own connection (`concurrent_app`), and is repeated so that
an unguarded read-check-write fails reliably.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient, Response

from tests.fixtures.concurrent import concurrent_app, concurrent_client, make_staff_committed  # noqa: F401
from tests.helpers import Registered, create_listing, expect, register

ROUNDS = 12


@pytest.fixture
async def moderator(concurrent_app: FastAPI, concurrent_client: AsyncClient) -> Registered:  # noqa: F811
    return await make_staff_committed(concurrent_app, concurrent_client, "moderator")


async def race(*requests: Any) -> list[Response]:
    return list(await asyncio.gather(*requests))


def outcome(responses: list[Response]) -> list[int]:
    assert all(r.status_code != 500 for r in responses), [r.text for r in responses]
    return sorted(r.status_code for r in responses)


def loser(responses: list[Response]) -> dict[str, Any]:
    return next(r for r in responses if r.status_code != 200).json()


class TestListingRaces:
    async def test_two_patches_with_one_etag_give_one_success_and_one_412(
        self,
        concurrent_client: AsyncClient,  # noqa: F811
    ) -> None:
        client = concurrent_client
        owner = await register(client)
        for round_ in range(ROUNDS):
            created = await client.post("/api/v1/offers", json=_offer(round_), headers=owner.headers)
            offer = expect(created, 201)
            path = f"/api/v1/offers/{offer['id']}"
            headers = {**owner.headers, "If-Match": created.headers["etag"]}
            responses = await race(
                client.patch(path, json={"title": f"Vật liệu lọc asen, bản A {round_}"}, headers=headers),
                client.patch(path, json={"title": f"Vật liệu lọc asen, bản B {round_}"}, headers=headers),
            )
            assert outcome(responses) == [200, 412]
            assert loser(responses)["code"] == "PreconditionFailed"
            winner = next(r for r in responses if r.status_code == 200)
            stored = expect(await client.get(path, headers=owner.headers), 200)
            assert stored["version"] == offer["version"] + 1 == winner.json()["version"]
            assert stored["title"] == winner.json()["title"]

    async def test_publish_and_reject_at_once_give_one_success_and_one_409(
        self,
        concurrent_client: AsyncClient,  # noqa: F811
        moderator: Registered,
    ) -> None:
        client = concurrent_client
        owner = await register(client)
        for round_ in range(ROUNDS):
            offer = await create_listing(client, owner, status="submitted", title=f"Sơn chống nóng {round_}")
            base = f"/api/v1/offers/{offer['id']}"
            responses = await race(
                client.post(f"{base}/publish", headers=moderator.headers),
                client.post(f"{base}/reject", json={"reason": "Thiếu hồ sơ"}, headers=moderator.headers),
            )
            assert outcome(responses) == [200, 409]
            assert loser(responses)["code"] == "InvalidTransition"
            winner = next(r for r in responses if r.status_code == 200).json()
            stored = expect(await client.get(base, headers=owner.headers), 200)
            assert stored["status"] == winner["status"]
            assert stored["version"] == offer["version"] + 1


class TestInterestRaces:
    async def test_two_accepts_give_one_success_and_one_409(
        self,
        concurrent_client: AsyncClient,  # noqa: F811
        moderator: Registered,
    ) -> None:
        client = concurrent_client
        owner = await register(client)
        offer = await create_listing(client, owner, status="published", moderator=moderator)
        for _ in range(ROUNDS):
            buyer = await register(client)
            interest = await _interest(client, offer, buyer)
            path = f"/api/v1/interests/{interest['id']}/accept"
            responses = await race(client.post(path, headers=owner.headers), client.post(path, headers=owner.headers))
            assert outcome(responses) == [200, 409]
            assert loser(responses)["code"] == "InvalidTransition"

    async def test_accept_against_decline_leaves_the_status_the_winner_reported(
        self,
        concurrent_client: AsyncClient,  # noqa: F811
        moderator: Registered,
    ) -> None:
        client = concurrent_client
        owner = await register(client)
        offer = await create_listing(client, owner, status="published", moderator=moderator)
        for _ in range(ROUNDS):
            buyer = await register(client)
            interest = await _interest(client, offer, buyer)
            base = f"/api/v1/interests/{interest['id']}"
            responses = await race(
                client.post(f"{base}/accept", headers=owner.headers),
                client.post(f"{base}/decline", json={"reason": "not_available"}, headers=owner.headers),
            )
            assert outcome(responses) == [200, 409]
            winner = next(r for r in responses if r.status_code == 200).json()
            stored = expect(await client.get(base, headers=owner.headers), 200)
            assert stored["status"] == winner["status"]

    async def test_withdraw_against_accept_leaves_the_status_the_winner_reported(
        self,
        concurrent_client: AsyncClient,  # noqa: F811
        moderator: Registered,
    ) -> None:
        client = concurrent_client
        owner = await register(client)
        offer = await create_listing(client, owner, status="published", moderator=moderator)
        for _ in range(ROUNDS):
            buyer = await register(client)
            interest = await _interest(client, offer, buyer)
            base = f"/api/v1/interests/{interest['id']}"
            responses = await race(
                client.post(f"{base}/accept", headers=owner.headers),
                client.post(f"{base}/withdraw", headers=buyer.headers),
            )
            assert outcome(responses) == [200, 409]
            winner = next(r for r in responses if r.status_code == 200).json()
            stored = expect(await client.get(base, headers=owner.headers), 200)
            assert stored["status"] == winner["status"]


class TestDealRaces:
    async def test_two_patches_with_one_etag_give_one_success_and_one_412(
        self,
        concurrent_client: AsyncClient,  # noqa: F811
    ) -> None:
        client = concurrent_client
        supplier, buyer = await register(client), await register(client)
        for round_ in range(ROUNDS):
            created = await client.post("/api/v1/deals", json=_deal(supplier, buyer), headers=supplier.headers)
            deal = expect(created, 201)
            path = f"/api/v1/deals/{deal['id']}"
            headers = {**supplier.headers, "If-Match": created.headers["etag"]}
            responses = await race(
                client.patch(path, json={"notes": f"A {round_}"}, headers=headers),
                client.patch(path, json={"notes": f"B {round_}"}, headers=headers),
            )
            assert outcome(responses) == [200, 412]
            stored = expect(await client.get(path, headers=supplier.headers), 200)
            assert stored["version"] == deal["version"] + 1

    async def test_cancel_against_sign_leaves_the_stage_the_winner_reported(
        self,
        concurrent_client: AsyncClient,  # noqa: F811
    ) -> None:
        client = concurrent_client
        supplier, buyer = await register(client), await register(client)
        for _ in range(ROUNDS):
            deal = expect(
                await client.post("/api/v1/deals", json=_deal(supplier, buyer), headers=supplier.headers), 201
            )
            path = f"/api/v1/deals/{deal['id']}"
            responses = await race(
                client.post(f"{path}/stage", json={"stage": "completed"}, headers=supplier.headers),
                client.post(f"{path}/stage", json={"stage": "cancelled"}, headers=buyer.headers),
            )
            statuses = outcome(responses)
            stored = expect(await client.get(path, headers=supplier.headers), 200)
            if statuses == [200, 200]:
                pytest.fail(f"both stage changes succeeded; the deal is {stored['stage']}")
            assert statuses == [200, 409]
            winner = next(r for r in responses if r.status_code == 200).json()
            assert stored["stage"] == winner["stage"]


def _offer(round_: int) -> dict[str, Any]:
    from tests.helpers import offer_payload

    return offer_payload(title=f"Vật liệu lọc nano mangan oxit {round_}")


async def _interest(client: AsyncClient, listing: dict, party: Registered) -> dict:
    return expect(
        await client.post(
            "/api/v1/interests", json={"listing_id": listing["id"], "message": "Quan tâm"}, headers=party.headers
        ),
        201,
    )


def _deal(supplier: Registered, buyer: Registered) -> dict[str, Any]:
    return {
        "supplier_organization_id": supplier.organization_id,
        "buyer_organization_id": buyer.organization_id,
        "deal_type": "licence",
        "origin": "domestic_institute_university",
        "field": "environment",
        "value": "500000000",
        "stage": "signed",
        "signed_on": "2026-03-01",
    }
