"""The database-specific SQL of the project, in one place."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, cast, exists, func, literal_column, select
from sqlalchemy.dialects.postgresql import JSONB


def json_array_contains(dialect_name: str, column: Any, value: str) -> ColumnElement[bool]:
    """`value` is an element of the JSON array in `column` (JSONB `@>` / SQLite `json_each`)."""
    if dialect_name == "postgresql":
        contains: ColumnElement[bool] = column.op("@>")(cast([value], JSONB))
        return contains
    elements = func.json_each(column).table_valued("value").alias("elements")
    return exists(select(literal_column("1")).select_from(elements).where(elements.c.value == value))
