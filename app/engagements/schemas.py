"""The service requests API contract: requests, quotes, delivery, ratings."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import ConfigDict, Field, StringConstraints, field_serializer, model_validator

from app.money import AmountIn, AmountOut, AmountText, CurrencyCode, format_amount
from app.schema_base import RequestModel, ResponseModel
from app.validation import Timestamp

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
