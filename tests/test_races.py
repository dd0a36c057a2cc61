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

from tests.events.test_api import SESSIONS
from tests.fixtures.concurrent import concurrent_app, concurrent_client, make_staff_committed  # noqa: F401
from tests.helpers import Registered, create_listing, expect, offer_payload, register

ROUNDS = 6  # the old code lost most rounds (PATCH 19 of 20, accept 15 of 20): 6 catch it


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


class TestIdempotencyRaces:
    async def test_two_retries_of_one_creation_at_once_create_it_once(
        self,
        concurrent_client: AsyncClient,  # noqa: F811
        moderator: Registered,
    ) -> None:
        client = concurrent_client
        owner = await register(client)
        offer = await create_listing(client, owner, status="published", moderator=moderator)
        for round_ in range(ROUNDS):
            buyer = await register(client)
            headers = {**buyer.headers, "Idempotency-Key": f"interest-{round_}"}
            body = {"listing_id": offer["id"], "message": "Quan tâm"}
            responses = await race(
                client.post("/api/v1/interests", json=body, headers=headers),
                client.post("/api/v1/interests", json=body, headers=headers),
            )
            # the second waits for the first to commit, then replays its answer
            assert outcome(responses) == [201, 201]
            assert responses[0].json() == responses[1].json()
            assert sorted(r.headers.get("idempotent-replayed", "") for r in responses) == ["", "true"]
            created = responses
            retry = expect(await client.post("/api/v1/interests", json=body, headers=headers), 201)
            assert retry["id"] == created[0].json()["id"]
            sent = expect(await client.get("/api/v1/interests", params={"role": "sent"}, headers=buyer.headers), 200)
            assert sent["total"] == 1


class TestMatchFeedbackRaces:
    async def test_two_identical_puts_at_once_both_succeed(
        self,
        concurrent_client: AsyncClient,  # noqa: F811
        moderator: Registered,
    ) -> None:
        client = concurrent_client
        buyer, institute = await register(client), await register(client, kind="institute")
        demand = await create_listing(client, buyer, "demand", status="published", moderator=moderator)
        for round_ in range(ROUNDS):
            offer = await create_listing(
                client, institute, status="published", moderator=moderator, title=f"Màng lọc sinh học {round_}"
            )
            path = f"/api/v1/demands/{demand['id']}/matches/{offer['id']}"
            responses = await race(
                client.put(path, json={"action": "bookmark"}, headers=buyer.headers),
                client.put(path, json={"action": "bookmark"}, headers=buyer.headers),
            )
            assert outcome(responses) == [204, 204], [r.text for r in responses]


class TestOrganizationRaces:
    async def test_a_rename_during_verification_never_stays_verified(
        self,
        concurrent_client: AsyncClient,  # noqa: F811
        moderator: Registered,
    ) -> None:
        client = concurrent_client
        for round_ in range(ROUNDS):
            owner = await register(client, organization=f"Công ty Nước sạch {round_}")
            path = f"/api/v1/organizations/{owner.organization_id}"
            checked = (await client.get(path)).headers["etag"]  # what the moderator looked at
            verify_headers = {**moderator.headers, "If-Match": checked}
            responses = await race(
                client.put(f"{path}/verification", json={"verified": True}, headers=verify_headers),
                client.patch(path, json={"name": "Bộ Khoa học và Công nghệ"}, headers=owner.headers),
            )
            verification, rename = responses
            assert rename.status_code == 200, rename.text
            assert verification.status_code in (200, 412), verification.text
            stored = expect(await client.get(path), 200)
            assert stored["name"] == "Bộ Khoa học và Công nghệ"
            assert stored["verified"] is False, "a name the moderator never saw must not be verified"


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


class TestEventRaces:
    async def test_two_identical_status_moves_give_one_success_and_one_409(
        self,
        concurrent_client: AsyncClient,  # noqa: F811
    ) -> None:
        client = concurrent_client
        organizer = await register(client, kind="intermediary")
        for round_ in range(ROUNDS):
            event = expect(
                await client.post("/api/v1/events", json=_event(organizer, round_), headers=organizer.headers), 201
            )
            path = f"/api/v1/events/{event['id']}/status"
            move = {"status": "registration_open"}
            responses = await race(
                client.post(path, json=move, headers=organizer.headers),
                client.post(path, json=move, headers=organizer.headers),
            )
            assert outcome(responses) == [200, 409]
            assert loser(responses)["code"] == "EventState"

    async def test_accept_against_decline_of_a_meeting_request_leaves_the_status_the_winner_reported(
        self,
        concurrent_client: AsyncClient,  # noqa: F811
    ) -> None:
        client = concurrent_client
        organizer = await register(client, kind="intermediary")
        supplier, seeker = await register(client, kind="institute"), await register(client)
        event = expect(await client.post("/api/v1/events", json=_event(organizer, 0), headers=organizer.headers), 201)
        base = f"/api/v1/events/{event['id']}"
        expect(
            await client.post(f"{base}/status", json={"status": "registration_open"}, headers=organizer.headers), 200
        )
        ids = {}
        for person, role in ((supplier, "supplier"), (seeker, "seeker")):
            body = {"organization_id": person.organization_id, "representative": "Đại diện", "role": role}
            ids[role] = expect(await client.post(f"{base}/participants", json=body, headers=person.headers), 201)["id"]
        expect(await client.post(f"{base}/status", json={"status": "booking_open"}, headers=organizer.headers), 200)
        for _ in range(ROUNDS):
            asked = {"requester_id": ids["seeker"], "recipient_id": ids["supplier"]}
            request = expect(await client.post(f"{base}/requests", json=asked, headers=seeker.headers), 201)
            path = f"{base}/requests/{request['id']}"
            responses = await race(
                client.post(f"{path}/accept", headers=supplier.headers),
                client.post(f"{path}/decline", json={"reason": "no_time"}, headers=supplier.headers),
            )
            assert outcome(responses) == [200, 409]
            assert loser(responses)["code"] == "RequestState"
            winner = next(r for r in responses if r.status_code == 200).json()
            stored = expect(await client.get(path, headers=seeker.headers), 200)
            assert stored["status"] == winner["status"]
            if stored["status"] == "accepted":  # frees the pair for the next round
                expect(await client.post(f"{path}/cancel", headers=seeker.headers), 200)

    @pytest.mark.parametrize("move", ["accept", "new_request"])
    async def test_a_withdrawal_leaves_no_open_request_of_the_withdrawn_participant(
        self,
        concurrent_client: AsyncClient,  # noqa: F811
        move: str,
    ) -> None:
        client = concurrent_client
        organizer = await register(client, kind="intermediary")
        supplier, seeker = await register(client, kind="institute"), await register(client)
        for round_ in range(ROUNDS):
            base, ids = await _booking_event(client, organizer, supplier, seeker, round_)
            withdraw = client.patch(
                f"{base}/participants/{ids['seeker']}", json={"status": "withdrawn"}, headers=seeker.headers
            )
            if move == "accept":
                asked = {"requester_id": ids["seeker"], "recipient_id": ids["supplier"]}
                request = expect(await client.post(f"{base}/requests", json=asked, headers=seeker.headers), 201)
                other = client.post(f"{base}/requests/{request['id']}/accept", headers=supplier.headers)
            else:
                asked = {"requester_id": ids["supplier"], "recipient_id": ids["seeker"]}
                other = client.post(f"{base}/requests", json=asked, headers=supplier.headers)
            withdrawn, answered = await race(withdraw, other)
            assert withdrawn.status_code == 200, withdrawn.text
            assert answered.status_code in (200, 201, 409, 422), answered.text
            requests = expect(await client.get(f"{base}/requests", headers=organizer.headers), 200)["items"]
            still_open = [r for r in requests if r["status"] in ("pending", "accepted")]
            assert still_open == [], "a withdrawn participant keeps no pending or accepted meeting"


async def _booking_event(
    client: AsyncClient, organizer: Registered, supplier: Registered, seeker: Registered, round_: int
) -> tuple[str, dict[str, str]]:
    """An event open for booking with the supplier and the seeker registered."""
    event = expect(await client.post("/api/v1/events", json=_event(organizer, round_), headers=organizer.headers), 201)
    base = f"/api/v1/events/{event['id']}"
    expect(await client.post(f"{base}/status", json={"status": "registration_open"}, headers=organizer.headers), 200)
    ids = {}
    for person, role in ((supplier, "supplier"), (seeker, "seeker")):
        body = {"organization_id": person.organization_id, "representative": "Đại diện", "role": role}
        ids[role] = expect(await client.post(f"{base}/participants", json=body, headers=person.headers), 201)["id"]
    expect(await client.post(f"{base}/status", json={"status": "booking_open"}, headers=organizer.headers), 200)
    return base, ids


def _event(organizer: Registered, round_: int) -> dict[str, Any]:
    return {
        "name": f"Kết nối cung cầu {round_}",
        "organizer_organization_id": organizer.organization_id,
        "venue": "Hải Phòng",
        "sessions": SESSIONS,
    }


def _offer(round_: int) -> dict[str, Any]:
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
