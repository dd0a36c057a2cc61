"""Input rules shared by every endpoint: text without control characters, bounded dates and times.

Text is checked once, at the edge, by `app.middleware.InputGuardMiddleware` (path, query string,
JSON and form bodies), so no field can forget it. PostgreSQL refuses U+0000 in text and SQLite
stores it, so data written on one could not be moved to the other; the other C0 controls are
refused because no field of the API has a use for them and they hide in logs and exports.
Dates and times are typed here and used by the schemas.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Field, ValidationInfo, field_validator

# C0 controls except tab, line feed and carriage return.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")

MIN_YEAR = 1900
MAX_YEAR = 2200
EARLIEST_DATE = date(MIN_YEAR, 1, 1)
LATEST_DATE = date(MAX_YEAR, 12, 31)


def control_character(text: str) -> str | None:
    """The first refused control character of `text` as `U+XXXX`, or None when the text is clean."""
    found = CONTROL_CHARACTERS.search(text)
    return f"U+{ord(found.group()):04X}" if found else None


_NUMBER = re.compile(r"\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*")


def _iso_text_only(value: Any) -> Any:
    # Pydantic reads numbers (and numeric text, as query strings are) as Unix timestamps;
    # the contract is ISO 8601 text.
    if isinstance(value, int | float) or (isinstance(value, str) and _NUMBER.fullmatch(value)):
        raise ValueError("give ISO 8601 text, e.g. 2026-11-30 or 2026-11-30T09:00:00+07:00")
    return value


def _year_in_range(value: date) -> date:
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValueError(f"the year must be between {MIN_YEAR} and {MAX_YEAR}")
    return value


Timestamp = Annotated[
    AwareDatetime,
    BeforeValidator(_iso_text_only),
    AfterValidator(_year_in_range),
    Field(
        description=f"ISO 8601 date-time with a UTC offset (`Z` or `+07:00`); naive times are refused. "
        f"Years {MIN_YEAR}–{MAX_YEAR}.",
        examples=["2026-11-30T09:00:00+07:00"],
    ),
]
"""A timezone-aware instant: naive date-times are refused with 422, never guessed."""

Day = Annotated[
    date,
    BeforeValidator(_iso_text_only),
    AfterValidator(_year_in_range),
    Field(description=f"ISO 8601 date, years {MIN_YEAR}–{MAX_YEAR}.", examples=["2026-11-30"]),
]
"""A calendar date within the years the statistics can reckon with."""


def refuse_null(*fields: str) -> Any:
    """A validator for PATCH schemas: these fields may be omitted (kept as they are) but not set to null.

    Pair it with `non_nullable_in_schema` so the document shows them non-nullable.
    """

    def check(cls: type, value: Any, info: ValidationInfo) -> Any:
        if value is None:
            raise ValueError(f"{info.field_name} cannot be null; omit it to keep the current value")
        return value

    return field_validator(*fields, mode="after")(check)


def non_nullable_in_schema(fields: tuple[str, ...], **extra: Any) -> Any:
    """`json_schema_extra` that drops the null alternative of `fields` (see `refuse_null`)."""

    def adjust(schema: dict[str, Any]) -> None:
        schema.update(extra)
        for name in fields:
            prop = schema["properties"][name]
            options = [o for o in prop.pop("anyOf", []) if o.get("type") != "null"]
            if len(options) == 1:
                prop.update(options[0])
            elif options:
                prop["anyOf"] = options
            prop.pop("default", None)

    return adjust
