"""Migrations run up, down and up again, and leave exactly the schema the models declare."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from app.db import create_engine
from app.migrations import downgrade, upgrade
from app.models import Base
from tests.fixtures.database import drop_postgres_database, fresh_database_url


async def _schema_diff(url: str) -> list:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata)
            )
    finally:
        await engine.dispose()


async def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            names = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
            return set(names) - {"alembic_version"}
    finally:
        await engine.dispose()


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
async def test_upgrade_downgrade_upgrade(kind: str, tmp_path: Path) -> None:
    url = await fresh_database_url(kind, tmp_path)
    try:
        await asyncio.to_thread(upgrade, url)
        assert await _tables(url) == set(Base.metadata.tables)
        await asyncio.to_thread(downgrade, url, "base")
        assert await _tables(url) == set()
        await asyncio.to_thread(upgrade, url)
        assert await _schema_diff(url) == []
    finally:
        if kind == "postgresql":
            await drop_postgres_database(url)
