"""Reading spreadsheet cells as values: numbers, amounts, dates, lists and choices as people type them.

Each parser takes a cell (whatever openpyxl or the CSV reader gives) and returns a value or raises
`CellError` with a stable code, which the dry run reports for that row and column.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from rapidfuzz import fuzz, process

from app.search.text import fold


class CellError(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def integer(value: Any) -> int:
    if isinstance(value, bool):
        raise CellError("invalid_number", "not a whole number")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    match = re.fullmatch(r"\s*(?:TRL\s*)?(\d+)\s*", str(value), flags=re.IGNORECASE)
    if not match:
        raise CellError("invalid_number", f"'{value}' is not a whole number")
    return int(match.group(1))


_SCALES = {"tỷ": Decimal(10) ** 9, "ty": Decimal(10) ** 9, "triệu": Decimal(10) ** 6, "trieu": Decimal(10) ** 6}
_CURRENCY_WORDS = re.compile(r"(vnđ|vnd|đồng|dong|đ)\s*$", flags=re.IGNORECASE)


def amount(value: Any) -> Decimal:
    """`150000000`, `150.000.000`, `150,000,000 đ`, `1,5 tỷ`, `800 triệu`."""
    if isinstance(value, bool):
        raise CellError("invalid_amount", "not an amount")
    if isinstance(value, int | float | Decimal):
        result = Decimal(str(value))
    else:
        raw = _CURRENCY_WORDS.sub("", str(value).strip().lower()).strip()
        scale = Decimal(1)
        for word, factor in _SCALES.items():
            if raw.endswith(word):
                raw, scale = raw.removesuffix(word).strip(), factor
                break
        raw = raw.replace(" ", "")
        if "," in raw and "." in raw:
            decimal_mark = "," if raw.rfind(",") > raw.rfind(".") else "."
            raw = raw.replace("." if decimal_mark == "," else ",", "").replace(",", ".")
        elif re.fullmatch(r"\d{1,3}([.,]\d{3})+", raw):
            raw = raw.replace(".", "").replace(",", "")
        else:
            raw = raw.replace(",", ".")
        try:
            result = Decimal(raw) * scale
        except InvalidOperation:
            raise CellError("invalid_amount", f"'{value}' is not an amount") from None
    if result < 0 or not result.is_finite():
        raise CellError("invalid_amount", "must be a positive amount")
    return result.quantize(Decimal("0.01"))


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def day(value: Any) -> date:
    """A date, or the last day of a month (`06/2027`), a quarter (`Q2/2027`, `Quý 2/2027`) or a year (`2027`)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    raw = text(value)
    try:
        if m := re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", raw):
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        if m := re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})", raw):
            return date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
        if m := re.fullmatch(r"(\d{1,2})[/.-](\d{4})", raw):
            return _month_end(int(m.group(2)), int(m.group(1)))
        if m := re.fullmatch(r"(?:q|quý|quy)\s*([1-4])\s*[/.-]?\s*(?:năm\s*)?(\d{4})", raw, flags=re.IGNORECASE):
            return _month_end(int(m.group(2)), 3 * int(m.group(1)))
        if m := re.fullmatch(r"(?:năm\s*)?(\d{4})", raw, flags=re.IGNORECASE):
            return date(int(m.group(1)), 12, 31)
    except ValueError:
        pass
    raise CellError("invalid_date", f"'{raw}' is not a date (e.g. 2027-06-30, 30/06/2027, 06/2027, Q2/2027)")


def boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    folded = fold(text(value))
    if folded in {"1", "x", "yes", "y", "true", "co", "dung"}:
        return True
    if folded in {"0", "", "no", "n", "false", "khong", "sai"}:
        return False
    raise CellError("invalid_boolean", f"'{value}' is not yes/no (có/không)")


def items(value: Any) -> list[str]:
    return [part.strip() for part in re.split(r"[,;\n]", text(value)) if part.strip()]


def choice(options: Mapping[str, str], *, cutoff: float = 80) -> Callable[[Any], str]:
    """A parser for one of `options`' values, given as a code or any label (vi/en; fuzzy, without marks)."""
    by_label = {fold(label): code for label, code in options.items()}
    by_label.update({fold(code): code for code in set(options.values())})

    def parse(value: Any) -> str:
        folded = fold(text(value))
        if folded in by_label:
            return by_label[folded]
        best = process.extractOne(folded, list(by_label), scorer=fuzz.WRatio, score_cutoff=cutoff)
        if best is None:
            raise CellError("invalid_choice", f"'{value}' is not one of: {', '.join(sorted(set(options.values())))}")
        return by_label[best[0]]

    return parse


def choices(options: Mapping[str, str]) -> Callable[[Any], list[str]]:
    one = choice(options)

    def parse(value: Any) -> list[str]:
        return list(dict.fromkeys(one(item) for item in items(value)))

    return parse
