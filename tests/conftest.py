"""Shared fixtures: databases (SQLite and PostgreSQL), the app and an HTTP client."""

from __future__ import annotations

import os
import re
import tempfile
import warnings
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from app.accounts import security
from app.config import Environment, Settings
from app.db import Database
from app.main import create_app
from app.search.embedded import EmbeddedBackend

# Embedding an expert profile costs 0.1 s of CPU, and every server a test starts would embed the demo
# experts: matching by meaning is off in tests (and the servers they start) but where a test turns it on.
os.environ.setdefault("SEMANTIC_MATCHING", "false")

pytest_plugins = ["tests.fixtures.database", "tests.fixtures.live", "tests.fixtures.contract"]

BASE_URL = "http://testserver"

# Argon2id at its production cost takes about 0.15 s of CPU a hash, and the suite hashes or checks some
# 2,000 passwords: over a quarter of its CPU time. Tests hash at the lowest cost Argon2id allows (still
# salted, still verified, the same code path); `production_password_cost` tests keep the real one.
_CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
_CHEAP_DUMMY_HASH = _CHEAP_HASHER.hash("no-such-account-password")


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


@pytest.fixture(autouse=True)
def cheap_password_hashing(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    if request.node.get_closest_marker("production_password_cost") is None:
        monkeypatch.setattr(security, "_hasher", _CHEAP_HASHER)
        monkeypatch.setattr(security, "_DUMMY_HASH", _CHEAP_DUMMY_HASH)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url)


@pytest.fixture
async def search_backend(tmp_path: Path) -> AsyncIterator[EmbeddedBackend]:
    # The lifespan closes only a backend it created: this one is the fixture's to close, or its
    # tantivy threads (a watcher per index, six more per index written) outlive the test.
    backend = EmbeddedBackend(tmp_path / "index")
    yield backend
    await backend.close()


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


# `make test` (`--dist loadgroup`) hands tests to the test processes one at a time, `slow` ones first,
# so that the run does not end with one process busy on a long file while the others idle. A file whose
# tests share a module- or class-scoped fixture goes whole to one process, or each process would build
# that fixture: such files are listed here (a distributed run warns of one missing).
# (xdist's own `xdist_group` mark is lost on pytest 9.2, pytest-dev/pytest-xdist#1386: hence this list.)
WHOLE_FILES = frozenset(
    {
        "tests/experts/test_orcid.py",
        "tests/ops/test_deployment.py",
        "tests/test_openapi.py",
        "tests/test_races.py",
        "tests/test_schemathesis.py",
        "tests/test_typescript_client.py",
    }
)
_SHARED_SCOPES = frozenset({"package", "module", "class"})


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """`--dist loadgroup`, with each of `WHOLE_FILES` a group of its own."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadGroupScheduling

    class WholeFileScheduling(LoadGroupScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return path if path in WHOLE_FILES else str(super()._split_scope(nodeid))

    return WholeFileScheduling(config, log)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not hasattr(config, "workerinput"):  # not a test process of a distributed run
        return
    shared = {
        item.nodeid.split("::", 1)[0]
        for item in items
        if any(
            definition.scope in _SHARED_SCOPES
            for definitions in item._fixtureinfo.name2fixturedefs.values()
            for definition in definitions
        )
    }
    if missing := sorted(shared - WHOLE_FILES):
        message = f"each test process builds the module fixtures of {', '.join(missing)}: list it in WHOLE_FILES"
        warnings.warn(pytest.PytestWarning(message), stacklevel=1)
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


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
