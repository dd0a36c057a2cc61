"""The endpoints' API: registration, the secret shown once, changes, and the SSRF guard."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from app.config import Environment, Settings
from app.webhooks.delivery import WebhookWorker
from tests.conftest import make_settings
from tests.helpers import Registered, expect, join_by_invitation, register
from tests.webhooks.conftest import Clock, deliveries, register_endpoint
from tests.webhooks.receiver import Receiver

PATH = "/api/v1/webhook-endpoints"


class TestEndpoints:
    async def test_the_secret_is_shown_once(self, client: AsyncClient, receiver: Receiver) -> None:
        admin = await register(client)
        created = await register_endpoint(
            client, admin, receiver, event_types=["deal.created", "interest.received"], description="CRM"
        )
        assert created["secret"].startswith("whsec_")
        assert created["event_types"] == ["deal.created", "interest.received"]
        read = expect(await client.get(f"{PATH}/{created['id']}", headers=admin.headers), 200)
        assert "secret" not in read
        listed = expect(await client.get(PATH, headers=admin.headers), 200)
        assert [e["id"] for e in listed["items"]] == [created["id"]]
        assert created["secret"] not in str(listed)

    async def test_a_retried_registration_with_its_key_creates_one_endpoint(
        self, client: AsyncClient, receiver: Receiver
    ) -> None:
        admin = await register(client)
        headers = {**admin.headers, "Idempotency-Key": "crm-setup-1"}
        expect(await client.post(PATH, json={"url": receiver.url}, headers=headers), 201)
        again = await client.post(PATH, json={"url": receiver.url}, headers=headers)
        assert expect(again, 409)["code"] == "IdempotentSecretNotReplayed"  # the secret is shown once only
        assert expect(await client.get(PATH, headers=admin.headers), 200)["total"] == 1

    async def test_an_unknown_event_type_is_refused(self, client: AsyncClient, receiver: Receiver) -> None:
        admin = await register(client)
        body = {"url": receiver.url, "event_types": ["listing.deleted"]}
        problem = expect(await client.post(PATH, json=body, headers=admin.headers), 422)
        assert problem["errors"][0]["loc"] == ["body", "event_types", 0]

    async def test_members_and_keys_do_not_manage_endpoints(self, client: AsyncClient, receiver: Receiver) -> None:
        admin = await register(client)
        member = await join_by_invitation(client, admin)
        body = {"url": receiver.url}
        assert (
            expect(await client.post(PATH, json=body, headers=member.headers), 403)["code"]
            == "OrganizationAdminRequired"
        )
        key = expect(
            await client.post(
                f"/api/v1/organizations/{admin.organization_id}/api-keys", json={"name": "ERP"}, headers=admin.headers
            ),
            201,
        )
        problem = expect(await client.post(PATH, json=body, headers={"X-API-Key": key["key"]}), 403)
        assert problem["code"] == "AccountRequired"

    async def test_another_organisations_endpoint_is_not_found(self, client: AsyncClient, receiver: Receiver) -> None:
        admin = await register(client)
        created = await register_endpoint(client, admin, receiver)
        other = await register(client)
        for method, suffix in [("GET", ""), ("PATCH", ""), ("DELETE", ""), ("POST", "/ping"), ("GET", "/deliveries")]:
            response = await client.request(
                method, f"{PATH}/{created['id']}{suffix}", headers=other.headers, json={} if method == "PATCH" else None
            )
            assert expect(response, 404)["code"] == "WebhookEndpointNotFound"
        assert expect(await client.get(PATH, headers=other.headers), 200)["items"] == []

    async def test_deleting_stops_deliveries(
        self, client: AsyncClient, receiver: Receiver, worker: WebhookWorker
    ) -> None:
        admin = await register(client)
        created = await register_endpoint(client, admin, receiver)
        expect(await client.post(f"{PATH}/{created['id']}/ping", headers=admin.headers), 202)
        expect(await client.delete(f"{PATH}/{created['id']}", headers=admin.headers), 204)
        await worker.drain()
        assert receiver.requests == 0
        expect(await client.get(f"{PATH}/{created['id']}", headers=admin.headers), 404)

    async def test_a_ping_is_delivered_to_that_endpoint_only(
        self, client: AsyncClient, receiver: Receiver, worker: WebhookWorker
    ) -> None:
        admin = await register(client)
        first = await register_endpoint(client, admin, receiver)
        second = await register_endpoint(client, admin, receiver)
        sent = expect(await client.post(f"{PATH}/{first['id']}/ping", headers=admin.headers), 202)
        await worker.drain()
        [received] = receiver.received
        assert received.message_id == sent["message_id"]
        assert received.payload["type"] == "webhook.ping"
        assert received.verified_with == [first["secret"]]
        assert await deliveries(client, admin, second["id"]) == []


REFUSED_URLS = [
    "http://127.0.0.1:8080/hooks",
    "https://localhost/hooks",
    "https://10.1.2.3/hooks",
    "https://192.168.1.10/hooks",
    "https://172.16.0.5/hooks",
    "http://169.254.169.254/latest/meta-data/",
    "https://[::1]/hooks",
    "https://[::ffff:127.0.0.1]/hooks",
    "https://[fd00:ec2::254]/hooks",
    "https://100.64.0.1/hooks",
    "https://0.0.0.0/hooks",
    "ftp://93.184.215.14/hooks",
    "https://user:pass@93.184.215.14/hooks",
    "https://no-such-host.invalid/hooks",
]


class TestServerSideRequestForgery:
    @pytest.fixture
    def settings(self, database_url: str) -> Settings:
        return make_settings(database_url, webhook_allow_private_targets=False)

    @pytest.mark.parametrize("url", REFUSED_URLS)
    async def test_internal_addresses_are_refused_at_registration(self, client: AsyncClient, url: str) -> None:
        admin = await register(client)
        problem = expect(await client.post(PATH, json={"url": url}, headers=admin.headers), 422)
        assert problem["errors"][0]["loc"] == ["body", "url"]
        assert problem["errors"][0]["type"] == "webhook_target_refused"

    async def test_a_public_address_is_accepted_and_a_change_to_an_internal_one_refused(
        self, client: AsyncClient
    ) -> None:
        admin = await register(client)
        created = expect(
            await client.post(PATH, json={"url": "https://93.184.215.14/hooks"}, headers=admin.headers), 201
        )
        response = await client.patch(
            f"{PATH}/{created['id']}", json={"url": "https://127.0.0.1/hooks"}, headers=admin.headers
        )
        assert expect(response, 422)["errors"][0]["type"] == "webhook_target_refused"

    async def test_an_address_allowed_at_registration_is_checked_again_at_delivery(
        self, app: FastAPI, client: AsyncClient, settings: Settings, receiver: Receiver, clock: Clock
    ) -> None:
        """Registered while private targets were allowed; the worker, which forbids them, posts nothing."""
        admin = await register(client)
        permissive = app.state.settings.model_copy(update={"webhook_allow_private_targets": True})
        app.state.settings = permissive
        created = await register_endpoint(client, admin, receiver)
        expect(await client.post(f"{PATH}/{created['id']}/ping", headers=admin.headers), 202)
        worker = WebhookWorker(app.state.database, settings, clock=clock)
        try:
            await worker.drain()
        finally:
            await worker.close()
        assert receiver.requests == 0
        [delivery] = await deliveries(client, admin, created["id"])
        attempt: dict[str, Any] = delivery["attempt_log"][0]
        assert (delivery["status"], attempt["status_code"]) == ("pending", None)
        assert attempt["error"].startswith("refused: the host 127.0.0.1 resolves to a non-public address")


class TestProduction:
    @pytest.fixture
    def settings(self, database_url: str) -> Settings:
        settings = make_settings(
            database_url, secret_key="a-private-production-secret-key-0123456789", webhook_allow_private_targets=True
        )
        return settings.model_copy(update={"environment": Environment.PRODUCTION})

    async def test_plain_http_is_refused(self, client: AsyncClient, receiver: Receiver) -> None:
        admin: Registered = await register(client)
        problem = expect(await client.post(PATH, json={"url": receiver.url}, headers=admin.headers), 422)
        assert problem["errors"][0]["msg"] == "the URL must use https"
