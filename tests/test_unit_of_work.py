"""The unit of work: a write that fails at COMMIT is reported as an error, persists nothing, and leaves the pool
healthy; actions registered with `on_commit` / `on_rollback` run after the outcome they were registered for."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from httpx import ASGITransport, AsyncClient
from sqlalchemy import ForeignKey, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from app.accounts.exceptions import InvalidTokenError, RefreshTokenReusedError
from app.api.deps import SessionDep
from app.db import Database, on_commit, on_rollback, unit_of_work
from app.logging import configure_logging
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


class _Base(DeclarativeBase):
    pass


class Note(_Base):
    __tablename__ = "note"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(unique=True)
    # checked only at COMMIT, after every flush
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("note.id", deferrable=True, initially="DEFERRED"))


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    """A SQLite file database of its own, with the engine settings and session factories the app uses."""
    database = Database.from_url(await fresh_database_url("sqlite", tmp_path))
    async with database.engine.begin() as connection:
        await connection.run_sync(_Base.metadata.create_all)
    yield database
    await database.dispose()


async def _committed_notes(database: Database) -> list[str]:
    """The notes another session sees."""
    async with database.reader() as session:
        return list(await session.scalars(select(Note.name).order_by(Note.name)))


def _register(session: AsyncSession, ran: list[str]) -> None:
    """An action for each outcome, recording that it ran."""

    async def committed() -> None:
        ran.append("on_commit")

    async def rolled_back() -> None:
        ran.append("on_rollback")

    on_commit(session, committed)
    on_rollback(session, rolled_back)


async def _unit_of_work(database: Database, work: Callable[[AsyncSession], Awaitable[None]]) -> None:
    async with unit_of_work(database.writer) as session:
        await work(session)


async def test_a_commit_runs_the_on_commit_actions_once_the_change_is_visible(database: Database) -> None:
    ran: list[str] = []
    seen: list[list[str]] = []

    async def look() -> None:
        seen.append(await _committed_notes(database))

    async with unit_of_work(database.writer) as session:
        session.add(Note(name="kept"))
        _register(session, ran)
        on_commit(session, look)
    assert ran == ["on_commit"]
    assert seen == [["kept"]], "the action ran after the commit"


@pytest.mark.parametrize(
    "error",
    [RuntimeError("the request failed"), InvalidTokenError("a refusal")],
    ids=["exception", "domain-error"],
)
async def test_an_error_rolls_back_runs_the_on_rollback_actions_and_is_raised(
    database: Database, error: Exception
) -> None:
    ran: list[str] = []

    async def work(session: AsyncSession) -> None:
        session.add(Note(name="dropped"))
        await session.flush()
        _register(session, ran)
        raise error

    with pytest.raises(type(error)) as raised:
        await _unit_of_work(database, work)
    assert raised.value is error
    assert ran == ["on_rollback"]
    assert await _committed_notes(database) == []


async def test_a_domain_error_that_keeps_changes_commits_and_runs_the_on_commit_actions(database: Database) -> None:
    ran: list[str] = []

    async def work(session: AsyncSession) -> None:
        session.add(Note(name="the trace"))
        _register(session, ran)
        raise RefreshTokenReusedError()

    with pytest.raises(RefreshTokenReusedError):
        await _unit_of_work(database, work)
    assert ran == ["on_commit"]
    assert await _committed_notes(database) == ["the trace"]


@pytest.mark.parametrize("violation", ["deferred foreign key", "unique key"])
async def test_a_failed_commit_rolls_back_and_runs_the_on_rollback_actions(database: Database, violation: str) -> None:
    ran: list[str] = []

    async def work(session: AsyncSession) -> None:
        if violation == "deferred foreign key":
            # flushed without error: SQLite refuses it at COMMIT
            session.add(Note(name="orphan", parent_id=404))
            await session.flush()
        else:
            # pending until the commit flushes them
            session.add_all([Note(name="twin"), Note(name="twin")])
        _register(session, ran)

    with pytest.raises(IntegrityError):
        await _unit_of_work(database, work)
    assert ran == ["on_rollback"]
    assert await _committed_notes(database) == []


def _logged_failures(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    """The after-transaction failures logged (one JSON object per line)."""
    logged = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    return [entry for entry in logged if entry["event"] == "after_transaction_action_failed"]


@pytest.fixture
def json_logs(capsys: pytest.CaptureFixture[str]) -> pytest.CaptureFixture[str]:
    """Logs configured as the app configures them, read from standard output."""
    configure_logging("INFO", json=True)
    capsys.readouterr()
    return capsys


async def _fails() -> None:
    raise OSError("storage unreachable")


async def test_a_failing_on_commit_action_is_logged_and_the_others_run(
    database: Database, json_logs: pytest.CaptureFixture[str]
) -> None:
    ran: list[str] = []

    async def runs() -> None:
        ran.append("the next action")

    async with unit_of_work(database.writer) as session:
        session.add(Note(name="written"))
        on_commit(session, _fails)
        on_commit(session, runs)
    assert ran == ["the next action"]
    assert await _committed_notes(database) == ["written"], "the commit stands"
    [failure] = _logged_failures(json_logs)
    assert (failure["outcome"], failure["level"]) == ("on_commit", "error")
    assert "OSError: storage unreachable" in failure["exception"]


async def test_a_failing_on_rollback_action_is_logged_and_the_original_error_raised(
    database: Database, json_logs: pytest.CaptureFixture[str]
) -> None:
    ran: list[str] = []
    error = RuntimeError("the request failed")

    async def runs() -> None:
        ran.append("the next action")

    async def work(session: AsyncSession) -> None:
        session.add(Note(name="written"))
        on_rollback(session, _fails)
        on_rollback(session, runs)
        raise error

    with pytest.raises(RuntimeError) as raised:
        await _unit_of_work(database, work)
    assert raised.value is error, "the request's error, not the action's"
    assert ran == ["the next action"]
    assert await _committed_notes(database) == []
    [failure] = _logged_failures(json_logs)
    assert (failure["outcome"], failure["level"]) == ("on_rollback", "error")
    assert "OSError: storage unreachable" in failure["exception"]
