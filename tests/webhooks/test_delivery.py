"""Deliveries to a real receiver on 127.0.0.1, verified there with the `standardwebhooks` library."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import datetime, timedelta

import pytest
from httpx import AsyncClient
from prometheus_client import REGISTRY
from sqlalchemy.ext.asyncio import AsyncSession

from app.webhooks import delivery
from app.webhooks.delivery import RETRY_DELAYS, WebhookWorker
from app.webhooks.events import emit
from tests.helpers import Registered, create_listing, expect, register
from tests.webhooks.conftest import PUBLIC_BASE_URL, Clock, deliveries, register_endpoint
from tests.webhooks.receiver import Receiver


def _delivered_count() -> float:
    """Every outcome's counter starts at zero, so the sample exists before the first delivery."""
    value = REGISTRY.get_sample_value("techex_webhook_deliveries_total", {"outcome": "delivered"})
    assert value is not None, "techex_webhook_deliveries_total{outcome=delivered} is not exposed"
    return value


class TestSigning:
    async def test_a_published_listing_reaches_its_owner_signed(
        self, client: AsyncClient, moderator: Registered, worker: WebhookWorker, receiver: Receiver
    ) -> None:
        owner = await register(client, kind="institute")
        endpoint = await register_endpoint(client, owner, receiver)
        listing = await create_listing(client, owner, status="published", moderator=moderator)
        delivered_before = _delivered_count()

        await worker.drain()

        [received] = receiver.of_type("listing.published")
        assert _delivered_count() == delivered_before + 1  # counted in /metrics
        assert received.verified_with == [endpoint["secret"]]
        assert received.payload["data"] == {
            "id": listing["id"],
            "kind": "offer",
            "url": f"{PUBLIC_BASE_URL}/api/v1/offers/{listing['id']}",
        }
        [delivery] = await deliveries(client, owner, endpoint["id"])
        assert delivery["status"] == "delivered"
        assert delivery["message_id"] == received.message_id
        assert [a["status_code"] for a in delivery["attempt_log"]] == [200]
        assert delivery["attempt_log"][0]["response_excerpt"] == '{"ok": true}'

    async def test_a_forged_signature_is_refused_by_the_library(
        self, client: AsyncClient, moderator: Registered, worker: WebhookWorker, receiver: Receiver
    ) -> None:
        """The receiver's check is real: with another secret nothing verifies."""
        owner = await register(client, kind="institute")
        await register_endpoint(client, owner, receiver)
        receiver.secrets[:] = ["whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldY"]
        await create_listing(client, owner, status="published", moderator=moderator)
        await worker.drain()
        assert [r.payload["type"] for r in receiver.received] == ["listing.published"]
        assert [r.verified_with for r in receiver.received] == [[]]

    async def test_an_endpoint_gets_only_the_types_it_asked_for(
        self, client: AsyncClient, moderator: Registered, worker: WebhookWorker, receiver: Receiver
    ) -> None:
        owner = await register(client, kind="institute")
        await register_endpoint(client, owner, receiver, event_types=["interest.received"])
        listing = await create_listing(client, owner, status="published", moderator=moderator)
        buyer = await register(client)
        interest = expect(
            await client.post(
                "/api/v1/interests", json={"listing_id": listing["id"], "message": "Quan tâm"}, headers=buyer.headers
            ),
            201,
        )
        await worker.drain()
        assert [r.payload["type"] for r in receiver.received] == ["interest.received"]
        assert receiver.received[0].payload["data"]["id"] == interest["id"]
        assert receiver.received[0].payload["data"]["listing_id"] == listing["id"]


class TestTargetPinning:
    async def test_a_host_name_is_posted_to_the_address_it_was_checked_at(
        self, client: AsyncClient, worker: WebhookWorker, receiver: Receiver
    ) -> None:
        """The worker connects to the address it resolved and checked, naming the host in `Host`."""
        owner = await register(client)
        port = receiver.url.split(":")[2].split("/")[0]
        created = expect(
            await client.post(
                "/api/v1/webhook-endpoints", json={"url": f"http://localhost:{port}/hooks"}, headers=owner.headers
            ),
            201,
        )
        receiver.secrets.append(created["secret"])
        expect(await client.post(f"/api/v1/webhook-endpoints/{created['id']}/ping", headers=owner.headers), 202)
        await worker.drain()
        [received] = receiver.received
        assert received.headers["host"] == f"localhost:{port}"
        assert received.verified_with == [created["secret"]]


class TestRotation:
    async def test_both_secrets_sign_during_the_overlap_then_only_the_new_one(
        self, client: AsyncClient, worker: WebhookWorker, receiver: Receiver, clock: Clock
    ) -> None:
        owner = await register(client)
        endpoint = await register_endpoint(client, owner, receiver)
        path = f"/api/v1/webhook-endpoints/{endpoint['id']}"
        rotated = expect(await client.post(f"{path}/rotate-secret", headers=owner.headers), 200)
        assert rotated["secret"] != endpoint["secret"]
        receiver.secrets.append(rotated["secret"])

        expect(await client.post(f"{path}/ping", headers=owner.headers), 202)
        await worker.drain()
        assert receiver.received[-1].verified_with == [endpoint["secret"], rotated["secret"]]
        assert len(receiver.received[-1].headers["webhook-signature"].split(" ")) == 2

        clock.advance(hours=24, minutes=1)
        expect(await client.post(f"{path}/ping", headers=owner.headers), 202)
        await worker.drain()
        assert receiver.received[-1].verified_with == [rotated["secret"]]


class TestRetries:
    async def test_a_failing_receiver_is_retried_with_backoff_under_the_same_id(
        self, client: AsyncClient, worker: WebhookWorker, receiver: Receiver, clock: Clock
    ) -> None:
        receiver.answer = lambda n: 500 if n < 2 else 200
        owner = await register(client)
        endpoint = await register_endpoint(client, owner, receiver)
        expect(await client.post(f"/api/v1/webhook-endpoints/{endpoint['id']}/ping", headers=owner.headers), 202)

        await worker.drain()
        [delivery] = await deliveries(client, owner, endpoint["id"])
        assert (delivery["status"], delivery["attempts"]) == ("pending", 1)
        wait = datetime.fromisoformat(delivery["next_attempt_at"]) - clock.now
        assert timedelta(seconds=RETRY_DELAYS[0] * 0.79) <= wait <= timedelta(seconds=RETRY_DELAYS[0] * 1.21)

        await worker.drain()  # not due yet
        assert receiver.requests == 1
        clock.to(datetime.fromisoformat(delivery["next_attempt_at"]))
        await worker.drain()
        [delivery] = await deliveries(client, owner, endpoint["id"])
        wait = datetime.fromisoformat(delivery["next_attempt_at"]) - clock.now
        assert timedelta(seconds=RETRY_DELAYS[1] * 0.79) <= wait <= timedelta(seconds=RETRY_DELAYS[1] * 1.21)
        clock.to(datetime.fromisoformat(delivery["next_attempt_at"]))
        await worker.drain()

        [delivery] = await deliveries(client, owner, endpoint["id"])
        assert delivery["status"] == "delivered"
        assert [a["status_code"] for a in delivery["attempt_log"]] == [500, 500, 200]
        assert delivery["attempt_log"][0]["response_excerpt"] == "receiver says no"
        assert len({r.message_id for r in receiver.received}) == 1
        assert [r.verified_with for r in receiver.received] == [[endpoint["secret"]]] * 3  # each attempt signed

    async def test_a_redirect_is_not_followed(
        self, client: AsyncClient, worker: WebhookWorker, receiver: Receiver
    ) -> None:
        receiver.answer = lambda n: 302
        owner = await register(client)
        endpoint = await register_endpoint(client, owner, receiver)
        expect(await client.post(f"/api/v1/webhook-endpoints/{endpoint['id']}/ping", headers=owner.headers), 202)
        await worker.drain()
        [delivery] = await deliveries(client, owner, endpoint["id"])
        assert delivery["status"] == "pending"
        assert delivery["attempt_log"][0]["status_code"] == 302
        assert receiver.requests == 1

    async def test_failing_every_retry_for_about_three_days_disables_the_endpoint_and_tells_the_organisation(
        self, client: AsyncClient, worker: WebhookWorker, receiver: Receiver, clock: Clock
    ) -> None:
        receiver.answer = lambda n: 503
        owner = await register(client)
        endpoint = await register_endpoint(client, owner, receiver)
        expect(await client.post(f"/api/v1/webhook-endpoints/{endpoint['id']}/ping", headers=owner.headers), 202)
        while True:
            await worker.drain()
            [delivery] = await deliveries(client, owner, endpoint["id"])
            if delivery["status"] != "pending":
                break
            clock.to(datetime.fromisoformat(delivery["next_attempt_at"]))

        assert delivery["status"] == "failed"
        log = delivery["attempt_log"]
        assert len(log) == len(RETRY_DELAYS) + 1
        span = datetime.fromisoformat(log[-1]["attempted_at"]) - datetime.fromisoformat(log[0]["attempted_at"])
        assert timedelta(days=2.3) < span < timedelta(days=3.6)
        current = expect(await client.get(f"/api/v1/webhook-endpoints/{endpoint['id']}", headers=owner.headers), 200)
        assert (current["enabled"], current["disabled_reason"]) == (False, "failing")
        notes = expect(await client.get("/api/v1/notifications", headers=owner.headers), 200)["items"]
        assert [n["payload"] for n in notes if n["kind"] == "webhook_endpoint_disabled"] == [
            {"endpoint_id": endpoint["id"], "url": receiver.url, "reason": "failing"}
        ]

    async def test_410_disables_the_endpoint_at_once(
        self, client: AsyncClient, moderator: Registered, worker: WebhookWorker, receiver: Receiver
    ) -> None:
        receiver.answer = lambda n: 410
        owner = await register(client, kind="institute")
        endpoint = await register_endpoint(client, owner, receiver)
        await create_listing(client, owner, status="published", moderator=moderator)
        await worker.drain()
        current = expect(await client.get(f"/api/v1/webhook-endpoints/{endpoint['id']}", headers=owner.headers), 200)
        assert (current["enabled"], current["disabled_reason"]) == (False, "gone")
        [delivery] = await deliveries(client, owner, endpoint["id"])
        assert (delivery["status"], delivery["attempts"]) == ("failed", 1)
        notes = expect(await client.get("/api/v1/notifications", headers=owner.headers), 200)["items"]
        assert any(n["kind"] == "webhook_endpoint_disabled" and n["payload"]["reason"] == "gone" for n in notes)

        await create_listing(client, owner, status="published", moderator=moderator)
        await worker.drain()
        assert receiver.requests == 1  # nothing more goes to a disabled endpoint

    async def test_a_disabled_endpoint_keeps_its_pending_deliveries_and_resumes_when_enabled(
        self, client: AsyncClient, worker: WebhookWorker, receiver: Receiver
    ) -> None:
        owner = await register(client)
        endpoint = await register_endpoint(client, owner, receiver)
        path = f"/api/v1/webhook-endpoints/{endpoint['id']}"
        expect(await client.post(f"{path}/ping", headers=owner.headers), 202)
        await worker.dispatch()
        expect(await client.patch(path, json={"enabled": False}, headers=owner.headers), 200)
        await worker.drain()
        assert receiver.requests == 0
        expect(await client.post(f"{path}/ping", headers=owner.headers), 409)
        expect(await client.patch(path, json={"enabled": True}, headers=owner.headers), 200)
        await worker.drain()
        assert receiver.requests == 1


class TestReadiness:
    async def test_readiness_reports_the_webhook_backlog(
        self, client: AsyncClient, worker: WebhookWorker, receiver: Receiver
    ) -> None:
        receiver.answer = lambda n: 500 if n == 0 else 200
        owner = await register(client)
        endpoint = await register_endpoint(client, owner, receiver)
        started = time.monotonic()
        expect(await client.post(f"/api/v1/webhook-endpoints/{endpoint['id']}/ping", headers=owner.headers), 202)
        await worker.drain()  # the first attempt fails: a retry waits
        backlog = expect(await client.get("/readyz"), 200)["webhooks"]
        assert backlog["pending"] == 1
        # the ping's delivery, made during this test: its age is bounded by the test's own time, and grows
        assert backlog["oldest_pending_seconds"] <= time.monotonic() - started + 1
        await asyncio.sleep(0.3)
        later = expect(await client.get("/readyz"), 200)["webhooks"]
        assert later["pending"] == 1
        assert later["oldest_pending_seconds"] >= backlog["oldest_pending_seconds"] + 0.25


class TestRedelivery:
    async def test_a_delivery_is_sent_again_with_the_same_id_and_body(
        self, client: AsyncClient, worker: WebhookWorker, receiver: Receiver
    ) -> None:
        owner = await register(client)
        endpoint = await register_endpoint(client, owner, receiver)
        path = f"/api/v1/webhook-endpoints/{endpoint['id']}"
        expect(await client.post(f"{path}/ping", headers=owner.headers), 202)
        await worker.drain()
        [first] = await deliveries(client, owner, endpoint["id"])

        again = expect(await client.post(f"{path}/deliveries/{first['id']}/redeliver", headers=owner.headers), 202)
        assert (again["redelivery_of"], again["status"]) == (first["id"], "pending")
        await worker.drain()

        assert [r.message_id for r in receiver.received] == [first["message_id"]] * 2
        assert receiver.received[0].body == receiver.received[1].body
        assert [r.verified_with for r in receiver.received] == [[endpoint["secret"]]] * 2
        newest = (await deliveries(client, owner, endpoint["id"]))[0]
        assert (newest["id"], newest["status"]) == (again["id"], "delivered")

    async def test_another_organisations_delivery_is_not_found(
        self, client: AsyncClient, worker: WebhookWorker, receiver: Receiver
    ) -> None:
        owner = await register(client)
        endpoint = await register_endpoint(client, owner, receiver)
        other = await register(client)
        other_endpoint = await register_endpoint(client, other, receiver)
        expect(await client.post(f"/api/v1/webhook-endpoints/{endpoint['id']}/ping", headers=owner.headers), 202)
        await worker.drain()
        [delivery] = await deliveries(client, owner, endpoint["id"])
        path = f"/api/v1/webhook-endpoints/{other_endpoint['id']}/deliveries/{delivery['id']}/redeliver"
        assert expect(await client.post(path, headers=other.headers), 404)["code"] == "WebhookDeliveryNotFound"


class TestOrdering:
    async def test_deliveries_to_one_endpoint_arrive_in_order_even_across_retries(
        self, client: AsyncClient, session: AsyncSession, worker: WebhookWorker, receiver: Receiver, clock: Clock
    ) -> None:
        receiver.answer = lambda n: 500 if n in (3, 4) else 200
        owner = await register(client)
        endpoint = await register_endpoint(client, owner, receiver)
        organization_id = uuid.UUID(owner.organization_id)
        resources = [uuid.uuid4() for _ in range(12)]
        for resource in resources:
            emit(session, organization_id, "deal.created", resource)
        await session.commit()

        for _ in range(10):
            await worker.drain()
            pending = [d for d in await deliveries(client, owner, endpoint["id"]) if d["status"] == "pending"]
            if not pending:
                break
            clock.to(max(datetime.fromisoformat(d["next_attempt_at"]) for d in pending))  # the retried head

        ids = [uuid.UUID(r.payload["data"]["id"]) for r in receiver.received]
        assert ids == [*resources[:3], resources[3], resources[3], *resources[3:]]  # the 4th retried twice
        assert [r.verified_with for r in receiver.received] == [[endpoint["secret"]]] * len(ids)


class TestSlowReceivers:
    async def test_a_pass_stops_posting_to_a_slow_receiver_after_a_while(
        self,
        client: AsyncClient,
        session: AsyncSession,
        worker: WebhookWorker,
        receiver: Receiver,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """What was sent is recorded, and other endpoints get their turn, before the slow chain goes on."""
        monkeypatch.setattr(delivery, "CHAIN_SECONDS", 0.2)
        receiver.delay = 0.15
        owner = await register(client)
        endpoint = await register_endpoint(client, owner, receiver)
        for _ in range(6):
            emit(session, uuid.UUID(owner.organization_id), "deal.created", uuid.uuid4())
        await session.commit()
        await worker.dispatch()
        posted = await worker.deliver_due()  # past the bound after the second (the first, on a slow machine)
        assert 1 <= posted <= 2
        assert [d["status"] for d in await deliveries(client, owner, endpoint["id"])].count("delivered") == posted
        await worker.drain()
        assert receiver.requests == 6


class TestVisibility:
    async def test_a_match_alert_names_the_new_listing_never_its_anonymous_owner(
        self,
        client: AsyncClient,
        moderator: Registered,
        worker: WebhookWorker,
        receiver: Receiver,
    ) -> None:
        buyer = await register(client, organization="Công ty Nước Sạch Cát Hải")
        endpoint = await register_endpoint(client, buyer, receiver)
        subscription = expect(
            await client.post(
                "/api/v1/match-subscriptions", json={"kind": "offer", "query": "asen"}, headers=buyer.headers
            ),
            201,
        )
        owner = await register(client, kind="institute", organization="Viện Nghiên cứu Kín Tiếng")
        offer = await create_listing(client, owner, status="published", moderator=moderator, visibility="anonymous")
        await worker.drain()

        [alert] = receiver.received  # nothing else of the owner's reaches the buyer
        assert alert.verified_with == [endpoint["secret"]]
        assert alert.payload["type"] == "match.suggested"
        assert alert.payload["data"] == {
            "id": offer["id"],
            "kind": "offer",
            "subscription_id": subscription["id"],
            "url": f"{PUBLIC_BASE_URL}/api/v1/offers/{offer['id']}",
        }
        for secret in (owner.organization_id, "Kín Tiếng", owner.account["email"]):
            assert secret not in alert.body
        # and the URL it gives, fetched with the buyer's credentials, hides the owner too
        fetched = expect(await client.get(f"/api/v1/offers/{offer['id']}", headers=buyer.headers), 200)
        assert fetched["organization"] is None

    async def test_an_organisation_gets_only_its_own_events(
        self, client: AsyncClient, moderator: Registered, worker: WebhookWorker, receiver: Receiver
    ) -> None:
        watcher = await register(client)
        await register_endpoint(client, watcher, receiver)
        owner = await register(client, kind="institute")
        await create_listing(client, owner, status="published", moderator=moderator, title="Sơn mái polyester")
        await worker.drain()
        assert receiver.received == []
