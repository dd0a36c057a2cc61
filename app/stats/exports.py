"""Statistics as CSV and as an XLSX report (one sheet per indicator) for the annual report."""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font, numbers

from app.csv_text import csv_text
from app.engagements.stats import ServiceStatsResponse
from app.money import format_decimal
from app.stats.indicators import Period
from app.stats.schemas import (
    DealsByFieldResponse,
    ExpertStatsResponse,
    FunnelResponse,
    IndicatorsResponse,
    ListingStatsResponse,
)


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
    header = ["field", "units", "foreign_units", "listings", "proposed_for_city", *statuses]
    rows = [
        [r.field, r.units, r.foreign_units, r.listings, r.proposed_for_city, *(r.by_status.get(s, 0) for s in statuses)]
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


def expert_rows(report: ExpertStatsResponse) -> tuple[list[str], list[list[Any]]]:
    """One table: totals and requests first, then a row per country and per field."""
    header = ["section", "key", "experts", "overseas_vietnamese", "value"]
    rows: list[list[Any]] = [
        ["total", "experts", report.experts, report.overseas_vietnamese, None],
        ["total", "overseas_share", None, None, report.overseas_share],
        ["total", "stale", report.stale, None, None],
        ["requests", report.period, None, None, report.requests],
        ["requests", "accepted", None, None, report.requests_accepted],
        ["requests", "declined", None, None, report.requests_declined],
        ["requests", "pending", None, None, report.requests_pending],
        ["requests", "acceptance_rate", None, None, report.acceptance_rate],
    ]
    rows += [["country", r.country, r.experts, r.overseas_vietnamese, None] for r in report.by_country]
    rows += [["field", r.field.value, r.experts, None, None] for r in report.by_field]
    return header, rows


def csv_value(value: Any) -> Any:
    """A cell as people read it: whole numbers without `.0`, no exponents, lower-case booleans."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return format(Decimal(repr(value)), "f")
    if isinstance(value, Decimal):
        return format_decimal(value)  # as in the JSON answers
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


def to_csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """The statistics as CSV (`app.csv_text`), amounts and dates written as `csv_value` does."""
    return csv_text(header, ([csv_value(v) for v in row] for row in rows))


# Number formats of the workbook's cells (openpyxl's built-in ones, which Excel and LibreOffice localise).
PERCENT = numbers.FORMAT_PERCENTAGE_00  # 0.00%
THOUSANDS = numbers.BUILTIN_FORMATS[3]  # #,##0 — VND has no minor unit; counts
DECIMAL = numbers.FORMAT_NUMBER_00  # 0.00
DATE = numbers.FORMAT_DATE_YYYYMMDD2  # yyyy-mm-dd
DATETIME = numbers.FORMAT_DATE_DATETIME  # yyyy-mm-dd h:mm:ss (as the locale writes it)
UNIT_FORMAT = {"ratio": PERCENT, "VND": THOUSANDS, "count": THOUSANDS}


def to_xlsx(
    period: Period,
    indicators: IndicatorsResponse,
    listings: ListingStatsResponse,
    funnel: FunnelResponse,
    deals: DealsByFieldResponse,
    experts: ExpertStatsResponse,
    services: ServiceStatsResponse | None = None,
) -> bytes:
    """A sheet about the report, one per indicator, then the listings table, the funnel and deals by field.

    Cells hold numbers and dates, not text, with number formats: ratios as percentages, VND and
    counts with thousands separators, dates as dates."""
    workbook = Workbook()
    workbook.remove(workbook.active)  # type: ignore[arg-type]
    about: list[list[Any]] = [
        ["period", period.label],
        ["from", period.start],
        ["to", period.end - timedelta(days=1)],
        ["generated_at_utc", datetime.now(UTC).replace(tzinfo=None, microsecond=0)],
    ]
    _sheet(workbook, "report", ["item", "value"], about, {})
    header, rows = indicator_rows(indicators)
    for row in rows:
        unit_format = UNIT_FORMAT.get(row[header.index("unit")], DECIMAL)
        formats = {
            "value": unit_format,
            "target_2025": unit_format,
            "target_2030": unit_format,
            "numerator": THOUSANDS,
            "denominator": THOUSANDS,
        }
        _sheet(workbook, row[0][:31], header, [row], formats)
    listing_header, listing_table = listing_rows(listings)
    funnel_header, funnel_table = funnel_rows(funnel)
    deals_header, deals_table = deals_by_field_rows(deals)
    _sheet(workbook, "listings_by_field", listing_header, listing_table, {h: THOUSANDS for h in listing_header[1:]})
    funnel_formats = {
        h: PERCENT if h.startswith("conversion_") else DECIMAL if h.endswith("_hours") else THOUSANDS
        for h in funnel_header
        if h != "period"
    }
    _sheet(workbook, "funnel", funnel_header, funnel_table, funnel_formats)
    _sheet(workbook, "deals_by_field", deals_header, deals_table, {h: THOUSANDS for h in deals_header[2:]})
    if experts is not None:
        expert_header, expert_table = expert_rows(experts)
        _sheet(
            workbook, "experts", expert_header, expert_table, {"experts": THOUSANDS, "overseas_vietnamese": THOUSANDS}
        )
    if services is not None:
        _service_sheets(workbook, services)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _service_sheets(workbook: Workbook, report: ServiceStatsResponse) -> None:
    """Intermediary services by type and by provider, deals with a service, follow-up outcomes and the
    intermediary targets with their numerators."""
    by_type = [
        [report.period, r.service_type, r.requested, r.delivered, r.median_days_to_deliver] for r in report.by_type
    ]
    header = ["period", "service_type", "requested", "delivered", "median_days_to_deliver"]
    _sheet(workbook, "services_by_type", header, by_type, {"median_days_to_deliver": DECIMAL})
    header = ["period", "organization_id", "name", "quotes", "delivered", "average_rating"]
    rows = [
        [report.period, p.organization_id, p.name, p.quotes, p.delivered, p.average_rating] for p in report.by_provider
    ]
    _sheet(workbook, "services_by_provider", header, rows, {"average_rating": DECIMAL})
    follow = report.follow_up
    summary: list[list[Any]] = [
        ["deals_signed", report.deals.deals],
        ["deals_with_service", report.deals.with_service],
        ["share_with_service", report.deals.share],
        ["check_ins_due", follow.check_ins_due],
        ["check_in_reports", follow.reports],
        *[[f"reports_{status.value}", count] for status, count in follow.by_status.items()],
        ["jobs", follow.jobs],
        ["revenue_vnd", follow.revenue_vnd],
        ["cost_saved_vnd", follow.cost_saved_vnd],
        *[
            [f"{target.code}_{t['year']}", f"{target.numerator} (target {t['comparison']} {t['value']})"]
            for target in report.intermediaries
            for t in target.targets
        ],
    ]
    _sheet(workbook, "services_and_follow_up", ["item", "value"], summary, {})


def _cell(value: Any) -> Any:
    """A number given as a decimal string (money) becomes a number; other values stay as they are."""
    if isinstance(value, str):
        try:
            return Decimal(value)
        except InvalidOperation:
            return value
    if isinstance(value, Enum):
        return value.value
    return value


def _sheet(
    workbook: Workbook,
    title: str,
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    formats: Mapping[str, str],
) -> None:
    sheet = workbook.create_sheet(title=title)
    sheet.append(list(header))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([_cell(v) if header[i] in formats else v for i, v in enumerate(row)])
        for cell, name in zip(sheet[sheet.max_row], header, strict=True):
            if isinstance(cell.value, datetime):
                cell.number_format = DATETIME
            elif isinstance(cell.value, date):
                cell.number_format = DATE
            elif name in formats and isinstance(cell.value, int | float | Decimal) and not isinstance(cell.value, bool):
                cell.number_format = formats[name]
