"""A write that fails at COMMIT is reported as an error, persists nothing, and leaves the pool healthy."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest
from httpx import ASGITransport, AsyncClient
from sqlalchemy import text

from app.api.deps import SessionDep
from app.db import Database
from app.main import create_app
from app.migrations import upgrade
from tests.conftest import BASE_URL, make_settings
from tests.fixtures.database import drop_postgres_database, fresh_database_url

DEFERRED_TABLE = """
CREATE TABLE probe_child (
    id INTEGER PRIMARY KEY,
    organization_id UUID NOT NULL REFERENCES organization (id) DEFERRABLE INITIALLY DEFERRED
)
"""


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
async def test_commit_failure_is_not_reported_as_success(kind: str, tmp_path: Path) -> None:
    url = await fresh_database_url(kind, tmp_path)
    database = Database.from_url(url)
    try:
        await asyncio.to_thread(upgrade, url)
        async with database.engine.begin() as connection:
            await connection.execute(text(DEFERRED_TABLE))

        async def write_dangling_reference(session: SessionDep, child_id: int) -> dict[str, int]:
            # The deferred foreign key is only checked at COMMIT, after this returns.
            await session.execute(
                text("INSERT INTO probe_child (id, organization_id) VALUES (:id, :org)"),
                {"id": child_id, "org": uuid.uuid4().hex if kind == "sqlite" else str(uuid.uuid4())},
            )
            return {"id": child_id}

        async def count_children(session: SessionDep) -> dict[str, int]:
            return {"count": int(await session.scalar(text("SELECT count(*) FROM probe_child")) or 0)}

        app = create_app(make_settings(url), database=database)
        app.add_api_route("/_probe/children", write_dangling_reference, methods=["POST"], status_code=201)
        app.add_api_route("/_probe/children", count_children, methods=["GET"])
        async with (
            app.router.lifespan_context(app),
            AsyncClient(transport=ASGITransport(app=app), base_url=BASE_URL) as http,
        ):
            for child_id in (1, 2):  # twice: the first failure must not poison the pooled connection
                response = await http.post("/_probe/children", params={"child_id": child_id})
                assert response.status_code == 409, response.text
                assert response.headers["content-type"] == "application/problem+json"
            counted = await http.get("/_probe/children")
            assert counted.json() == {"count": 0}
    finally:
        await database.dispose()
        if kind == "postgresql":
            await drop_postgres_database(url)
