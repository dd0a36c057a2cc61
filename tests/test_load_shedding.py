"""Overload is answered 503 with Retry-After, never 500, and a client's deadline stops late commits."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.api.deps import SessionDep
from app.db import Database
from app.idempotency.service import StoredResponse, fingerprint, run_once
from app.main import create_app
from app.migrations import upgrade
from app.search.embedded import EmbeddedBackend
from tests.conftest import BASE_URL, make_settings
from tests.fixtures.database import drop_postgres_database, fresh_database_url
from tests.helpers import expect

PROBE_TABLE = "CREATE TABLE deadline_probe (id INTEGER PRIMARY KEY, note VARCHAR(40) NOT NULL)"


def assert_shed(response: object, code: str) -> None:
    assert getattr(response, "status_code", None) == 503, getattr(response, "text", response)
    headers = response.headers  # type: ignore[attr-defined]
    assert headers["content-type"] == "application/problem+json"
    assert int(headers["retry-after"]) >= 1
    assert response.json()["code"] == code  # type: ignore[attr-defined]


class TestConcurrencyLimit:
    async def test_requests_past_the_limit_get_503_and_probes_still_answer(
        self, database_url: str, app: FastAPI, search_backend: EmbeddedBackend
    ) -> None:
        limited = create_app(
            make_settings(database_url, max_concurrent_requests=2),
            database=app.state.database,
            search=search_backend,
        )
        entered, release = asyncio.Semaphore(0), asyncio.Event()

        async def slow() -> dict[str, str]:
            entered.release()
            await release.wait()
            return {"status": "done"}

        limited.add_api_route("/_probe/slow", slow, methods=["GET"])
        async with (
            limited.router.lifespan_context(limited),
            AsyncClient(transport=ASGITransport(app=limited), base_url=BASE_URL) as http,
        ):
            holders = [asyncio.create_task(http.get("/_probe/slow")) for _ in range(2)]
            for _ in holders:
                await asyncio.wait_for(entered.acquire(), timeout=10)
            assert_shed(await http.get("/api/v1/offers"), "ServerBusy")
            expect(await http.get("/healthz"), 200)
            expect(await http.get("/readyz"), 200)
            release.set()
            assert [r.status_code for r in await asyncio.gather(*holders)] == [200, 200]
            expect(await http.get("/api/v1/offers"), 200)

    async def test_a_saturated_event_loop_sheds_new_requests_at_once(
        self, database_url: str, app: FastAPI, search_backend: EmbeddedBackend
    ) -> None:
        """CPU-bound work ahead of a new request: it is refused instead of queueing behind it."""
        congested = create_app(
            make_settings(database_url, load_shed_queue_delay=0.05),
            database=app.state.database,
            search=search_backend,
        )
        busy = asyncio.Event()

        async def hog() -> dict[str, str]:
            busy.set()
            for _ in range(10):  # a second of CPU work in slices, as a worker past saturation sees it
                await asyncio.sleep(0)
                time.sleep(0.1)  # noqa: ASYNC251 - blocking the loop is the point
            return {"status": "done"}

        congested.add_api_route("/_probe/hog", hog, methods=["GET"])
        async with (
            congested.router.lifespan_context(congested),
            AsyncClient(transport=ASGITransport(app=congested), base_url=BASE_URL) as http,
        ):
            expect(await http.get("/api/v1/offers"), 200)  # an idle loop admits
            hogging = asyncio.create_task(http.get("/_probe/hog"))
            await asyncio.wait_for(busy.wait(), timeout=10)
            assert_shed(await http.get("/api/v1/offers"), "ServerBusy")
            expect(await hogging, 200)
            expect(await http.get("/api/v1/offers"), 200)


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
async def test_exhausted_pool_is_503_not_500(kind: str, tmp_path: Path) -> None:
    url = await fresh_database_url(kind, tmp_path)
    database = Database.from_url(url, pool_size=1, pool_timeout=0.2)
    search = EmbeddedBackend(tmp_path / "index")
    try:
        await asyncio.to_thread(upgrade, url)
        app = create_app(make_settings(url), database=database, search=search)
        async with (
            app.router.lifespan_context(app),
            AsyncClient(transport=ASGITransport(app=app, raise_app_exceptions=False), base_url=BASE_URL) as http,
        ):
            async with database.engine.connect():  # the only connection, held elsewhere
                assert_shed(await http.get("/api/v1/offers"), "DatabaseBusy")
                expect(await http.get("/healthz"), 200)
            expect(await http.get("/api/v1/offers"), 200)
    finally:
        await search.close()
        await database.dispose()
        if kind == "postgresql":
            await drop_postgres_database(url)


class TestRequestTimeout:
    @pytest.fixture
    async def probe(self, app: FastAPI, session: AsyncSession) -> FastAPI:
        """Routes whose unit of work takes `delay` seconds after writing, as a slow create would."""
        await session.execute(text(PROBE_TABLE))
        await session.commit()

        async def write(session: SessionDep, note: str, delay: float) -> dict[str, str]:
            await session.execute(
                text("INSERT INTO deadline_probe (id, note) VALUES (:id, :note)"),
                {
                    "id": uuid.uuid4().int % 2**31,
                    "note": note,
                },
            )
            await asyncio.sleep(delay)
            return {"note": note}

        async def write_once(session: SessionDep, note: str, delay: float, key: str) -> dict[str, object]:
            async def produce() -> StoredResponse:
                return StoredResponse(201, await write(session, note, delay))

            stored = await run_once(
                session,
                scope="probe",
                key=key,
                request_fingerprint=fingerprint("POST", "/_probe/once", {"note": note}),
                produce=produce,
            )
            return {"body": stored.body, "replayed": stored.replayed}

        async def count(session: SessionDep, note: str) -> dict[str, int]:
            found = await session.scalar(text("SELECT count(*) FROM deadline_probe WHERE note = :note"), {"note": note})
            return {"count": int(found or 0)}

        app.add_api_route("/_probe/write", write, methods=["POST"])
        app.add_api_route("/_probe/once", write_once, methods=["POST"])
        app.add_api_route("/_probe/count", count, methods=["GET"])
        return app

    async def count(self, client: AsyncClient, note: str) -> int:
        return int(expect(await client.get("/_probe/count", params={"note": note}), 200)["count"])

    async def test_nothing_is_committed_after_the_deadline(self, probe: FastAPI, client: AsyncClient) -> None:
        late = await client.post(
            "/_probe/write", params={"note": "late", "delay": 0.3}, headers={"Request-Timeout": "0.1"}
        )
        assert_shed(late, "DeadlineExceeded")
        assert await self.count(client, "late") == 0

    async def test_work_within_the_deadline_commits(self, probe: FastAPI, client: AsyncClient) -> None:
        expect(
            await client.post(
                "/_probe/write", params={"note": "timely", "delay": 0}, headers={"Request-Timeout": "30"}
            ),
            200,
        )
        assert await self.count(client, "timely") == 1

    async def test_a_retry_with_the_same_idempotency_key_creates_once(
        self, probe: FastAPI, client: AsyncClient
    ) -> None:
        params = {"note": "retried", "key": "create-7f3a"}
        first = await client.post("/_probe/once", params={**params, "delay": 0.3}, headers={"Request-Timeout": "0.1"})
        assert_shed(first, "DeadlineExceeded")
        assert await self.count(client, "retried") == 0  # neither the row nor the key's record was kept
        retry = expect(await client.post("/_probe/once", params={**params, "delay": 0}), 200)
        assert retry["replayed"] is False
        again = expect(await client.post("/_probe/once", params={**params, "delay": 0}), 200)
        assert again["replayed"] is True
        assert await self.count(client, "retried") == 1

    async def test_an_absolute_deadline_is_kept(self, probe: FastAPI, client: AsyncClient) -> None:
        soon = (datetime.now(UTC) + timedelta(seconds=0.1)).isoformat()
        late = await client.post(
            "/_probe/write", params={"note": "dated", "delay": 0.3}, headers={"Request-Deadline": soon}
        )
        assert_shed(late, "DeadlineExceeded")
        past = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
        unstarted = await client.post(
            "/_probe/write", params={"note": "dated", "delay": 0}, headers={"Request-Deadline": past}
        )
        assert_shed(unstarted, "DeadlineExceeded")
        assert await self.count(client, "dated") == 0
        later = (datetime.now(UTC) + timedelta(seconds=30)).isoformat()
        expect(
            await client.post(
                "/_probe/write", params={"note": "dated", "delay": 0}, headers={"Request-Deadline": later}
            ),
            200,
        )
        assert await self.count(client, "dated") == 1

    @pytest.mark.parametrize(
        ("header", "value"),
        [
            ("Request-Timeout", "soon"),
            ("Request-Timeout", "0"),
            ("Request-Timeout", "-1"),
            ("Request-Timeout", "86400"),
            ("Request-Deadline", "tomorrow"),
            ("Request-Deadline", "2026-11-30T12:00:00"),
        ],
    )
    async def test_a_malformed_deadline_is_422(self, client: AsyncClient, header: str, value: str) -> None:
        response = await client.get("/api/v1/offers", headers={header: value})
        body = expect(response, 422)
        assert body["errors"][0]["loc"] == ["header", header]
