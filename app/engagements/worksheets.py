"""Valuation worksheets: kept as their assumptions, computed when read (the market moves), exported as XLSX."""

from __future__ import annotations

import io
import uuid
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.authorization import actor_for_organization
from app.accounts.permissions import Principal
from app.audit import service as audit
from app.audit.service import AuditAction
from app.engagements import repository
from app.engagements.schemas import (
    CostAssumptions,
    CostRead,
    IncomeAssumptions,
    IncomeRead,
    MarketAssumptions,
    MarketRead,
    RangeRead,
    ValuationCreate,
    ValuationRead,
)
from app.engagements.service import _acts_for
from app.engagements.valuation import (
    DISCLAIMER,
    CostInputs,
    IncomeInputs,
    MarketInputs,
    Range,
    Worksheet,
    rounded,
    worksheet,
)
from app.errors import InvalidInputError, NotFoundError
from app.models import Valuation
from app.money import minor_units
from app.pagination import PageParams

RECORD_TYPE = "valuation"


class ValuationNotFoundError(NotFoundError):
    code = "ValuationNotFound"
    title = "Valuation not found"


def _range(value: Range | None) -> RangeRead | None:
    return RangeRead(low=value.low, high=value.high) if value else None


class ValuationService:
    async def create(self, session: AsyncSession, principal: Principal, payload: ValuationCreate) -> Valuation:
        owner_id = payload.organization_id or principal.organization_id
        actor = await actor_for_organization(session, principal, owner_id)
        if payload.market and payload.currency != "VND" and payload.market.vnd_rate is None:
            raise InvalidInputError.for_field(
                ["body", "market", "vnd_rate"], "required when the currency is not VND", "missing"
            )
        if payload.service_request_id is not None:
            request = await repository.get_request(session, payload.service_request_id)
            parties = (request.requester_organization_id, request.provider_organization_id) if request else ()
            if request is None or owner_id not in parties:
                raise InvalidInputError.for_field(
                    ["body", "service_request_id"], "no such request of this organisation", "not_found"
                )
        valuation = Valuation(
            organization_id=owner_id,
            created_by_account_id=principal.account_id,
            service_request_id=payload.service_request_id,
            title=payload.title,
            field=payload.field.value,
            concepts=list(payload.concepts),
            currency=payload.currency,
            inputs=payload.model_dump(mode="json", exclude={"organization_id"}),
        )
        session.add(valuation)
        await session.flush()
        audit.record(
            session, actor, AuditAction.CREATE, RECORD_TYPE, valuation.id, audit.snapshot({"title": valuation.title})
        )
        return valuation

    async def get(self, session: AsyncSession, principal: Principal, valuation_id: uuid.UUID) -> Valuation:
        """The owner's side and moderators; the other party of the service request it answers too."""
        valuation = await repository.get_valuation(session, valuation_id)
        if valuation is None:
            raise ValuationNotFoundError()
        if await _acts_for(session, principal, valuation.organization_id) is not None:
            return valuation
        if valuation.service_request_id is not None:
            request = await repository.get_request(session, valuation.service_request_id)
            if request is not None:
                for party in (request.requester_organization_id, request.provider_organization_id):
                    if await _acts_for(session, principal, party) is not None:
                        return valuation
        raise ValuationNotFoundError()

    async def list_page(
        self, session: AsyncSession, principal: Principal, page: PageParams
    ) -> tuple[list[Valuation], int]:
        scope = None if principal.is_staff else principal.organization_id
        return await repository.list_valuations(session, scope, page)

    async def compute(self, session: AsyncSession, valuation: Valuation) -> Worksheet:
        inputs = valuation.inputs
        places = minor_units(valuation.currency)
        cost = CostAssumptions.model_validate(inputs["cost"]) if inputs.get("cost") else None
        market = MarketAssumptions.model_validate(inputs["market"]) if inputs.get("market") else None
        income = IncomeAssumptions.model_validate(inputs["income"]) if inputs.get("income") else None
        market_inputs = None
        if market is not None:
            rate = market.vnd_rate or Decimal(1)
            deals = await repository.comparable_deals(session, valuation.field)
            market_inputs = MarketInputs(
                [(concepts, value / rate) for concepts, value in deals], valuation.concepts, market.adjustment
            )
        return worksheet(
            CostInputs([(i.label, i.amount) for i in cost.items], cost.obsolescence_low, cost.obsolescence_high)
            if cost
            else None,
            market_inputs,
            IncomeInputs(
                income.revenue,
                income.royalty_rate_low,
                income.royalty_rate_high,
                income.discount_rate,
                income.tax_rate,
                income.cash_flows,
            )
            if income
            else None,
            places,
            inputs.get("primary_method"),
        )

    async def present(self, session: AsyncSession, valuation: Valuation) -> ValuationRead:
        result = await self.compute(session, valuation)
        cost, market, income = result.cost, result.market, result.income
        return ValuationRead(
            id=valuation.id,
            organization_id=valuation.organization_id,
            title=valuation.title,
            field=valuation.field,
            concepts=valuation.concepts,
            currency=valuation.currency,
            service_request_id=valuation.service_request_id,
            assumptions=valuation.inputs,
            cost=CostRead(
                cost_to_recreate=cost.cost_to_recreate, range=RangeRead(low=cost.range.low, high=cost.range.high)
            )
            if cost
            else None,
            market=MarketRead(
                basis=market.basis,
                count=market.count,
                p25=market.quartiles[0] if market.quartiles else None,
                median=market.quartiles[1] if market.quartiles else None,
                p75=market.quartiles[2] if market.quartiles else None,
                range=_range(market.range),
            )
            if market
            else None,
            income=IncomeRead(
                relief_from_royalty_low=income.royalty_low,
                relief_from_royalty_high=income.royalty_high,
                dcf=income.dcf,
                discount_factors=[rounded(f, 10) for f in income.discount_factors],
                range=_range(income.range),
            )
            if income
            else None,
            driving_method=result.driving_method,
            range=_range(result.range),
            disclaimer=DISCLAIMER,
            created_at=valuation.created_at,
            updated_at=valuation.updated_at,
        )

    @staticmethod
    def to_xlsx(read: ValuationRead) -> bytes:
        """One sheet per approach with its assumptions and results, and a summary sheet first."""
        book = Workbook()
        summary = book.active
        assert summary is not None
        summary.title = "Summary"
        bold = Font(bold=True)

        def rows(sheet: Any, data: list[list[Any]]) -> None:
            for row in data:
                sheet.append([_cell(v) for v in row])
            sheet["A1"].font = bold
            sheet.column_dimensions["A"].width = 36
            sheet.column_dimensions["B"].width = 24

        rows(
            summary,
            [
                ["Valuation worksheet", read.title],
                ["Currency", read.currency],
                ["Field", read.field],
                ["Driving method", read.driving_method.value if read.driving_method else None],
                ["Range low", read.range.low if read.range else None],
                ["Range high", read.range.high if read.range else None],
                [],
                ["Method", "Low", "High"],
                *[
                    [
                        name,
                        part.range.low if part and part.range else None,
                        part.range.high if part and part.range else None,
                    ]
                    for name, part in (("cost", read.cost), ("market", read.market), ("income", read.income))
                ],
                [],
                ["Note", read.disclaimer],
            ],
        )
        assumptions = read.assumptions
        if read.cost and assumptions.get("cost"):
            cost = assumptions["cost"]
            rows(
                book.create_sheet("Cost"),
                [
                    ["Cost approach", "Amount"],
                    *[[item["label"], item["amount"]] for item in cost["items"]],
                    ["Cost to recreate", read.cost.cost_to_recreate],
                    ["Obsolescence (low)", cost["obsolescence_low"]],
                    ["Obsolescence (high)", cost["obsolescence_high"]],
                    ["Value low", read.cost.range.low],
                    ["Value high", read.cost.range.high],
                ],
            )
        if read.market:
            market = read.market
            rows(
                book.create_sheet("Market"),
                [
                    ["Market approach", "Value"],
                    ["Comparables basis", market.basis],
                    ["Comparable deals", market.count],
                    ["25th percentile", market.p25],
                    ["Median", market.median],
                    ["75th percentile", market.p75],
                    ["Adjustment", (assumptions.get("market") or {}).get("adjustment")],
                    ["Value low", market.range.low if market.range else None],
                    ["Value high", market.range.high if market.range else None],
                ],
            )
        if read.income and assumptions.get("income"):
            income = assumptions["income"]
            years = range(1, len(income["revenue"]) + 1)
            rows(
                book.create_sheet("Income"),
                [
                    ["Income approach", "Value"],
                    ["Royalty rate (low)", income["royalty_rate_low"]],
                    ["Royalty rate (high)", income["royalty_rate_high"]],
                    ["Discount rate", income["discount_rate"]],
                    ["Tax rate", income["tax_rate"]],
                    ["Life (years)", income["life_years"]],
                    [],
                    ["Year", "Revenue", "Cash flow", "Discount factor"],
                    *[
                        [
                            year,
                            income["revenue"][year - 1],
                            income["cash_flows"][year - 1] if year <= len(income["cash_flows"]) else None,
                            read.income.discount_factors[year - 1],
                        ]
                        for year in years
                    ],
                    [],
                    ["Relief from royalty (low)", read.income.relief_from_royalty_low],
                    ["Relief from royalty (high)", read.income.relief_from_royalty_high],
                    ["DCF", read.income.dcf],
                ],
            )
        buffer = io.BytesIO()
        book.save(buffer)
        return buffer.getvalue()


def _cell(value: Any) -> Any:
    """Amounts and rates go into the sheet as exact numbers (the XML keeps the decimal's digits)."""
    if isinstance(value, str) and value and (value[0].isdigit()):
        try:
            return Decimal(value)
        except ArithmeticError:
            return value
    return value


valuation_service = ValuationService()
