"""Liveness and readiness probes."""

from __future__ import annotations

from httpx import ASGITransport, AsyncClient

from app.db import Database
from app.main import create_app
from tests.conftest import BASE_URL, make_settings


class TestLiveness:
    async def test_alive(self, client: AsyncClient) -> None:
        response = await client.get("/healthz")
        assert response.status_code == 200
        assert response.json()["status"] == "ok"


class TestReadiness:
    async def test_ready_when_database_answers(self, client: AsyncClient) -> None:
        response = await client.get("/readyz")
        assert response.status_code == 200
        body = response.json()
        assert body["status"] == "ready"
        assert body["checks"]["database"]["status"] == "ok"

    async def test_not_ready_when_database_is_down(self) -> None:
        # Nothing listens on port 9: the database check must fail, not hang.
        url = "postgresql+asyncpg://nobody@127.0.0.1:9/none"
        app = create_app(make_settings(url), database=Database.from_url(url))
        transport = ASGITransport(app=app)
        async with (
            app.router.lifespan_context(app),
            AsyncClient(transport=transport, base_url=BASE_URL) as http,
        ):
            response = await http.get("/readyz")
        assert response.status_code == 503
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["checks"]["database"]["status"] == "failing"
