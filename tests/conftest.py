"""Shared fixtures: databases (SQLite and PostgreSQL), the app and an HTTP client."""

from __future__ import annotations

import re
import tempfile
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from app.config import Environment, Settings
from app.db import Database
from app.main import create_app
from app.search.embedded import EmbeddedBackend

pytest_plugins = ["tests.fixtures.database", "tests.fixtures.live", "tests.fixtures.contract"]

BASE_URL = "http://testserver"


def make_settings(database_url: str = "sqlite+aiosqlite:///:memory:", **overrides: object) -> Settings:
    # A loaded test machine stalls the event loop often enough to shed test requests;
    # the tests of that check turn it on.
    overrides.setdefault("load_shed_queue_delay", 0)
    overrides.setdefault("document_dir", Path(tempfile.gettempdir()) / "techex-test-documents")
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        environment=Environment.TEST,
        database_url=database_url,
        expiry_sweep_seconds=0,
        indexer_in_process=False,
        webhooks_in_process=False,
        **overrides,  # type: ignore[arg-type]
    )


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url)


@pytest.fixture
def search_backend(tmp_path: Path) -> EmbeddedBackend:
    return EmbeddedBackend(tmp_path / "index")


@pytest.fixture
async def app(
    settings: Settings,
    engine: AsyncEngine,
    db_connection: AsyncConnection,
    search_backend: EmbeddedBackend,
) -> AsyncIterator[FastAPI]:
    application = create_app(settings, database=Database(engine, bind=db_connection), search=search_backend)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[AsyncClient]:
    transport = ASGITransport(app=app, raise_app_exceptions=False)
    async with AsyncClient(transport=transport, base_url=BASE_URL) as http:
        yield http


@pytest.fixture
async def session(app: FastAPI) -> AsyncIterator[AsyncSession]:
    """A session on the test's transaction, for arranging data and reading it back."""
    database: Database = app.state.database
    async with database.writer() as db_session:
        yield db_session


_DATABASE_PARAM = re.compile(r"\[(?:[^\]]*-)?(sqlite|postgresql)(?:-[^\]]*)?\]")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say how many tests ran on each database, so a skipped PostgreSQL run is visible."""
    counts: Counter[tuple[str, str]] = Counter()
    for outcome in ("passed", "failed", "skipped", "error"):
        for report in terminalreporter.stats.get(outcome, []):
            match = _DATABASE_PARAM.search(getattr(report, "nodeid", ""))
            if match and getattr(report, "when", "call") in ("call", "setup"):
                counts[(match.group(1), outcome)] += 1
    if counts:
        terminalreporter.section("tests per database")
        for database in ("sqlite", "postgresql"):
            parts = [
                f"{counts[(database, o)]} {o}"
                for o in ("passed", "failed", "skipped", "error")
                if counts[(database, o)]
            ]
            terminalreporter.write_line(f"{database}: {', '.join(parts) or 'none'}")
