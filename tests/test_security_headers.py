"""Security headers on every response, no caching of secrets, no server banner."""

from __future__ import annotations

from typing import Any

import pytest
from httpx import ASGITransport, AsyncClient
from typer.testing import CliRunner

from app.config import Environment
from app.main import create_app
from tests.conftest import BASE_URL, make_settings
from tests.helpers import PASSWORD, expect, register

PRODUCTION_SECRET = "a-production-secret-of-at-least-32-characters"


def _assert_protective(response) -> None:
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["referrer-policy"] == "no-referrer"


class TestSecurityHeaders:
    async def test_success_error_and_missing_routes_carry_them(self, client: AsyncClient) -> None:
        for response in (
            await client.get("/healthz"),
            await client.get("/api/v1/organizations"),
            await client.get("/api/v1/auth/me"),  # 401
            await client.get("/api/v1/nothing-here"),  # 404
        ):
            _assert_protective(response)
            assert response.headers["content-security-policy"].startswith("default-src 'none'")
            assert "strict-transport-security" not in response.headers, "HSTS only in production"

    async def test_docs_pages_may_load_their_bundles(self, client: AsyncClient) -> None:
        for path in ("/docs", "/redoc"):
            response = await client.get(path)
            assert response.status_code == 200
            _assert_protective(response)
            policy = response.headers["content-security-policy"]
            assert "script-src 'self' 'unsafe-inline';" in policy
            assert "https:" not in policy, "the docs load nothing from elsewhere"

    async def test_hsts_in_production(self) -> None:
        settings = make_settings(secret_key=PRODUCTION_SECRET).model_copy(
            update={"environment": Environment.PRODUCTION}
        )
        app = create_app(settings)
        async with AsyncClient(transport=ASGITransport(app=app), base_url=BASE_URL) as http:
            response = await http.get("/healthz")
        assert response.headers["strict-transport-security"] == "max-age=63072000; includeSubDomains"
        _assert_protective(response)


class TestNoStore:
    async def test_responses_with_tokens_or_keys_are_not_cached(self, client: AsyncClient) -> None:
        registration = await client.post(
            "/api/v1/auth/register",
            json={
                "email": "no-store@example.vn",
                "password": PASSWORD,
                "full_name": "Lê Thị Cúc",
                "organization": {"name": "Công ty Không Lưu", "kind": "enterprise", "country": "VN"},
            },
        )
        owner_tokens = expect(registration, 201)["tokens"]
        token = await client.post("/api/v1/auth/token", data={"username": "no-store@example.vn", "password": PASSWORD})
        refresh = await client.post("/api/v1/auth/refresh", json={"refresh_token": token.json()["refresh_token"]})
        headers = {"Authorization": f"Bearer {owner_tokens['access_token']}"}
        organization_id = registration.json()["organization"]["id"]
        key = await client.post(
            f"/api/v1/organizations/{organization_id}/api-keys", json={"name": "ERP"}, headers=headers
        )
        invitation = await client.post(
            f"/api/v1/organizations/{organization_id}/invitations",
            json={"email": "moi@example.vn"},
            headers=headers,
        )
        for response in (registration, token, refresh, key, invitation):
            assert response.status_code in (200, 201), response.text
            assert response.headers["cache-control"] == "no-store", response.url
            assert response.headers["pragma"] == "no-cache"

    async def test_ordinary_reads_are_not_marked(self, client: AsyncClient) -> None:
        person = await register(client)
        response = await client.get("/api/v1/auth/me", headers=person.headers)
        assert "no-store" not in response.headers.get("cache-control", "")


class TestServerBanner:
    def test_serve_turns_off_the_server_header(self, monkeypatch: pytest.MonkeyPatch) -> None:
        import uvicorn

        from app.cli import cli

        calls: list[dict[str, Any]] = []
        monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: calls.append(kwargs))
        result = CliRunner().invoke(cli, ["serve", "--port", "8141"])
        assert result.exit_code == 0, result.output
        assert calls[0]["server_header"] is False
