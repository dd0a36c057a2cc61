"""The statistics API contract."""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field

from app.listings.schemas import ListingKind
from app.money import DecimalString, VndAmount
from app.schema_base import ResponseModel
from app.vocabulary import FieldCode

IndicatorCode = Literal[
    "transaction_value",
    "value_growth",
    "ip_share",
    "imported_developed_share",
    "institute_share_of_domestic",
    "active_intermediaries",
    "intermediary_networks",
]


class TargetRead(ResponseModel):
    year: int
    value: DecimalString
    comparison: Literal[">", ">="] = Field(description="How the indicator must compare with the target.")
    note: str | None = None
    met: bool | None = Field(description="Whether the measured value meets the target (null when undefined).")


class IndicatorRead(ResponseModel):
    code: IndicatorCode
    label_vi: str
    label_en: str
    unit: Literal["VND", "ratio", "count"] = Field(description="`VND`, `ratio` (0–1) or `count`.")
    value: DecimalString | None = Field(
        description="A decimal string (an amount of VND, a ratio to 4 decimals or a count); null when undefined "
        "(e.g. growth with nothing to grow from)."
    )
    numerator: DecimalString | None
    denominator: DecimalString | None
    period: str
    targets: list[TargetRead]
    note: str | None


class IndicatorsResponse(ResponseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "period": "2025",
                    "indicators": [
                        {
                            "code": "ip_share",
                            "label_vi": "Tỷ trọng giao dịch tài sản trí tuệ",
                            "label_en": "Share of intellectual-property transactions",
                            "unit": "ratio",
                            "value": "0.18",
                            "numerator": "9",
                            "denominator": "50",
                            "period": "2025",
                            "targets": [
                                {"year": 2025, "value": "0.15", "comparison": ">", "note": None, "met": True},
                                {"year": 2030, "value": "0.2", "comparison": ">", "note": None, "met": False},
                            ],
                            "note": None,
                        }
                    ],
                }
            ]
        }
    )

    period: str
    indicators: list[IndicatorRead]


class ListingStatsRow(ResponseModel):
    field: FieldCode
    units: int = Field(
        description="Organisations in Vietnam (the surveyed units) with listings of this field that name them; "
        "an anonymous listing's owner is not counted."
    )
    foreign_units: int = Field(description="Organisations abroad (e.g. Japanese suppliers), counted the same way.")
    listings: int
    proposed_for_city: int
    by_status: dict[str, int]


class ListingStatsResponse(ResponseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "kind": "offer",
                    "rows": [
                        {
                            "field": "biotech",
                            "units": 19,
                            "foreign_units": 0,
                            "listings": 94,
                            "proposed_for_city": 50,
                            "by_status": {"published": 94},
                        }
                    ],
                    "totals": {"units": 66, "foreign_units": 13, "listings": 209, "proposed_for_city": 126},
                }
            ]
        }
    )

    kind: ListingKind
    rows: list[ListingStatsRow]
    totals: dict[str, int]


class FunnelResponse(ResponseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "period": "2025",
                    "matches": 310,
                    "interests": 120,
                    "interests_accepted": 70,
                    "meetings": 96,
                    "deals_from_interests": 30,
                    "deals_signed": 45,
                    "conversion": {"interest_to_accepted": 0.5833, "accepted_to_deal": 0.4286},
                    "median_response_hours": 30.5,
                    "unanswered_interests": 4,
                }
            ]
        }
    )

    period: str
    matches: int = Field(
        description="Matches the exchange sent to owners in the period (alert notifications); matches looked up "
        "on request are not recorded."
    )
    interests: int
    interests_accepted: int
    meetings: int = Field(description="Accepted meetings in the published schedules of events starting in the period.")
    deals_from_interests: int
    deals_signed: int
    conversion: dict[str, float | None]
    median_response_hours: float | None
    unanswered_interests: int


class DealsByFieldRow(ResponseModel):
    field: FieldCode
    deals: int
    value_vnd: VndAmount = Field(description="Sum of non-confidential values, a decimal string.")
    confidential_deals: int


class DealsByFieldResponse(ResponseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "period": "2025",
                    "rows": [{"field": "environment", "deals": 12, "value_vnd": "9500000000", "confidential_deals": 2}],
                    "total_deals": 12,
                    "total_value_vnd": "11000000000",
                }
            ]
        }
    )

    period: str
    rows: list[DealsByFieldRow]
    total_deals: int
    total_value_vnd: VndAmount = Field(description="All values, confidential ones included, a decimal string.")


class ExpertsByCountryRow(ResponseModel):
    country: str
    experts: int
    overseas_vietnamese: int


class ExpertsByFieldRow(ResponseModel):
    field: FieldCode
    experts: int = Field(description="Experts with a concept of the field; one expert may count in several fields.")


class ExpertStatsResponse(ResponseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "period": "2026",
                    "experts": 64,
                    "overseas_vietnamese": 22,
                    "overseas_share": 0.3438,
                    "stale": 9,
                    "by_country": [{"country": "JP", "experts": 6, "overseas_vietnamese": 6}],
                    "by_field": [{"field": "environment", "experts": 14}],
                    "requests": 18,
                    "requests_accepted": 9,
                    "requests_declined": 4,
                    "requests_pending": 5,
                    "acceptance_rate": 0.6923,
                }
            ]
        }
    )

    period: str = Field(description="The period of the request figures; profile counts are as of now.")
    experts: int
    overseas_vietnamese: int
    overseas_share: float | None = Field(description="Overseas Vietnamese among all experts; null without experts.")
    stale: int = Field(description="Profiles not confirmed for 12 months.")
    by_country: list[ExpertsByCountryRow]
    by_field: list[ExpertsByFieldRow]
    requests: int = Field(description="Consultation requests sent in the period.")
    requests_accepted: int
    requests_declined: int
    requests_pending: int
    acceptance_rate: float | None = Field(description="Accepted among answered requests of the period.")
