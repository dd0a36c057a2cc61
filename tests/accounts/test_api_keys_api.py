"""API keys: shown once, hashed at rest, organisation-scoped, revocable, last use recorded."""

from __future__ import annotations

from httpx import AsyncClient

from tests.helpers import expect, register


async def _create_key(client: AsyncClient, owner, name: str = "ERP") -> dict:
    return expect(
        await client.post(
            f"/api/v1/organizations/{owner.organization_id}/api-keys",
            json={"name": name},
            headers=owner.headers,
        ),
        201,
    )


class TestApiKeys:
    async def test_key_acts_for_its_organisation(self, client: AsyncClient) -> None:
        owner = await register(client)
        created = await _create_key(client, owner)
        assert created["key"].startswith(f"tx_{created['prefix']}_")
        response = await client.patch(
            f"/api/v1/organizations/{owner.organization_id}",
            json={"website": "https://erp.example.vn/"},
            headers={"X-API-Key": created["key"]},
        )
        assert expect(response, 200)["website"] == "https://erp.example.vn/"
        listed = expect(
            await client.get(f"/api/v1/organizations/{owner.organization_id}/api-keys", headers=owner.headers),
            200,
        )
        assert listed["items"][0]["last_used_at"] is not None
        assert "key" not in listed["items"][0]

    async def test_key_cannot_touch_another_organisation(self, client: AsyncClient) -> None:
        owner = await register(client)
        other = await register(client)
        created = await _create_key(client, owner)
        response = await client.patch(
            f"/api/v1/organizations/{other.organization_id}",
            json={"website": "https://evil.example/"},
            headers={"X-API-Key": created["key"]},
        )
        assert response.status_code == 403

    async def test_key_cannot_manage_keys(self, client: AsyncClient) -> None:
        owner = await register(client)
        created = await _create_key(client, owner)
        response = await client.post(
            f"/api/v1/organizations/{owner.organization_id}/api-keys",
            json={"name": "escalate"},
            headers={"X-API-Key": created["key"]},
        )
        assert expect(response, 403)["code"] == "AccountRequired"

    async def test_revoked_key_is_401(self, client: AsyncClient) -> None:
        owner = await register(client)
        created = await _create_key(client, owner)
        expect(
            await client.delete(
                f"/api/v1/organizations/{owner.organization_id}/api-keys/{created['id']}",
                headers=owner.headers,
            ),
            204,
        )
        response = await client.patch(
            f"/api/v1/organizations/{owner.organization_id}",
            json={"province": "Cần Thơ"},
            headers={"X-API-Key": created["key"]},
        )
        assert expect(response, 401)["code"] == "InvalidApiKey"

    async def test_guessed_secret_with_a_real_prefix_is_401(self, client: AsyncClient) -> None:
        owner = await register(client)
        created = await _create_key(client, owner)
        forged = f"tx_{created['prefix']}_{'A' * 43}"
        response = await client.get("/api/v1/auth/me", headers={"X-API-Key": forged})
        assert expect(response, 401)["code"] == "InvalidApiKey"

    async def test_malformed_key_is_401(self, client: AsyncClient) -> None:
        assert (await client.get("/api/v1/auth/me", headers={"X-API-Key": "not-a-key"})).status_code == 401
