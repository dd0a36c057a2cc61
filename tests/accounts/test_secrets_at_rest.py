"""Passwords and API keys are never stored or logged in clear."""

from __future__ import annotations

import pytest
from httpx import AsyncClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Base
from tests.helpers import PASSWORD, expect, register


async def _all_stored_text(session: AsyncSession) -> str:
    """Every value of every table, as text."""
    dumped = []
    for table in Base.metadata.sorted_tables:
        rows = (await session.execute(text(f'SELECT * FROM "{table.name}"'))).all()  # noqa: S608
        dumped.extend(str(value) for row in rows for value in row)
    return "\n".join(dumped)


async def test_secrets_never_stored_or_logged(
    client: AsyncClient,
    session: AsyncSession,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    owner = await register(client, "secret-keeper@example.vn")
    await client.post("/api/v1/auth/token", data={"username": "secret-keeper@example.vn", "password": PASSWORD})
    await client.post(
        "/api/v1/auth/token", data={"username": "secret-keeper@example.vn", "password": "typo-" + PASSWORD}
    )
    key = expect(
        await client.post(
            f"/api/v1/organizations/{owner.organization_id}/api-keys",
            json={"name": "ERP"},
            headers=owner.headers,
        ),
        201,
    )["key"]
    await client.get("/api/v1/auth/me", headers={"X-API-Key": key})
    invitation_token = expect(
        await client.post(
            f"/api/v1/organizations/{owner.organization_id}/invitations",
            json={"email": "new@example.vn"},
            headers=owner.headers,
        ),
        201,
    )["token"]

    stored = await _all_stored_text(session)
    logged = capsys.readouterr().out + caplog.text
    secrets = {
        "password": PASSWORD,
        "mistyped password": "typo-" + PASSWORD,
        "API key": key,
        "API key secret part": key.split("_", 2)[2],
        "refresh token": owner.tokens["refresh_token"],
        "invitation token": invitation_token,
    }
    for name, secret in secrets.items():
        assert secret not in stored, f"{name} stored in clear"
        assert secret not in logged, f"{name} logged in clear"
    assert "$argon2id$" in stored, "passwords are stored as Argon2id hashes"
