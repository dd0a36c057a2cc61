"""Engine, sessions and the unit of work.

One `Database` per process, created in the app lifespan (or by a CLI command).
Requests get one session each through `get_session`, which commits before the
response is sent and rolls back on any error; effects outside the database (a
stored file) follow that outcome through `on_commit` and `on_rollback`.

SQLite notes: the `sqlite3` driver's legacy transaction handling is switched
off so that SQLAlchemy emits `BEGIN` itself. Write units of work start with
`BEGIN IMMEDIATE`, which takes the write lock up front: a deferred transaction
that reads and then writes can fail at once with "database is locked" instead
of waiting `busy_timeout` (SQLite does not wait to upgrade a read transaction).

SQLite has one write lock for the whole database, so a write unit of work must
be short and must hold the lock only for the request's own reads-then-writes:

- a session begins its transaction at its first statement, not when it is
  created, so the lock is taken when the route first touches the database;
- the caller's credentials are checked in a separate short read transaction
  (`app.api.deps.get_optional_principal`), never as a write unit of work's
  first statement;
- routes that answer a POST without writing use `get_read_session`;
- long work (computing a schedule) runs between its own short transactions
  (read, compute with no transaction open, write), never inside the request's.

`tests/fixtures/live.py` runs the app this way on a file database with
separate connections, so breaking one of these rules fails a test.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy import event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import AsyncAdaptedQueuePool, ConnectionPoolEntry
from starlette.requests import Request

from app.errors import AppError
from app.metrics import DB_POOL_IN_USE, DB_POOL_WAITING

SQLITE_WRITE_OPTION = "techex_sqlite_write"
SQLITE_BUSY_TIMEOUT_MS = 15_000
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
DEFAULT_POOL_TIMEOUT = 30.0
# keys of `session.info`: the actions `unit_of_work` runs once the transaction is over
_ON_COMMIT = "on_commit"
_ON_ROLLBACK = "on_rollback"

log = structlog.get_logger(__name__)

AfterTransaction = Callable[[], Awaitable[None]]


def is_sqlite_url(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


class MeteredPool(AsyncAdaptedQueuePool):
    """The default async pool, counting connections in use and sessions waiting for one (/metrics)."""

    def _do_get(self) -> ConnectionPoolEntry:
        DB_POOL_WAITING.inc()
        try:
            entry = super()._do_get()
        finally:
            DB_POOL_WAITING.dec()
        DB_POOL_IN_USE.inc()
        return entry

    def _do_return_conn(self, record: ConnectionPoolEntry) -> None:
        DB_POOL_IN_USE.dec()
        super()._do_return_conn(record)


def create_engine(
    url: str, *, echo: bool = False, pool_size: int = 10, pool_timeout: float = DEFAULT_POOL_TIMEOUT
) -> AsyncEngine:
    """Create an async engine with the per-database settings this project relies on.

    The pool is bounded (no overflow) and waits briefly: past `pool_timeout` the
    request is answered 503 instead of queueing behind requests whose clients left.
    """
    kwargs: dict[str, Any] = {"echo": echo, "pool_pre_ping": not is_sqlite_url(url)}
    database = make_url(url).database if is_sqlite_url(url) else None
    if is_sqlite_url(url):
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
    if database != ":memory:":  # in-memory SQLite is one static connection, not a pool
        kwargs.update(poolclass=MeteredPool, pool_size=pool_size, max_overflow=0, pool_timeout=pool_timeout)
    engine = create_async_engine(url, **kwargs)
    if is_sqlite_url(url):
        _configure_sqlite(engine)
    return engine


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide where transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        write = connection.get_execution_options().get(SQLITE_WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


class Database:
    """The engine and the two session factories (reading and writing units of work)."""

    def __init__(self, engine: AsyncEngine, bind: AsyncEngine | AsyncConnection | None = None):
        self.engine = engine
        target = bind if bind is not None else engine
        # Bound to one connection, sessions must take turns: it runs one transaction at a time.
        self.one_connection = isinstance(target, AsyncConnection)
        session_options: dict[str, Any] = {"expire_on_commit": False, "autoflush": True}
        if isinstance(target, AsyncConnection):
            # Tests: every session joins the test's outer transaction through a
            # savepoint, so the real commit/rollback code runs and nothing persists.
            session_options["join_transaction_mode"] = "create_savepoint"
            self.reader = async_sessionmaker(bind=target, **session_options)
            self.writer = self.reader
        else:
            self.reader = async_sessionmaker(bind=target, **session_options)
            writer_bind = target.execution_options(**{SQLITE_WRITE_OPTION: True})
            self.writer = async_sessionmaker(bind=writer_bind, **session_options)

    @classmethod
    def from_url(
        cls, url: str, *, echo: bool = False, pool_size: int = 10, pool_timeout: float = DEFAULT_POOL_TIMEOUT
    ) -> Database:
        return cls(create_engine(url, echo=echo, pool_size=pool_size, pool_timeout=pool_timeout))

    async def dispose(self) -> None:
        await self.engine.dispose()


def on_commit(session: AsyncSession, action: AfterTransaction) -> None:
    """Run `action` once the unit of work has committed (never if it rolls back).

    For effects outside the database that must not happen unless the change is kept, such as removing a
    deleted document's file: done before the commit, a failed commit would leave a row without its file.
    """
    session.info.setdefault(_ON_COMMIT, []).append(action)


def on_rollback(session: AsyncSession, action: AfterTransaction) -> None:
    """Run `action` once the unit of work has rolled back, whatever made it fail (never if it commits).

    For undoing effects outside the database made before the commit, such as a stored upload: its row is
    gone with the rollback, so its file must go too.
    """
    session.info.setdefault(_ON_ROLLBACK, []).append(action)


@asynccontextmanager
async def unit_of_work(factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """Yield a session; commit if the body succeeds, roll back if anything fails.

    A failed COMMIT on SQLite can leave the transaction open, so it is rolled
    back explicitly before the error propagates. Domain errors marked
    `keeps_changes` commit first: the refusal itself is the change to keep.
    Then the actions registered with `on_commit` or `on_rollback`, whichever
    matches the outcome, run (only here: a session opened otherwise never runs them).
    """
    async with factory() as session:
        try:
            yield session
        except AppError as error:
            if error.keeps_changes:
                await _commit(session)
            else:
                await _rollback(session)
            raise
        except BaseException:
            await _rollback(session)
            raise
        await _commit(session)


async def _commit(session: AsyncSession) -> None:
    try:
        await session.commit()
    except BaseException:
        await _rollback(session)
        raise
    await _after_transaction(session, _ON_COMMIT)


async def _rollback(session: AsyncSession) -> None:
    try:
        await session.rollback()
    finally:
        # a rollback that fails (a lost connection) leaves nothing committed either
        await _after_transaction(session, _ON_ROLLBACK)


async def _after_transaction(session: AsyncSession, outcome: str) -> None:
    """Run the outcome's actions, each once. The transaction is over either way, so an action that fails
    is logged and neither stops the others nor replaces the outcome the caller sees."""
    registered = {key: session.info.pop(key, []) for key in (_ON_COMMIT, _ON_ROLLBACK)}
    for action in registered[outcome]:
        try:
            await action()
        except Exception:
            log.exception("after_transaction_action_failed", outcome=outcome, action=repr(action))


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's unit of work: reads use a plain transaction, writes take the write lock at their
    first statement."""
    database: Database = request.app.state.database
    factory = database.reader if request.method in READ_METHODS else database.writer
    async with unit_of_work(factory) as session:
        yield session


async def get_read_session(request: Request) -> AsyncIterator[AsyncSession]:
    """A reading unit of work whatever the method: for POSTs that compute over the data and write nothing."""
    database: Database = request.app.state.database
    async with unit_of_work(database.reader) as session:
        yield session
