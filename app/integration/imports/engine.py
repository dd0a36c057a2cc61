"""The import engine, pure: read a table, suggest a column mapping, validate rows, write the error file.

No database and no HTTP: the service feeds it bytes and persists what it returns.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from openpyxl import Workbook, load_workbook
from pydantic import ValidationError
from rapidfuzz import fuzz, process

from app.integration.imports.base import ImportKind
from app.integration.imports.cells import CellError, is_blank
from app.search.text import fold

MATCH_CUTOFF = 80
ERROR_HEADER = "Lỗi / Errors"


class UnreadableFileError(ValueError):
    """The upload is neither an XLSX workbook nor a CSV table."""


@dataclass(frozen=True)
class ColumnMatch:
    header: str
    field: str | None
    score: float


@dataclass(frozen=True)
class RowError:
    row: int  # the spreadsheet's row number (the header is row 1)
    column: str | None  # the file's header, when the error belongs to one column
    field: str | None
    code: str
    message: str


@dataclass
class RowResult:
    row: int
    cells: list[Any]
    payload: Any | None = None  # the validated schema instance
    key: str | None = None
    parsed: dict[str, Any] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)


class Table:
    """The header and the rows of the first sheet (XLSX, read streaming) or of a CSV file."""

    def __init__(self, content: bytes, filename: str) -> None:
        self._content = content
        self._xlsx = content[:2] == b"PK"
        if not self._xlsx and filename.lower().endswith((".xlsx", ".xlsm")):
            raise UnreadableFileError("the file is not an XLSX workbook")
        rows = self._rows()
        try:
            header = next(rows)
        except StopIteration:
            raise UnreadableFileError("the file has no header row") from None
        self.headers = [str(h).strip() if h is not None else "" for h in header]

    def _rows(self) -> Iterator[list[Any]]:
        if self._xlsx:
            try:
                workbook = load_workbook(io.BytesIO(self._content), read_only=True, data_only=True)
            except Exception as error:
                raise UnreadableFileError(f"the workbook cannot be read: {error}") from None
            sheet = workbook.worksheets[0]
            try:
                for values in sheet.iter_rows(values_only=True):
                    yield list(values)
            finally:
                workbook.close()
            return
        try:
            text = self._content.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise UnreadableFileError("a CSV file must be UTF-8") from None
        try:
            dialect: Any = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
        except csv.Error:
            dialect = csv.excel
        yield from csv.reader(io.StringIO(text), dialect)

    def estimated_rows(self) -> int:
        """How many data rows the file holds, for a progress bar (the sheet's dimension when it has one)."""
        if self._xlsx:
            workbook = load_workbook(io.BytesIO(self._content), read_only=True, data_only=True)
            try:
                sheet = workbook.worksheets[0]
                if sheet.max_row:
                    return max(0, int(sheet.max_row) - 1)
            finally:
                workbook.close()
        return sum(1 for _ in self.rows())

    def rows(self) -> Iterator[tuple[int, list[Any]]]:
        """Data rows with their spreadsheet row number; blank rows are passed over."""
        rows = self._rows()
        next(rows, None)
        for number, values in enumerate(rows, start=2):
            if any(not is_blank(v) for v in values):
                yield number, values


def suggest_mapping(kind: ImportKind, headers: list[str]) -> list[ColumnMatch]:
    """Each header's best column of `kind` (exact label first, then fuzzy, without marks), each column once."""
    labels = {fold(label): column.field for column in kind.columns for label in (column.field, *column.labels)}
    taken: set[str] = set()
    matches = []
    for header in headers:
        folded = fold(header)
        found: tuple[str | None, float] = (None, 0.0)
        if folded in labels and labels[folded] not in taken:
            found = (labels[folded], 100.0)
        elif folded:
            candidates = [label for label, name in labels.items() if name not in taken]
            best = process.extractOne(folded, candidates, scorer=fuzz.token_set_ratio, score_cutoff=MATCH_CUTOFF)
            if best is not None:
                found = (labels[best[0]], round(float(best[1]), 1))
        if found[0] is not None:
            taken.add(found[0])
        matches.append(ColumnMatch(header, found[0], found[1]))
    return matches


def apply_mapping(
    kind: ImportKind, headers: list[str], given: Mapping[str, str | None] | None
) -> tuple[list[ColumnMatch], list[RowError]]:
    """The suggestions overridden by the caller's `{header: field or null}`; errors for unknown headers or fields."""
    matches = suggest_mapping(kind, headers)
    errors = []
    if given:
        fields = {c.field for c in kind.columns}
        for header, name in given.items():
            if header not in headers:
                errors.append(RowError(1, header, None, "unknown_header", f"the file has no column '{header}'"))
            elif name is not None and name not in fields:
                errors.append(RowError(1, header, name, "unknown_field", f"'{name}' is not a column of {kind.name}"))
        matches = [
            ColumnMatch(m.header, given[m.header], 100.0) if m.header in given else m
            for m in matches
            if not (m.header in given and given[m.header] is None)
        ] + [ColumnMatch(m.header, None, 0.0) for m in matches if m.header in given and given[m.header] is None]
    mapped = [m.field for m in matches if m.field]
    for name in {n for n in mapped if mapped.count(n) > 1}:
        errors.append(RowError(1, None, name, "duplicate_mapping", f"several columns map to '{name}'"))
    for column in kind.columns:
        if column.required and column.field not in mapped:
            errors.append(RowError(1, column.header, column.field, "missing_column", f"no column for '{column.field}'"))
    return matches, errors


def validate_row(
    kind: ImportKind, matches: list[ColumnMatch], headers: list[str], number: int, values: list[Any]
) -> RowResult:
    """Parse each mapped cell and validate the row with the API's create schema; every error is kept."""
    result = RowResult(number, values)
    header_of: dict[str, str] = {}
    for index, match in enumerate(matches):
        if match.field is None:
            continue
        header_of[match.field] = match.header
        position = headers.index(match.header) if match.header in headers else index
        cell = values[position] if position < len(values) else None
        if is_blank(cell):
            continue
        try:
            result.parsed[match.field] = kind.column(match.field).parse(cell)
        except CellError as error:
            result.errors.append(RowError(number, match.header, match.field, error.code, error.message))
    for column in kind.columns:
        missing = column.required and column.field not in result.parsed and column.field in header_of
        if missing and not any(e.field == column.field for e in result.errors):
            result.errors.append(
                RowError(number, header_of[column.field], column.field, "required", "a value is required")
            )
    # The schema checks what parsed, so one upload reports every fault of the row; a field whose cell
    # did not parse is reported once, for its cell.
    faulty = {e.field for e in result.errors}
    try:
        payload = kind.schema.model_validate(kind.to_payload(result.parsed))
    except ValidationError as error:
        for problem in error.errors():
            name = kind.column_of(problem["loc"])
            if name not in faulty:
                faulty.add(name)
                result.errors.append(RowError(number, header_of.get(name or ""), name, problem["type"], problem["msg"]))
    else:
        if not result.errors:
            result.payload = payload
    return result


def error_workbook(headers: list[str], rejected: list[RowResult]) -> bytes:
    """The rejected rows as they were uploaded, with a last column saying what is wrong with each."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Errors")
    sheet.append(["Dòng / Row", *headers, ERROR_HEADER])
    for result in rejected:
        described = "; ".join(f"{e.column or e.field or 'row'}: {e.message} [{e.code}]" for e in result.errors)
        cells = list(result.cells) + [None] * (len(headers) - len(result.cells))
        sheet.append([result.row, *cells[: len(headers)], described])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def template_workbook(kind: ImportKind) -> bytes:
    """An empty form: the Vietnamese headers, one example row, and a sheet explaining each column."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = kind.name
    sheet.append([c.header for c in kind.columns])
    sheet.append([kind.example.get(c.field) for c in kind.columns])
    guide = workbook.create_sheet("Hướng dẫn - Guide")
    guide.append(["Cột / Column", "Trường / Field", "Bắt buộc / Required", "Tên khác / Other names", "Ghi chú / Notes"])
    for column in kind.columns:
        guide.append(
            [column.header, column.field, "x" if column.required else "", ", ".join(column.labels[1:]), column.help]
        )
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
