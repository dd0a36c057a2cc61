"""The service requests API contract: requests, quotes, delivery, ratings."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, StringConstraints, field_serializer, model_validator

from app.money import AmountIn, AmountOut, AmountText, CurrencyCode, DecimalString, format_amount
from app.schema_base import RequestModel, ResponseModel
from app.validation import Day, Timestamp
from app.vocabulary import FieldCode

Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000)]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]


class ServiceType(StrEnum):
    APPRAISAL = "appraisal"  # thẩm định
    VALUATION = "valuation"  # định giá
    LEGAL = "legal"
    IP = "ip"
    FINANCE = "finance"
    NEGOTIATION = "negotiation"
    CONTRACT_DRAFTING = "contract_drafting"
    TECHNOLOGY_ASSESSMENT = "technology_assessment"


class SubjectType(StrEnum):
    OFFER = "offer"
    DEMAND = "demand"
    INTEREST = "interest"
    DEAL = "deal"


class ServiceStatus(StrEnum):
    OPEN = "open"
    QUOTED = "quoted"
    ACCEPTED = "accepted"
    DELIVERED = "delivered"
    CLOSED = "closed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class QuoteStatus(StrEnum):
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class ProviderKind(StrEnum):
    """Who provides a service: an intermediary organisation (listed experts to follow)."""

    ORGANIZATION = "organization"


class ValuationMethod(StrEnum):
    COST = "cost"
    MARKET = "market"
    INCOME = "income"


_REQUEST_EXAMPLE: dict[str, Any] = {
    "service_type": "valuation",
    "subject_type": "offer",
    "subject_id": "3d9f7a1e-5b2c-4e8d-9a6f-1c2b3d4e5f60",
    "title": "Định giá giải pháp hữu ích vật liệu lọc asen trước khi cấp license",
    "description": "Cần khoảng giá trị để đàm phán phí license với 3 công ty cấp nước.",
    "quotes_until": "2026-12-31T17:00:00+07:00",
}


class ServiceRequestCreate(RequestModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_REQUEST_EXAMPLE]})

    service_type: ServiceType
    subject_type: SubjectType
    subject_id: uuid.UUID = Field(description="The offer, demand, interest or deal the service is about.")
    requester_organization_id: uuid.UUID | None = Field(
        default=None,
        description="The party asking; your organisation by default. A broker names its client (under mandate).",
    )
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=256)]
    description: Text | None = None
    quotes_until: Timestamp | None = Field(
        default=None, description="Quotes are taken until then; 30 days from now by default. Then it expires."
    )


class QuoteCreate(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "fee": "25000000",
                    "currency": "VND",
                    "days": 15,
                    "note": "Báo cáo định giá theo 3 cách tiếp cận.",
                }
            ]
        }
    )

    fee: AmountIn
    currency: Currency = "VND"
    days: int = Field(ge=1, le=365, description="Days to deliver once accepted.")
    note: Text | None = None
    provider_organization_id: uuid.UUID | None = Field(
        default=None, description="The intermediary quoting; your organisation by default."
    )


class QuoteAccept(RequestModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"quote_id": "6f5e4d3c-2b1a-4098-8f7e-6d5c4b3a2910"}]})

    quote_id: uuid.UUID


class ServiceResult(RequestModel):
    """What the provider delivers besides documents; a valuation states a range and the method behind it."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "summary": "Giá trị hợp lý của license 5 năm.",
                    "value_low": "320000000",
                    "value_high": "450000000",
                    "currency": "VND",
                    "method": "income",
                    "valuation_id": None,
                }
            ]
        }
    )

    summary: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
    value_low: AmountIn | None = None
    value_high: AmountIn | None = None
    currency: Currency | None = None
    method: ValuationMethod | None = Field(default=None, description="The approach that drives the range.")
    valuation_id: uuid.UUID | None = Field(default=None, description="The valuation worksheet behind the range.")

    @model_validator(mode="after")
    def _range(self) -> ServiceResult:
        if (self.value_low is None) != (self.value_high is None):
            raise ValueError("give both value_low and value_high, or neither")
        if self.value_low is not None and self.value_high is not None:
            if self.value_low > self.value_high:
                raise ValueError("value_low must not exceed value_high")
            if self.currency is None:
                raise ValueError("a value range needs its currency")
        return self


class Delivery(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"result": ServiceResult.model_config["json_schema_extra"]["examples"][0]}]}  # type: ignore[index]
    )

    result: ServiceResult


class RatingCreate(RequestModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"score": 5, "comment": "Đúng hạn, báo cáo rõ ràng."}]})

    score: int = Field(ge=1, le=5)
    comment: Text | None = None


class QuoteRead(ResponseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "6f5e4d3c-2b1a-4098-8f7e-6d5c4b3a2910",
                    "service_request_id": "1a2b3c4d-5e6f-4a8b-9c0d-1e2f3a4b5c6d",
                    "provider_kind": "organization",
                    "provider_organization_id": "7c6b5a49-3827-4f16-9e5d-4c3b2a190807",
                    "fee": "25000000",
                    "currency": "VND",
                    "days": 15,
                    "note": "Báo cáo định giá theo 3 cách tiếp cận.",
                    "status": "submitted",
                    "created_at": "2026-12-02T03:00:00Z",
                }
            ]
        },
    )

    id: uuid.UUID
    service_request_id: uuid.UUID
    provider_kind: ProviderKind
    provider_organization_id: uuid.UUID | None
    fee: AmountOut
    currency: CurrencyCode
    days: int
    note: str | None
    status: QuoteStatus
    created_at: datetime

    @field_serializer("fee")
    def serialize_fee(self, value: Decimal) -> AmountText | None:
        return format_amount(value, self.currency)


class ResultRead(ResponseModel):
    summary: str
    value_low: AmountOut | None
    value_high: AmountOut | None
    currency: CurrencyCode | None
    method: ValuationMethod | None
    valuation_id: uuid.UUID | None

    @field_serializer("value_low", "value_high")
    def serialize_value(self, value: Decimal | None) -> AmountText | None:
        return format_amount(value, self.currency)


class ServiceRequestRead(ResponseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **_REQUEST_EXAMPLE,
                    "id": "1a2b3c4d-5e6f-4a8b-9c0d-1e2f3a4b5c6d",
                    "requester_organization_id": "0b7d3f38-4f53-4c9f-9d2e-4f1f0f6b8c11",
                    "status": "accepted",
                    "provider_kind": "organization",
                    "provider_organization_id": "7c6b5a49-3827-4f16-9e5d-4c3b2a190807",
                    "accepted_quote_id": "6f5e4d3c-2b1a-4098-8f7e-6d5c4b3a2910",
                    "quotes": [QuoteRead.model_config["json_schema_extra"]["examples"][0]],  # type: ignore[index]
                    "accepted_at": "2026-12-03T03:00:00Z",
                    "delivered_at": None,
                    "closed_at": None,
                    "cancelled_at": None,
                    "result": None,
                    "requester_rating": None,
                    "requester_comment": None,
                    "provider_rating": None,
                    "provider_comment": None,
                    "version": 3,
                    "created_at": "2026-12-01T03:00:00Z",
                    "updated_at": "2026-12-03T03:00:00Z",
                }
            ]
        }
    )

    id: uuid.UUID
    service_type: ServiceType
    subject_type: SubjectType
    subject_id: uuid.UUID | None = Field(description="Null once the subject is deleted.")
    requester_organization_id: uuid.UUID | None = Field(
        description="Hidden (null) from providers while the subject is an anonymous listing whose owner has "
        "not accepted them."
    )
    title: str
    description: str | None
    quotes_until: datetime
    status: ServiceStatus
    provider_kind: ProviderKind | None
    provider_organization_id: uuid.UUID | None
    accepted_quote_id: uuid.UUID | None
    quotes: list[QuoteRead] = Field(description="All quotes for the requester's side; a provider sees its own.")
    accepted_at: datetime | None
    delivered_at: datetime | None
    closed_at: datetime | None
    cancelled_at: datetime | None
    result: ResultRead | None
    requester_rating: int | None = Field(description="The requester's rating of the provider, 1–5.")
    requester_comment: str | None
    provider_rating: int | None = Field(description="The provider's rating of the requester, 1–5.")
    provider_comment: str | None
    version: int
    created_at: datetime
    updated_at: datetime


# Valuation worksheets

Fraction = Annotated[Decimal, Field(ge=0, le=1, max_digits=9, decimal_places=6, description="A share, 0–1.")]
Rate = Annotated[Decimal, Field(ge=0, le=5, max_digits=9, decimal_places=6, description="A rate per year, 0–5.")]
Forecast = Annotated[list[AmountIn], Field(min_length=1, max_length=30)]


class CostItem(RequestModel):
    label: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    amount: AmountIn


class CostAssumptions(RequestModel):
    """Cost to recreate the technology today, less obsolescence (physical, functional, economic)."""

    items: Annotated[list[CostItem], Field(min_length=1, max_length=50)]
    obsolescence_low: Fraction
    obsolescence_high: Fraction

    @model_validator(mode="after")
    def _ordered(self) -> CostAssumptions:
        if self.obsolescence_low > self.obsolescence_high:
            raise ValueError("obsolescence_low must not exceed obsolescence_high")
        return self


class MarketAssumptions(RequestModel):
    """The platform's own comparable deals, times an adjustment for what differs (TRL, exclusivity …)."""

    adjustment: Annotated[Decimal, Field(gt=0, le=10, max_digits=9, decimal_places=6)] = Decimal(1)
    vnd_rate: Annotated[Decimal, Field(gt=0, max_digits=12, decimal_places=6)] | None = Field(
        default=None, description="VND per unit of the worksheet's currency; required unless it is VND."
    )


class IncomeAssumptions(RequestModel):
    """Relief from royalty over the revenue forecast (one amount a year; its length is the life), and a
    DCF of the technology's own cash flows when given."""

    revenue: Forecast
    life_years: int = Field(ge=1, le=30, description="Must equal the number of revenue years.")
    royalty_rate_low: Fraction
    royalty_rate_high: Fraction
    discount_rate: Rate
    tax_rate: Fraction
    cash_flows: Annotated[list[AmountIn], Field(max_length=30)] = Field(
        default_factory=list, description="Yearly pre-tax cash flows due to the technology, for the DCF."
    )

    @model_validator(mode="after")
    def _consistent(self) -> IncomeAssumptions:
        if len(self.revenue) != self.life_years:
            raise ValueError("give one revenue amount for each year of the life")
        if self.royalty_rate_low > self.royalty_rate_high:
            raise ValueError("royalty_rate_low must not exceed royalty_rate_high")
        return self


_VALUATION_EXAMPLE: dict[str, Any] = {
    "title": "Vật liệu lọc nano mangan oxit: giá trị license 5 năm",
    "field": "environment",
    "concepts": ["arsenic-removal"],
    "currency": "VND",
    "primary_method": None,
    "service_request_id": None,
    "cost": {
        "items": [{"label": "Nhân công R&D", "amount": "300000000"}, {"label": "Vật tư", "amount": "200000000"}],
        "obsolescence_low": "0.2",
        "obsolescence_high": "0.4",
    },
    "market": {"adjustment": "0.9", "vnd_rate": None},
    "income": {
        "revenue": ["1000000000", "1100000000"],
        "life_years": 2,
        "royalty_rate_low": "0.03",
        "royalty_rate_high": "0.05",
        "discount_rate": "0.1",
        "tax_rate": "0.2",
        "cash_flows": ["110000000", "121000000"],
    },
}


class ValuationCreate(RequestModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_VALUATION_EXAMPLE]})

    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=256)]
    field: FieldCode
    concepts: Annotated[list[Annotated[str, StringConstraints(max_length=64)]], Field(max_length=20)] = Field(
        default_factory=list, description="Taxonomy concepts; comparable deals sharing one are preferred."
    )
    currency: Currency = "VND"
    organization_id: uuid.UUID | None = Field(
        default=None, description="Whose worksheet it is; your organisation (or your mandating client) by default."
    )
    service_request_id: uuid.UUID | None = Field(default=None, description="The valuation request it answers.")
    primary_method: ValuationMethod | None = Field(
        default=None, description="The approach that drives the range; income, market, cost by default."
    )
    cost: CostAssumptions | None = None
    market: MarketAssumptions | None = None
    income: IncomeAssumptions | None = None


class RangeRead(ResponseModel):
    low: AmountOut
    high: AmountOut


class CostRead(ResponseModel):
    cost_to_recreate: AmountOut
    range: RangeRead


class MarketRead(ResponseModel):
    basis: Literal["concepts", "field"] = Field(description="Comparables of the same concepts, else of the field.")
    count: int = Field(description="Confirmed signed deals compared (anonymised: no deal is named).")
    p25: AmountOut | None = Field(description="Shown from three comparables on.")
    median: AmountOut | None
    p75: AmountOut | None
    range: RangeRead | None


class IncomeRead(ResponseModel):
    relief_from_royalty_low: AmountOut
    relief_from_royalty_high: AmountOut
    dcf: AmountOut | None
    discount_factors: list[DecimalString]
    range: RangeRead | None


class ValuationRead(ResponseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "4b3a2918-0706-4f5e-8d4c-3b2a19080706",
                    "organization_id": "0b7d3f38-4f53-4c9f-9d2e-4f1f0f6b8c11",
                    "title": _VALUATION_EXAMPLE["title"],
                    "field": "environment",
                    "concepts": ["arsenic-removal"],
                    "currency": "VND",
                    "service_request_id": None,
                    "assumptions": _VALUATION_EXAMPLE,
                    "cost": {"cost_to_recreate": "500000000", "range": {"low": "300000000", "high": "400000000"}},
                    "market": {
                        "basis": "concepts",
                        "count": 3,
                        "p25": "150000000",
                        "median": "200000000",
                        "p75": "300000000",
                        "range": {"low": "135000000", "high": "270000000"},
                    },
                    "income": {
                        "relief_from_royalty_low": "43636364",
                        "relief_from_royalty_high": "72727273",
                        "dcf": "160000000",
                        "discount_factors": ["0.9090909090909090909090909091", "0.8264462809917355371900826446"],
                        "range": {"low": "43636364", "high": "160000000"},
                    },
                    "driving_method": "income",
                    "range": {"low": "43636364", "high": "160000000"},
                    "disclaimer": "A valuation worksheet to prepare a negotiation … not an accredited appraisal.",
                    "created_at": "2026-12-02T03:00:00Z",
                    "updated_at": "2026-12-02T03:00:00Z",
                }
            ]
        }
    )

    id: uuid.UUID
    organization_id: uuid.UUID
    title: str
    field: str
    concepts: list[str]
    currency: CurrencyCode
    service_request_id: uuid.UUID | None
    assumptions: dict[str, Any] = Field(description="Every assumption as entered.")
    cost: CostRead | None
    market: MarketRead | None
    income: IncomeRead | None
    driving_method: ValuationMethod | None = Field(description="The approach whose range is the result.")
    range: RangeRead | None = Field(description="The result, in the worksheet's currency.")
    disclaimer: str
    created_at: datetime
    updated_at: datetime


# Follow-up after transfer


class MilestoneKind(StrEnum):
    DELIVERY = "delivery"
    INSTALLATION = "installation"
    TRAINING = "training"
    ACCEPTANCE = "acceptance"


class AdoptionStatus(StrEnum):
    """How the transferred technology fares, as a party reports it at a check-in."""

    IN_USE = "in_use"
    SCALED_UP = "scaled_up"
    PROBLEMS = "problems"
    ABANDONED = "abandoned"


class Side(StrEnum):
    SUPPLIER = "supplier"
    BUYER = "buyer"


class MilestoneWrite(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"due_on": "2026-12-15", "done_on": None, "note": "Giao 2 tấn vật liệu lọc"}]}
    )

    due_on: Day | None = None
    done_on: Day | None = None
    note: Text | None = None


class MilestoneRead(ResponseModel):
    kind: MilestoneKind
    due_on: date | None
    done_on: date | None
    note: str | None
    overdue: bool = Field(description="Due before today and not done.")


class CheckInReportWrite(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "status": "in_use",
                    "jobs": 4,
                    "revenue": "350000000",
                    "cost_saved": "80000000",
                    "currency": "VND",
                    "note": "Trạm cấp nước xã An Lư vận hành ổn định.",
                }
            ]
        }
    )

    status: AdoptionStatus
    jobs: int | None = Field(default=None, ge=0, le=1_000_000, description="Jobs created or kept thanks to it.")
    revenue: AmountIn | None = Field(default=None, description="Revenue it brought since signature.")
    cost_saved: AmountIn | None = Field(default=None, description="Costs it saved since signature.")
    currency: Currency = "VND"
    note: Text | None = None


class CheckInReportRead(ResponseModel):
    model_config = ConfigDict(from_attributes=True)

    side: Side
    organization_id: uuid.UUID
    status: AdoptionStatus
    jobs: int | None
    revenue: AmountOut | None
    cost_saved: AmountOut | None
    currency: CurrencyCode
    note: str | None
    reported_at: datetime

    @field_serializer("revenue", "cost_saved")
    def serialize_amount(self, value: Decimal | None) -> AmountText | None:
        return format_amount(value, self.currency)


class CheckInRead(ResponseModel):
    month: int = Field(description="Months after signature: 3, 6 or 12.")
    due_on: date
    opens_on: date = Field(description="Reports are taken from this day on.")
    overdue: bool = Field(description="A party has not reported within the grace period after the due date.")
    supplier: CheckInReportRead | None
    buyer: CheckInReportRead | None


class FollowUpRead(ResponseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "deal_id": "2a3b4c5d-6e7f-4081-9a2b-3c4d5e6f7081",
                    "signed_on": "2026-10-15",
                    "milestones": [
                        {
                            "kind": "delivery",
                            "due_on": "2026-11-15",
                            "done_on": "2026-11-10",
                            "note": None,
                            "overdue": False,
                        },
                        {"kind": "installation", "due_on": None, "done_on": None, "note": None, "overdue": False},
                        {"kind": "training", "due_on": None, "done_on": None, "note": None, "overdue": False},
                        {"kind": "acceptance", "due_on": None, "done_on": None, "note": None, "overdue": False},
                    ],
                    "check_ins": [
                        {
                            "month": 3,
                            "due_on": "2027-01-15",
                            "opens_on": "2026-12-16",
                            "overdue": False,
                            "supplier": None,
                            "buyer": None,
                        }
                    ],
                }
            ]
        }
    )

    deal_id: uuid.UUID
    signed_on: date | None
    milestones: list[MilestoneRead] = Field(description="Empty until the deal is signed.")
    check_ins: list[CheckInRead] = Field(description="At 3, 6 and 12 months after signature; empty until signed.")
