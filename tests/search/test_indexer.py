"""One indexer drains at a time; a standby takes over when the leader goes."""

from __future__ import annotations

from pathlib import Path

from app.db import Database
from app.search.embedded import EmbeddedBackend
from app.search.indexer import Indexer


async def test_leadership(database_url: str, tmp_path: Path) -> None:
    on_postgres = database_url.startswith("postgresql")
    databases = [Database.from_url(database_url), Database.from_url(database_url)]
    first, second = (Indexer(db, EmbeddedBackend(tmp_path / name)) for db, name in zip(databases, "ab", strict=True))
    try:
        assert await first.is_leader()
        assert await second.is_leader() is (not on_postgres), "on PostgreSQL the second one stands by"
        await first.close()
        assert await second.is_leader(), "the standby takes over once the leader is gone"
    finally:
        await second.close()
        for database in databases:
            await database.dispose()
