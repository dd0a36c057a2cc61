"""Statistics as CSV and as an XLSX report (one sheet per indicator) for the annual report."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

from app.money import format_decimal
from app.stats.schemas import DealsByFieldResponse, FunnelResponse, IndicatorsResponse, ListingStatsResponse


def indicator_rows(report: IndicatorsResponse) -> tuple[list[str], list[list[Any]]]:
    header = [
        "code",
        "label_vi",
        "label_en",
        "period",
        "unit",
        "value",
        "numerator",
        "denominator",
        "target_2025",
        "met_2025",
        "target_2030",
        "met_2030",
        "note",
    ]
    rows = []
    for item in report.indicators:
        by_year = {t.year: t for t in item.targets}
        rows.append(
            [
                item.code,
                item.label_vi,
                item.label_en,
                item.period,
                item.unit,
                item.value,
                item.numerator,
                item.denominator,
                by_year[2025].value if 2025 in by_year else None,
                by_year[2025].met if 2025 in by_year else None,
                by_year[2030].value if 2030 in by_year else None,
                by_year[2030].met if 2030 in by_year else None,
                item.note,
            ]
        )
    return header, rows


def listing_rows(report: ListingStatsResponse) -> tuple[list[str], list[list[Any]]]:
    statuses = sorted({status for row in report.rows for status in row.by_status})
    header = ["field", "units", "listings", "proposed_for_city", *statuses]
    rows = [
        [r.field, r.units, r.listings, r.proposed_for_city, *(r.by_status.get(s, 0) for s in statuses)]
        for r in report.rows
    ]
    return header, rows


def funnel_rows(report: FunnelResponse) -> tuple[list[str], list[list[Any]]]:
    data = report.model_dump()
    conversion = data.pop("conversion")
    flat = {**data, **{f"conversion_{k}": v for k, v in conversion.items()}}
    return list(flat), [list(flat.values())]


def deals_by_field_rows(report: DealsByFieldResponse) -> tuple[list[str], list[list[Any]]]:
    header = ["period", "field", "deals", "value_vnd", "confidential_deals"]
    rows = [[report.period, r.field, r.deals, r.value_vnd, r.confidential_deals] for r in report.rows]
    rows.append([report.period, "TOTAL", report.total_deals, report.total_value_vnd, None])
    return header, rows


def to_csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows([_cell(v) for v in row] for row in rows)
    return buffer.getvalue()


def _cell(value: Any) -> Any:
    """Amounts and ratios print as the same decimal strings as in JSON: never a float, never an exponent."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format_decimal(value)
    return value


def to_xlsx(
    indicators: IndicatorsResponse,
    listings: ListingStatsResponse,
    funnel: FunnelResponse,
    deals: DealsByFieldResponse,
) -> bytes:
    """One sheet per indicator, then the listings table, the funnel and deals by field."""
    workbook = Workbook()
    workbook.remove(workbook.active)  # type: ignore[arg-type]
    header, rows = indicator_rows(indicators)
    for row in rows:
        _sheet(workbook, row[0][:31], header, [row])
    for title, (h, r) in (
        ("listings_by_field", listing_rows(listings)),
        ("funnel", funnel_rows(funnel)),
        ("deals_by_field", deals_by_field_rows(deals)),
    ):
        _sheet(workbook, title, h, r)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _sheet(workbook: Workbook, title: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    sheet = workbook.create_sheet(title=title)
    sheet.append(list(header))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(list(row))
