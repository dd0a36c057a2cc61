"""Valuation worksheets: cost, market and income approaches side by side, as JSON or XLSX."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from app.accounts.authorization import NotYourOrganizationError
from app.api.deps import CurrentPrincipal, SessionDep
from app.api.idempotency import ExchangeRoute
from app.api.openapi import declare_headers, declare_problems
from app.engagements.schemas import ValuationCreate, ValuationRead
from app.engagements.worksheets import ValuationNotFoundError, valuation_service
from app.errors import InvalidInputError, problem_responses
from app.pagination import LinksDep, Page, PageDep

router = APIRouter(prefix="/valuations", tags=["valuations"], route_class=ExchangeRoute)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class XlsxResponse(Response):
    media_type = XLSX


@router.post(
    "",
    summary="Create a valuation worksheet",
    status_code=status.HTTP_201_CREATED,
    response_model=ValuationRead,
    responses=problem_responses(401, 403, 422),
)
async def create_valuation(payload: ValuationCreate, principal: CurrentPrincipal, session: SessionDep) -> ValuationRead:
    """Enter the assumptions of any of the three approaches; the results are computed, the market approach
    from the platform's own confirmed deals. A worksheet, never an accredited appraisal."""
    valuation = await valuation_service.create(session, principal, payload)
    return await valuation_service.present(session, valuation)


@router.get(
    "", summary="List valuation worksheets", response_model=Page[ValuationRead], responses=problem_responses(401, 422)
)
async def list_valuations(
    principal: CurrentPrincipal, session: SessionDep, page: PageDep, links: LinksDep
) -> Page[ValuationRead]:
    """Your organisation's worksheets, newest first (moderators: all)."""
    items, total = await valuation_service.list_page(session, principal, page)
    return links(Page.of([await valuation_service.present(session, v) for v in items], total, page))


@router.get(
    "/{valuation_id}",
    summary="Get a valuation worksheet",
    response_model=ValuationRead,
    responses=problem_responses(401, 404, 422),
)
async def get_valuation(valuation_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep) -> ValuationRead:
    """One worksheet, recomputed now (the comparable deals move with the market)."""
    valuation = await valuation_service.get(session, principal, valuation_id)
    return await valuation_service.present(session, valuation)


@router.get(
    "/{valuation_id}/xlsx",
    summary="Download a valuation worksheet",
    response_class=XlsxResponse,
    responses={
        200: {"content": {XLSX: {"schema": {"type": "string", "format": "binary"}}}},
        **problem_responses(401, 404, 422),
    },
)
async def export_valuation(valuation_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep) -> Response:
    """The worksheet as an XLSX workbook: a summary, then one sheet per approach with its assumptions."""
    valuation = await valuation_service.get(session, principal, valuation_id)
    content = valuation_service.to_xlsx(await valuation_service.present(session, valuation))
    return XlsxResponse(
        content, headers={"Content-Disposition": f'attachment; filename="valuation-{valuation.id}.xlsx"'}
    )


declare_problems(
    router,
    {
        "create_valuation": [NotYourOrganizationError, InvalidInputError],
        "get_valuation": [ValuationNotFoundError],
        "export_valuation": [ValuationNotFoundError],
    },
)
declare_headers(router, {"export_valuation": ["Content-Disposition"]})
