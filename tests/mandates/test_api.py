"""Mandates: brokers act for a client only while the client's mandate stands."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from httpx import AsyncClient
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Mandate
from tests.helpers import expect, grant_mandate, make_staff, register


class TestMandates:
    async def test_broker_acts_under_mandate_and_the_audit_says_so(
        self, client: AsyncClient, session: AsyncSession
    ) -> None:
        client_org = await register(client, organization="Hợp tác xã Nấm Linh Chi")
        broker = await register(client, kind="intermediary")
        path = f"/api/v1/organizations/{client_org.organization_id}"

        assert (await client.patch(path, json={"province": "Hà Nội"}, headers=broker.headers)).status_code == 403
        mandate = await grant_mandate(client, client_org, broker)
        assert mandate["active"] is True
        expect(await client.patch(path, json={"province": "Hà Nội"}, headers=broker.headers), 200)

        moderator = await make_staff(client, session, "moderator")
        log = expect(
            await client.get(
                "/api/v1/audit", params={"record_id": client_org.organization_id}, headers=moderator.headers
            ),
            200,
        )
        by_broker = next(e for e in log["items"] if e["actor_account_id"] == broker.account_id)
        assert by_broker["via_mandate_id"] == mandate["id"]
        assert by_broker["actor_organization_id"] == broker.organization_id

        revoked = expect(await client.post(f"/api/v1/mandates/{mandate['id']}/revoke", headers=client_org.headers), 200)
        assert revoked["active"] is False
        assert (await client.patch(path, json={"province": "Hải Phòng"}, headers=broker.headers)).status_code == 403

    async def test_expired_mandate_no_longer_counts(self, client: AsyncClient, session: AsyncSession) -> None:
        client_org = await register(client)
        broker = await register(client, kind="intermediary")
        mandate = await grant_mandate(client, client_org, broker)
        await session.execute(
            update(Mandate)
            .values(valid_until=datetime.now(UTC) - timedelta(minutes=1))
            .where(Mandate.id == uuid.UUID(mandate["id"]))
        )
        await session.commit()
        response = await client.patch(
            f"/api/v1/organizations/{client_org.organization_id}",
            json={"province": "Huế"},
            headers=broker.headers,
        )
        assert response.status_code == 403

    async def test_mandate_only_to_intermediaries(self, client: AsyncClient) -> None:
        client_org = await register(client)
        not_a_broker = await register(client, kind="university")
        response = await client.post(
            "/api/v1/mandates",
            json={"broker_organization_id": not_a_broker.organization_id},
            headers=client_org.headers,
        )
        assert expect(response, 422)["errors"][0]["loc"] == ["body", "broker_organization_id"]

    async def test_past_end_date_refused(self, client: AsyncClient) -> None:
        client_org = await register(client)
        broker = await register(client, kind="intermediary")
        response = await client.post(
            "/api/v1/mandates",
            json={"broker_organization_id": broker.organization_id, "valid_until": "2020-01-01T00:00:00Z"},
            headers=client_org.headers,
        )
        assert expect(response, 422)["errors"][0]["loc"] == ["body", "valid_until"]

    async def test_parties_see_the_mandate_strangers_do_not(self, client: AsyncClient) -> None:
        client_org = await register(client)
        broker = await register(client, kind="intermediary")
        stranger = await register(client)
        mandate = await grant_mandate(client, client_org, broker)
        for party in (client_org, broker):
            listed = expect(await client.get("/api/v1/mandates", headers=party.headers), 200)
            assert [m["id"] for m in listed["items"]] == [mandate["id"]]
            expect(await client.get(f"/api/v1/mandates/{mandate['id']}", headers=party.headers), 200)
        assert expect(await client.get("/api/v1/mandates", headers=stranger.headers), 200)["total"] == 0
        response = await client.get(f"/api/v1/mandates/{mandate['id']}", headers=stranger.headers)
        assert expect(response, 404)["code"] == "MandateNotFound"

    async def test_broker_cannot_grant_itself_a_mandate(self, client: AsyncClient) -> None:
        client_org = await register(client)
        broker = await register(client, kind="intermediary")
        response = await client.post(
            "/api/v1/mandates",
            json={
                "broker_organization_id": broker.organization_id,
                "client_organization_id": client_org.organization_id,
            },
            headers=broker.headers,
        )
        assert response.status_code == 403
