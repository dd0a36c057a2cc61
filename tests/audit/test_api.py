"""The audit log records every change with its actor, and only staff read it."""

from __future__ import annotations

from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from tests.helpers import expect, make_staff, register


async def test_lifecycle_of_an_api_key_is_audited(client: AsyncClient, session: AsyncSession) -> None:
    owner = await register(client)
    key = expect(
        await client.post(
            f"/api/v1/organizations/{owner.organization_id}/api-keys",
            json={"name": "ERP"},
            headers=owner.headers,
        ),
        201,
    )
    expect(
        await client.delete(
            f"/api/v1/organizations/{owner.organization_id}/api-keys/{key['id']}", headers=owner.headers
        ),
        204,
    )
    moderator = await make_staff(client, session, "moderator")
    log = expect(
        await client.get(
            "/api/v1/audit",
            params={"record_type": "api_key", "record_id": key["id"]},
            headers=moderator.headers,
        ),
        200,
    )
    assert [e["action"] for e in log["items"]] == ["state", "create"]
    assert all(e["actor_account_id"] == owner.account_id for e in log["items"])
    assert all(e["request_id"] for e in log["items"])
    assert key["key"] not in str(log)


async def test_actions_through_an_api_key_name_the_key(client: AsyncClient, session: AsyncSession) -> None:
    owner = await register(client)
    key = expect(
        await client.post(
            f"/api/v1/organizations/{owner.organization_id}/api-keys",
            json={"name": "ERP"},
            headers=owner.headers,
        ),
        201,
    )
    expect(
        await client.patch(
            f"/api/v1/organizations/{owner.organization_id}",
            json={"province": "Cần Thơ"},
            headers={"X-API-Key": key["key"]},
        ),
        200,
    )
    moderator = await make_staff(client, session, "moderator")
    log = expect(
        await client.get(
            "/api/v1/audit",
            params={"record_id": owner.organization_id, "record_type": "organization"},
            headers=moderator.headers,
        ),
        200,
    )
    entry = next(e for e in log["items"] if e["action"] == "update")
    assert entry["via_api_key_id"] == key["id"]
    assert entry["actor_account_id"] is None
    assert entry["changes"] == {"province": ["Hải Phòng", "Cần Thơ"]}


async def test_password_changes_are_audited_without_the_hash(client: AsyncClient, session: AsyncSession) -> None:
    owner = await register(client)
    expect(
        await client.post(
            "/api/v1/auth/me/password",
            json={"current_password": owner.password, "new_password": "mot-mat-khau-moi-2027"},
            headers=owner.headers,
        ),
        204,
    )
    moderator = await make_staff(client, session, "moderator")
    log = expect(
        await client.get("/api/v1/audit", params={"record_id": owner.account_id}, headers=moderator.headers),
        200,
    )
    change = next(e for e in log["items"] if e["action"] == "update")
    assert change["changes"] == {"password_hash": ["[redacted]", "[redacted]"]}
    assert "$argon2" not in str(log)


async def test_members_cannot_read_the_audit_log(client: AsyncClient) -> None:
    owner = await register(client)
    assert (await client.get("/api/v1/audit", headers=owner.headers)).status_code == 403
    assert (await client.get("/api/v1/audit")).status_code == 401
