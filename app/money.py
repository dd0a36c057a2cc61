"""Amounts of money: one representation in every request, response, search hit, statistic and export.

An amount is a **decimal string** — digits, at most one point, no sign, no exponent — next to the
ISO 4217 code of its currency (a sibling `currency` field, or VND where the field's name says so:
`value_vnd`). Responses write it in the currency's minor units: `"350000000"` VND, `"1250.50"` USD.
It never passes through a binary float, so 12345678901234567 VND stays 12345678901234567.

Requests send the same string. A JSON number is still accepted when it cannot have been rounded on
its way: at most 15 significant digits (what a double keeps exactly; a JavaScript client's
`12345678901234567` is already `12345678901234568` before it is sent).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, PlainSerializer, StringConstraints, WithJsonSchema
from pydantic_core import PydanticCustomError

# ISO 4217 currencies whose minor unit is not the cent; every other code has two decimals.
_MINOR_UNITS: dict[str, int] = {
    **dict.fromkeys(
        (
            "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND",
            "VUV", "XAF", "XOF", "XPF",
        ),
        0,
    ),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
    "CLF": 4,
    "UYW": 4,
}  # fmt: skip
EXACT_DIGITS = 15  # significant digits an IEEE 754 double always keeps
MAX_DIGITS = 18
DECIMAL_PLACES = 2
PATTERN = r"^[0-9]{1,16}(\.[0-9]{1,2})?$"
_STRING = re.compile(PATTERN)


def minor_units(currency: str | None) -> int:
    return _MINOR_UNITS.get((currency or "").upper(), 2)


def format_amount(value: Decimal | None, currency: str | None) -> str | None:
    """`value` in `currency`'s minor units; more decimals only when it has them (never rounded)."""
    if value is None:
        return None
    exponent = Decimal(1).scaleb(-minor_units(currency))
    shown = value.quantize(exponent)
    if shown != value:
        shown = value.normalize()
    return f"{shown:f}"


def format_decimal(value: Decimal | None) -> str | None:
    """A decimal without exponent and without trailing zeros after the point."""
    if value is None:
        return None
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _amount(value: Any) -> Any:
    if isinstance(value, bool):
        raise PydanticCustomError("amount_type", 'an amount is a decimal string such as "1250.50"')
    if isinstance(value, int | float):
        exact = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
        if not exact.is_finite() or len(exact.normalize().as_tuple().digits) > EXACT_DIGITS:
            raise PydanticCustomError(
                "amount_not_exact",
                "a number of more than {digits} significant digits may have been rounded on its way; "
                'send the amount as a decimal string such as "12345678901234567"',
                {"digits": EXACT_DIGITS},
            )
        return exact
    if isinstance(value, str):
        if not _STRING.match(value):
            raise PydanticCustomError(
                "amount_format",
                "an amount is a decimal string of digits with at most one point and 2 decimals, "
                'no sign, no exponent, no separators ("1250.50")',
            )
        try:
            return Decimal(value)
        except InvalidOperation:  # pragma: no cover - the pattern admits only valid decimals
            raise PydanticCustomError("amount_format", "not a decimal number") from None
    return value


_AMOUNT_DOC = (
    "Decimal string in the currency of the sibling `currency` field: digits, at most one point "
    "and 2 decimals, no exponent."
)

AmountIn = Annotated[
    Decimal,
    BeforeValidator(_amount),
    Field(ge=0, max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES),
    WithJsonSchema(
        {"type": "string", "pattern": PATTERN, "description": _AMOUNT_DOC, "examples": ["350000000", "1250.50"]},
        mode="validation",
    ),
]
"""An amount in a request body."""

AMOUNT_OUT_SCHEMA: dict[str, Any] = {
    "type": "string",
    "pattern": r"^[0-9]+(\.[0-9]+)?$",
    "description": 'Decimal string in the currency\'s minor units (`"350000000"` VND, `"1250.50"` USD).',
    "examples": ["350000000"],
}

VndAmount = Annotated[
    Decimal,
    PlainSerializer(lambda value: format_amount(value, "VND"), return_type=str),
    WithJsonSchema({**AMOUNT_OUT_SCHEMA, "description": "Decimal string, VND."}, mode="serialization"),
]
"""An amount in VND in a response."""

DecimalString = Annotated[
    Decimal,
    PlainSerializer(format_decimal, return_type=str),
    WithJsonSchema(
        {"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]+)?$", "description": "Decimal string, no exponent."},
        mode="serialization",
    ),
]
"""An exact number in a response (a ratio, a count, an exchange rate)."""


AmountOut = Annotated[Decimal, WithJsonSchema(AMOUNT_OUT_SCHEMA, mode="serialization")]
AmountText = Annotated[str, WithJsonSchema(AMOUNT_OUT_SCHEMA)]
"""An amount in a response, written by the model's `amount_serializer` in its currency."""

# The currency of a listing, deal or hit as answered: an ISO 4217 code.
CurrencyCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$"), Field(description="ISO 4217 code.")]
