"""The database-specific SQL of the project, in one place."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, cast, exists, func, literal_column, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession


def json_array_contains(dialect_name: str, column: Any, value: str) -> ColumnElement[bool]:
    """`value` is an element of the JSON array in `column` (JSONB `@>` / SQLite `json_each`)."""
    if dialect_name == "postgresql":
        contains: ColumnElement[bool] = column.op("@>")(cast([value], JSONB))
        return contains
    elements = func.json_each(column).table_valued("value").alias("elements")
    return exists(select(literal_column("1")).select_from(elements).where(elements.c.value == value))


async def next_counter_value(session: AsyncSession, prefix: str) -> int:
    """Atomically increment the named counter (upsert … RETURNING on both databases)."""
    from app.models import ReferenceCounter

    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(ReferenceCounter)
        .values(prefix=prefix, value=1)
        .on_conflict_do_update(index_elements=["prefix"], set_={"value": ReferenceCounter.value + 1})
        .returning(ReferenceCounter.value)
    )
    return int((await session.execute(statement)).scalar_one())
