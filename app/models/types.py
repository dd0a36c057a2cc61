"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import JSON, Numeric
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

# JSONB on PostgreSQL (indexable, compact), JSON text on SQLite.
JSONType = JSON().with_variant(JSONB(), "postgresql")


_INT64 = 2**63


class _SQLiteExactNumeric(Numeric[Decimal]):
    """SQLite has no decimal type: SQLAlchemy binds a Decimal as a float and reads it back through one,
    so 9007199254740993 became 9007199254740992. Bound as an int (whole amounts) or decimal text, SQLite
    stores a whole amount as an exact 64-bit INTEGER (and one with a fraction as REAL, exact to 15
    significant digits); read back from the stored integer or the shortest text of the stored real."""

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any]:
        def process(value: Any) -> Any:
            if value is None:
                return None
            exact = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
            # a whole amount as a Python int (SQLite reads "9007199254740993.00" through a double)
            if exact == exact.to_integral_value() and abs(exact) < _INT64:
                return int(exact)
            return f"{exact:f}"

        return process

    def result_processor(self, dialect: Dialect, coltype: object) -> Callable[[Any], Any]:
        def process(value: Any) -> Decimal | None:
            if value is None:
                return None
            exact = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
            return exact.quantize(Decimal(1).scaleb(-(self.scale or 0))) if self.scale is not None else exact

        return process


class ExactNumeric(TypeDecorator[Decimal]):
    """`Numeric(precision, scale)` that keeps every digit on SQLite too (PostgreSQL's NUMERIC does)."""

    impl = Numeric
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            numeric = cast(Numeric[Decimal], self.impl_instance)
            return dialect.type_descriptor(_SQLiteExactNumeric(numeric.precision, numeric.scale, asdecimal=True))
        return dialect.type_descriptor(self.impl_instance)
