"""A frontend dev server on this machine may call the API in development without any setting."""

from __future__ import annotations

import pytest
from httpx import ASGITransport, AsyncClient

from app.config import Environment, Settings
from app.main import create_app
from tests.conftest import BASE_URL

PRODUCTION_SECRET = "a-private-production-secret-0123456789"


async def _preflight(settings: Settings, origin: str) -> str | None:
    app = create_app(settings)
    async with AsyncClient(transport=ASGITransport(app=app), base_url=BASE_URL) as http:
        response = await http.options(
            "/api/v1/offers", headers={"Origin": origin, "Access-Control-Request-Method": "GET"}
        )
    return response.headers.get("access-control-allow-origin")


@pytest.mark.parametrize("origin", ["http://localhost:5173", "http://127.0.0.1:3000", "http://localhost:4200"])
async def test_local_dev_servers_are_allowed_in_development(origin: str) -> None:
    settings = Settings(_env_file=None, environment=Environment.DEVELOPMENT)  # type: ignore[call-arg]
    assert await _preflight(settings, origin) == origin


async def test_other_origins_and_other_environments_are_not() -> None:
    development = Settings(_env_file=None, environment=Environment.DEVELOPMENT)  # type: ignore[call-arg]
    assert await _preflight(development, "https://evil.example") is None
    production = Settings(  # type: ignore[call-arg]
        _env_file=None, environment=Environment.PRODUCTION, secret_key=PRODUCTION_SECRET
    )
    assert await _preflight(production, "http://localhost:5173") is None


async def test_cors_origins_replaces_the_development_list() -> None:
    settings = Settings(_env_file=None, cors_origins="https://app.example.vn")  # type: ignore[call-arg]
    assert await _preflight(settings, "https://app.example.vn") == "https://app.example.vn"
    assert await _preflight(settings, "http://localhost:5173") is None
