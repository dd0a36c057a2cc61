"""The database-specific SQL of the project, in one place."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, cast, exists, func, literal_column, select, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession


def json_array_contains(dialect_name: str, column: Any, value: str) -> ColumnElement[bool]:
    """`value` is an element of the JSON array in `column` (JSONB `@>` / SQLite `json_each`)."""
    if dialect_name == "postgresql":
        contains: ColumnElement[bool] = column.op("@>")(cast([value], JSONB))
        return contains
    elements = func.json_each(column).table_valued("value").alias("elements")
    return exists(select(literal_column("1")).select_from(elements).where(elements.c.value == value))


def contains_text(column: Any, text: str) -> ColumnElement[bool]:
    """Case-insensitive substring match of a user's text, with `%`, `_` and the escape character
    taken literally (LIKE would read them as wildcards): every user string bound for LIKE goes here."""
    matches: ColumnElement[bool] = func.lower(column).contains(text.lower(), autoescape=True)
    return matches


async def next_counter_value(session: AsyncSession, prefix: str, step: int = 1) -> int:
    """Atomically increment the named counter by `step` (upsert … RETURNING on both databases); the new value."""
    from app.models import ReferenceCounter

    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(ReferenceCounter)
        .values(prefix=prefix, value=step)
        .on_conflict_do_update(index_elements=["prefix"], set_={"value": ReferenceCounter.value + step})
        .returning(ReferenceCounter.value)
    )
    return int((await session.execute(statement)).scalar_one())


async def upsert(
    session: AsyncSession, model: Any, values: dict[str, Any], *, key: list[str], update: list[str]
) -> None:
    """Insert a row or, when its `key` columns exist already, update the `update` columns — in one
    statement, so that two concurrent writes of the same row both succeed (the later one wins)."""
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(model).values(**values)
    statement = statement.on_conflict_do_update(
        index_elements=key, set_={column: statement.excluded[column] for column in update}
    )
    await session.execute(statement)


async def try_advisory_lock(connection: AsyncConnection, key: int) -> bool:
    """PostgreSQL session-level advisory lock: true when this connection now holds it."""
    return bool(await connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}))


async def release_advisory_locks(connection: AsyncConnection) -> None:
    """Release this connection's session-level advisory locks before it returns to the pool."""
    await connection.execute(text("SELECT pg_advisory_unlock_all()"))
