"""Market statistics: the programme indicators with their targets, listings, funnel and deals, as JSON, CSV or XLSX."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from app.api.deps import CurrentPrincipal, SessionDep, SettingsDep
from app.api.idempotency import ExchangeRoute
from app.api.openapi import declare_headers, declare_problems
from app.deals.schemas import DealRead
from app.engagements.stats import ServiceStatsResponse, service_stats
from app.errors import InvalidInputError, problem_responses
from app.models.base import utcnow
from app.pagination import LinksDep, Page, PageDep, window
from app.stats import exports
from app.stats.indicators import Period
from app.stats.schemas import (
    DealsByFieldResponse,
    ExpertStatsResponse,
    FunnelResponse,
    IndicatorsResponse,
    ListingStatsResponse,
)
from app.stats.service import stats_service

router = APIRouter(prefix="/stats", tags=["stats"], route_class=ExchangeRoute)
Format = Annotated[Literal["json", "csv"], Query(alias="format", description="`csv` for a spreadsheet-ready table.")]
CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {"schema": {"type": "string"}, "example": "code,label_vi,...\n"}}}
}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class XlsxResponse(Response):
    media_type = XLSX


# The years `year` accepts; a range's previous period of equal length stays within dates Python can reckon.
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2101, 1, 1)


def _period(
    year: Annotated[
        int | None, Query(ge=2000, le=2100, description="A calendar year (the current one by default).")
    ] = None,
    from_date: Annotated[
        date | None,
        Query(alias="from", ge=FIRST_DAY, le=LAST_DAY, description="Start of a custom range (inclusive)."),
    ] = None,
    to_date: Annotated[
        date | None,
        Query(alias="to", ge=FIRST_DAY, le=LAST_DAY, description="End of a custom range (exclusive)."),
    ] = None,
) -> Period:
    if from_date or to_date:
        if not (from_date and to_date) or from_date >= to_date:
            raise InvalidInputError.for_field(
                ["query", "to"], "give both from and to, with from before to", "value_error"
            )
        return Period(from_date, to_date)
    return Period.year(year or utcnow().year)


PeriodDep = Annotated[Period, Depends(_period)]


def _csv(header: list[str], rows: list[list[Any]], name: str) -> Response:
    return Response(
        exports.to_csv(header, rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


@router.get(
    "/indicators",
    summary="Market indicators and their targets",
    response_model=IndicatorsResponse,
    responses={**problem_responses(422), **CSV_RESPONSE},
)
async def get_indicators(session: SessionDep, period: PeriodDep, output: Format = "json") -> Any:
    """Each indicator of the city programme with its value, numerator, denominator and the 2025/2030 targets."""
    report = await stats_service.indicators(session, period)
    return _csv(*exports.indicator_rows(report), f"indicators-{period.label}") if output == "csv" else report


@router.get(
    "/listings",
    summary="Listings by field and status",
    response_model=ListingStatsResponse,
    responses={**problem_responses(422), **CSV_RESPONSE},
)
async def get_listing_stats(
    session: SessionDep, kind: Annotated[Literal["offer", "demand"], Query()] = "offer", output: Format = "json"
) -> Any:
    """Organisations, listings and those proposed for the city, per field (the survey table), with statuses."""
    report = await stats_service.listings(session, kind)
    return _csv(*exports.listing_rows(report), f"listings-{kind}") if output == "csv" else report


@router.get(
    "/funnel",
    summary="From interest to deal",
    response_model=FunnelResponse,
    responses={**problem_responses(422), **CSV_RESPONSE},
)
async def get_funnel(session: SessionDep, settings: SettingsDep, period: PeriodDep, output: Format = "json") -> Any:
    """Interests, acceptances and deals in the period, conversion rates and the median response time."""
    report = await stats_service.funnel(session, period, settings.interest_response_days)
    return _csv(*exports.funnel_rows(report), f"funnel-{period.label}") if output == "csv" else report


@router.get(
    "/deals-by-field",
    summary="Deals by field",
    response_model=DealsByFieldResponse,
    responses={**problem_responses(422), **CSV_RESPONSE},
)
async def get_deals_by_field(session: SessionDep, period: PeriodDep, output: Format = "json") -> Any:
    """Signed deals per field; confidential values are left out of the per-field values but kept in the total."""
    report = await stats_service.deals_by_field(session, period)
    return _csv(*exports.deals_by_field_rows(report), f"deals-by-field-{period.label}") if output == "csv" else report


@router.get(
    "/experts",
    summary="The expert network",
    response_model=ExpertStatsResponse,
    responses={**problem_responses(422), **CSV_RESPONSE},
)
async def get_expert_stats(
    session: SessionDep, settings: SettingsDep, period: PeriodDep, output: Format = "json"
) -> Any:
    """Experts by country and field, the overseas Vietnamese share, and the period's consultation requests
    with their acceptance rate (accepted among answered)."""
    report = await stats_service.experts(session, period, settings.expert_stale_days)
    return _csv(*exports.expert_rows(report), f"experts-{period.label}") if output == "csv" else report


@router.get(
    "/deals",
    summary="Deal-level detail (moderators)",
    response_model=Page[DealRead],
    responses={**problem_responses(401, 403, 422), **CSV_RESPONSE},
)
async def get_deal_detail(
    session: SessionDep,
    principal: CurrentPrincipal,
    period: PeriodDep,
    page: PageDep,
    links: LinksDep,
    output: Format = "json",
) -> Any:
    """Every confirmed deal signed in the period with its value, confidential ones included; the CSV holds
    them all, the JSON a page."""
    deals = [DealRead.model_validate(d) for d in await stats_service.deals_detail(session, principal, period)]
    if output == "csv":
        header = list(DealRead.model_fields)
        rows = [[dumped[h] for h in header] for dumped in (d.model_dump(mode="json") for d in deals)]
        return _csv(header, rows, f"deals-{period.label}")
    shown, total = window(deals, page)
    return links(Page.of(shown, total, page))


@router.get(
    "/services",
    summary="Intermediary services and follow-up",
    response_model=ServiceStatsResponse,
    responses=problem_responses(422),
)
async def get_service_stats(session: SessionDep, period: PeriodDep) -> ServiceStatsResponse:
    """Services by type and by provider with time to deliver, the share of deals with a service, follow-up
    outcomes after transfer, and the intermediary targets with their numerators."""
    return await service_stats(session, period)


@router.get(
    "/report.xlsx",
    summary="Annual report workbook",
    response_class=XlsxResponse,
    responses={200: {"content": {XLSX: {"schema": {"type": "string", "format": "binary"}}}}, **problem_responses(422)},
)
async def get_report(session: SessionDep, settings: SettingsDep, period: PeriodDep) -> Response:
    """An XLSX workbook: one sheet per indicator, then listings by field, the funnel, deals by field and the
    expert network."""
    content = exports.to_xlsx(
        period,
        await stats_service.indicators(session, period),
        await stats_service.listings(session, "offer"),
        await stats_service.funnel(session, period, settings.interest_response_days),
        await stats_service.deals_by_field(session, period),
        await stats_service.experts(session, period, settings.expert_stale_days),
        await service_stats(session, period),
    )
    return XlsxResponse(content, headers={"Content-Disposition": f'attachment; filename="techex-{period.label}.xlsx"'})


# Every statistics endpoint reads a period (refused when out of range) and can answer a download.
_REPORTS = (
    "get_service_stats",
    "get_indicators",
    "get_listing_stats",
    "get_funnel",
    "get_deals_by_field",
    "get_expert_stats",
    "get_deal_detail",
    "get_report",
)
declare_problems(router, {name: [InvalidInputError] for name in _REPORTS})
declare_headers(router, {name: ["Content-Disposition"] for name in _REPORTS if name != "get_service_stats"})
