"""The interests and deals API contract."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import ConfigDict, Field, StringConstraints, field_serializer

from app.money import AmountIn, AmountOut, AmountText, CurrencyCode, DecimalString, VndAmount, format_amount
from app.schema_base import RequestModel, ResponseModel
from app.validation import Day
from app.vocabulary import CountryCode, FieldCode

Body = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]


class InterestStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"


class DeclineReason(StrEnum):
    NOT_RELEVANT = "not_relevant"
    INSUFFICIENT_INFORMATION = "insufficient_information"
    NOT_AVAILABLE = "not_available"
    TERMS_NOT_ACCEPTABLE = "terms_not_acceptable"
    ALREADY_IN_NEGOTIATION = "already_in_negotiation"
    OTHER = "other"


class InterestCreate(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "listing_id": "3d9f7a1e-5b2c-4e8d-9a6f-1c2b3d4e5f60",
                    "message": "Chúng tôi cần vật liệu lọc asen cho 3 trạm cấp nước; "
                    "xin báo giá và điều kiện chuyển giao.",
                }
            ]
        }
    )

    listing_id: uuid.UUID
    message: Body


class InterestDecline(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"reason": "not_available", "message": "Công nghệ đã chuyển giao độc quyền."}]}
    )

    reason: DeclineReason
    message: Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000)] | None = None


class MessageCreate(RequestModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"body": "Xin gửi hồ sơ kỹ thuật kèm theo."}]})

    body: Body


class MessageRead(ResponseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "5e4d3c2b-1a09-4f8e-9d7c-6b5a4f3e2d1c",
                    "interest_id": "8f7e6d5c-4b3a-4291-8f7e-6d5c4b3a2918",
                    "author_organization_id": "0b7d3f38-4f53-4c9f-9d2e-4f1f0f6b8c11",
                    "author_account_id": "6a1c0f4e-2b7d-4c36-9f58-1d2e3f4a5b6c",
                    "body": "Xin gửi hồ sơ kỹ thuật kèm theo.",
                    "created_at": "2026-11-23T03:00:00Z",
                }
            ]
        },
    )

    id: uuid.UUID
    interest_id: uuid.UUID
    author_organization_id: uuid.UUID | None = Field(
        description="Hidden (null) for the owner of an anonymous listing until it accepts the interest."
    )
    author_account_id: uuid.UUID | None
    body: str
    created_at: datetime


class InterestRead(ResponseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "8f7e6d5c-4b3a-4291-8f7e-6d5c4b3a2918",
                    "listing_id": "3d9f7a1e-5b2c-4e8d-9a6f-1c2b3d4e5f60",
                    "listing_owner_id": "0b7d3f38-4f53-4c9f-9d2e-4f1f0f6b8c11",
                    "from_organization_id": "5c4b3a29-1807-4f6e-9d5c-4b3a29180706",
                    "message": "Chúng tôi cần vật liệu lọc asen cho 3 trạm cấp nước.",
                    "status": "pending",
                    "decline_reason": None,
                    "created_at": "2026-11-20T03:00:00Z",
                    "decided_at": None,
                    "response_hours": None,
                    "unanswered": False,
                }
            ]
        },
    )

    id: uuid.UUID
    listing_id: uuid.UUID
    listing_owner_id: uuid.UUID | None = Field(
        description="Hidden (null) from the sender of an anonymous listing's interest until accepted."
    )
    from_organization_id: uuid.UUID
    message: str
    status: InterestStatus
    decline_reason: DeclineReason | None
    created_at: datetime
    decided_at: datetime | None
    response_hours: float | None = Field(description="Hours from the interest to the owner's answer.")
    unanswered: bool = Field(description="Still pending after the response window (INTEREST_RESPONSE_DAYS).")


class DealSource(StrEnum):
    INTEREST = "interest"
    MATCH = "match"
    MEETING = "meeting"
    DIRECT = "direct"


class DealType(StrEnum):
    LICENCE = "licence"
    TECHNOLOGY_ASSIGNMENT = "technology_assignment"
    IP_ASSIGNMENT = "ip_assignment"
    JOINT_VENTURE = "joint_venture"
    TECHNICAL_COOPERATION = "technical_cooperation"
    RD_COOPERATION = "rd_cooperation"
    CONSULTING_SERVICES = "consulting_services"
    TURNKEY_EQUIPMENT = "turnkey_equipment"


class DealStage(StrEnum):
    NEGOTIATING = "negotiating"
    SIGNED = "signed"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class DealConfirmation(StrEnum):
    """Whether a deal counts in the statistics: only `confirmed` ones do."""

    UNCONFIRMED = "unconfirmed"  # a party (itself or through its mandated broker) has yet to confirm
    AWAITING_MODERATOR = "awaiting_moderator"  # both parties confirmed a value above the plausibility bound
    CONFIRMED = "confirmed"


class DealOrigin(StrEnum):
    DOMESTIC_INSTITUTE_UNIVERSITY = "domestic_institute_university"
    DOMESTIC_ENTERPRISE = "domestic_enterprise"
    IMPORTED = "imported"


Money = AmountIn
# Below 1,000,000 VND per unit: a value (below 10^16) times the rate fits `value_vnd` (22 integer digits).
Rate = Annotated[
    Decimal, Field(gt=0, max_digits=12, decimal_places=6, description="VND per unit of `currency`, below 1,000,000.")
]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]

_DEAL_EXAMPLE: dict[str, Any] = {
    "source": "interest",
    "interest_id": "8f7e6d5c-4b3a-4291-8f7e-6d5c4b3a2918",
    "offer_id": "3d9f7a1e-5b2c-4e8d-9a6f-1c2b3d4e5f60",
    "supplier_organization_id": "0b7d3f38-4f53-4c9f-9d2e-4f1f0f6b8c11",
    "buyer_organization_id": "5c4b3a29-1807-4f6e-9d5c-4b3a29180706",
    "broker_organization_id": None,
    "title": "Chuyển giao vật liệu lọc asen cho 3 trạm cấp nước",
    "deal_type": "licence",
    "field": "environment",
    "value": "850000000",
    "currency": "VND",
    "stage": "signed",
    "signed_on": "2026-10-15",
    "ip_transferred": True,
    "origin": "domestic_institute_university",
    "origin_country": "VN",
    "confidential": False,
}


class DealCreate(RequestModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_DEAL_EXAMPLE]})

    source: DealSource = DealSource.DIRECT
    source_reference: Annotated[str, StringConstraints(max_length=64)] | None = Field(
        default=None, description="The match or meeting the deal came from, when not an interest."
    )
    interest_id: uuid.UUID | None = None
    offer_id: uuid.UUID | None = None
    demand_id: uuid.UUID | None = None
    supplier_organization_id: uuid.UUID | None = Field(default=None, description="The offer's owner by default.")
    buyer_organization_id: uuid.UUID | None = Field(
        default=None, description="The demand's owner or the interested party by default."
    )
    broker_organization_id: uuid.UUID | None = Field(default=None, description="An intermediary acting under mandate.")
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=256)] | None = None
    deal_type: DealType
    field: FieldCode | None = Field(default=None, description="The offer's field by default.")
    value: Money | None = None
    currency: Currency = "VND"
    vnd_rate: Rate | None = Field(
        default=None, description="VND per unit of `currency`; the year's recorded rate when omitted."
    )
    stage: DealStage = DealStage.NEGOTIATING
    signed_on: Day | None = None
    started_on: Day | None = None
    completed_on: Day | None = None
    ip_transferred: bool = False
    origin: DealOrigin | None = Field(default=None, description="Derived from the offer when omitted.")
    origin_country: CountryCode | None = Field(default=None, description="The supplier's country by default.")
    confidential: bool = Field(default=False, description="Value hidden from public breakdowns, counted in totals.")
    notes: Annotated[str, StringConstraints(max_length=4000)] | None = None


class DealUpdate(RequestModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"value": "900000000", "confidential": True}]})

    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=256)] | None = None
    deal_type: DealType | None = None
    field: FieldCode | None = None
    value: Money | None = None
    currency: Currency | None = None
    vnd_rate: Rate | None = None
    ip_transferred: bool | None = None
    origin: DealOrigin | None = None
    origin_country: CountryCode | None = None
    confidential: bool | None = None
    notes: Annotated[str, StringConstraints(max_length=4000)] | None = None


class StageChange(RequestModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"stage": "signed", "on": "2026-10-15"}]})

    stage: DealStage
    on: Day | None = Field(default=None, description="The date of the step; today by default.")


class DealRead(ResponseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    **_DEAL_EXAMPLE,
                    "id": "2a3b4c5d-6e7f-4081-9a2b-3c4d5e6f7081",
                    "reference": "GD-2026-0001",
                    "demand_id": None,
                    "source_reference": None,
                    "vnd_rate": "1",
                    "value_vnd": "850000000",
                    "started_on": None,
                    "completed_on": None,
                    "cancelled_on": None,
                    "developed_economy": False,
                    "confirmation": "confirmed",
                    "supplier_confirmed_at": "2026-10-01T02:00:00Z",
                    "buyer_confirmed_at": "2026-10-02T09:30:00Z",
                    "moderator_confirmed_at": None,
                    "version": 2,
                    "notes": None,
                    "created_at": "2026-10-01T02:00:00Z",
                    "updated_at": "2026-10-15T02:00:00Z",
                }
            ]
        },
    )

    id: uuid.UUID
    reference: str
    source: DealSource
    source_reference: str | None
    interest_id: uuid.UUID | None
    offer_id: uuid.UUID | None
    demand_id: uuid.UUID | None
    supplier_organization_id: uuid.UUID
    buyer_organization_id: uuid.UUID
    broker_organization_id: uuid.UUID | None
    title: str
    deal_type: DealType
    field: FieldCode
    value: AmountOut | None
    currency: CurrencyCode
    vnd_rate: DecimalString
    value_vnd: VndAmount | None
    stage: DealStage
    signed_on: date | None
    started_on: date | None
    completed_on: date | None
    cancelled_on: date | None
    ip_transferred: bool
    origin: DealOrigin
    origin_country: str
    developed_economy: bool = Field(description="The origin country is an advanced economy (IMF list).")
    confidential: bool
    confirmation: DealConfirmation = Field(
        description="Only confirmed deals count in the statistics: confirmed by both parties (each itself or "
        "through its mandated broker) or by a moderator, and by a moderator when the value is above the "
        "plausibility bound."
    )
    supplier_confirmed_at: datetime | None
    buyer_confirmed_at: datetime | None
    moderator_confirmed_at: datetime | None
    version: int
    notes: str | None
    created_at: datetime
    updated_at: datetime

    @field_serializer("value")
    def serialize_value(self, value: Decimal | None) -> AmountText | None:
        return format_amount(value, self.currency)
