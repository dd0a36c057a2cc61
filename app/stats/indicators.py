"""The market indicators of the city programmes, computed from deal facts (pure functions).

A deal counts in a period when it was signed in the period and is not
cancelled. Shares are counts of deals (each transaction weighs the same);
the value indicators use the values converted to VND.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from statistics import median

# The targets of the Can Tho programme (2025 and 2030), as `MISSION.md` states them.
TARGETS: dict[str, list[dict[str, object]]] = {
    "value_growth": [
        {"year": 2025, "value": 0.25, "comparison": ">=", "note": "30 % in key export sectors"},
        {"year": 2030, "value": 0.30, "comparison": ">=", "note": "35 % in key export sectors"},
    ],
    "ip_share": [{"year": 2025, "value": 0.15, "comparison": ">"}, {"year": 2030, "value": 0.20, "comparison": ">"}],
    "imported_developed_share": [
        {"year": 2025, "value": 0.30, "comparison": ">="},
        {"year": 2030, "value": 0.35, "comparison": ">="},
    ],
    "institute_share_of_domestic": [
        {"year": 2025, "value": 0.35, "comparison": ">"},
        {"year": 2030, "value": 0.40, "comparison": ">"},
    ],
    "active_intermediaries": [
        {"year": 2025, "value": 3, "comparison": ">="},
        {"year": 2030, "value": 6, "comparison": ">"},
    ],
    "intermediary_networks": [
        {"year": 2025, "value": 1, "comparison": ">="},
        {"year": 2030, "value": 2, "comparison": ">="},
    ],
}


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # exclusive

    @classmethod
    def year(cls, year: int) -> Period:
        return cls(date(year, 1, 1), date(year + 1, 1, 1))

    def previous(self) -> Period:
        if self.start.month == 1 and self.start.day == 1 and self.end == date(self.start.year + 1, 1, 1):
            return Period.year(self.start.year - 1)
        return Period(self.start - (self.end - self.start), self.start)

    def contains(self, day: date | None) -> bool:
        return day is not None and self.start <= day < self.end

    @property
    def label(self) -> str:
        if self.end == date(self.start.year + 1, 1, 1) and (self.start.month, self.start.day) == (1, 1):
            return str(self.start.year)
        return f"{self.start.isoformat()}/{self.end.isoformat()}"


@dataclass(frozen=True)
class DealFact:
    """What the indicators need of one deal."""

    signed_on: date | None
    stage: str
    value_vnd: Decimal | None
    ip_transferred: bool
    origin: str
    developed_economy: bool
    broker_organization_id: str | None
    field: str = "other"
    confidential: bool = False


@dataclass
class Indicator:
    code: str
    label_vi: str
    label_en: str
    unit: str
    value: Decimal | int | None
    numerator: Decimal | int | None
    denominator: Decimal | int | None
    period: str
    targets: list[dict[str, object]] = field(default_factory=list)
    note: str | None = None


def counted(facts: list[DealFact], period: Period) -> list[DealFact]:
    return [f for f in facts if f.stage != "cancelled" and period.contains(f.signed_on)]


RATIO = Decimal("0.0001")


def _share(part: int, whole: int) -> Decimal | None:
    return (Decimal(part) / Decimal(whole)).quantize(RATIO) if whole else None


def total_value(facts: list[DealFact]) -> Decimal:
    return sum((f.value_vnd for f in facts if f.value_vnd is not None), Decimal(0))


def compute(
    facts: list[DealFact],
    period: Period,
    *,
    intermediaries: int,
    networks: int,
) -> list[Indicator]:
    """Every indicator for the period; `intermediaries`/`networks` are the active intermediary counts."""
    current = counted(facts, period)
    previous = counted(facts, period.previous())
    value_now, value_before = total_value(current), total_value(previous)
    growth_note = None
    if value_before == 0:
        growth, growth_note = None, f"undefined: no transaction value recorded in {period.previous().label}"
    else:
        growth = ((value_now - value_before) / value_before).quantize(RATIO)
    domestic = [f for f in current if f.origin in ("domestic_institute_university", "domestic_enterprise")]
    institutes = [f for f in domestic if f.origin == "domestic_institute_university"]
    ip = [f for f in current if f.ip_transferred]
    imported_developed = [f for f in current if f.origin == "imported" and f.developed_economy]
    label = period.label
    no_deals = None if current else "undefined: no signed transactions in the period"
    return [
        Indicator(
            "transaction_value",
            "Tổng giá trị giao dịch công nghệ",
            "Total technology transaction value",
            "VND",
            value_now,
            value_now,
            None,
            label,
            note=f"{len(current)} transactions, {sum(1 for f in current if f.value_vnd is None)} without a value",
        ),
        Indicator(
            "value_growth",
            "Tăng trưởng giá trị giao dịch so với kỳ trước",
            "Growth of transaction value",
            "ratio",
            growth,
            value_now - value_before,
            value_before,
            label,
            TARGETS["value_growth"],
            growth_note,
        ),
        Indicator(
            "ip_share",
            "Tỷ trọng giao dịch tài sản trí tuệ",
            "Share of intellectual-property transactions",
            "ratio",
            _share(len(ip), len(current)),
            len(ip),
            len(current),
            label,
            TARGETS["ip_share"],
            no_deals,
        ),
        Indicator(
            "imported_developed_share",
            "Tỷ trọng giao dịch công nghệ nhập khẩu từ các nước phát triển",
            "Share of transactions in technologies imported from developed countries",
            "ratio",
            _share(len(imported_developed), len(current)),
            len(imported_developed),
            len(current),
            label,
            TARGETS["imported_developed_share"],
            no_deals,
        ),
        Indicator(
            "institute_share_of_domestic",
            "Tỷ trọng giao dịch có nguồn gốc từ viện, trường trong nước",
            "Share of domestic-origin transactions coming from institutes and universities",
            "ratio",
            _share(len(institutes), len(domestic)),
            len(institutes),
            len(domestic),
            label,
            TARGETS["institute_share_of_domestic"],
            None if domestic else "undefined: no domestic-origin transactions in the period",
        ),
        Indicator(
            "active_intermediaries",
            "Số tổ chức trung gian hoạt động",
            "Active intermediary organisations",
            "count",
            intermediaries,
            intermediaries,
            None,
            label,
            TARGETS["active_intermediaries"],
            "intermediaries (not networks) that brokered a transaction, held a mandate or delivered a service "
            "in the period",
        ),
        Indicator(
            "intermediary_networks",
            "Số mạng lưới tổ chức trung gian chuyên ngành",
            "Specialised intermediary networks",
            "count",
            networks,
            networks,
            None,
            label,
            TARGETS["intermediary_networks"],
            "intermediary networks that brokered a transaction, held a mandate or delivered a service in the period",
        ),
    ]


def deals_by_field(facts: list[DealFact], period: Period) -> list[dict[str, object]]:
    """Count and value per field; confidential values stay out of the per-field values but not the totals."""
    rows: dict[str, dict[str, object]] = {}
    for fact in counted(facts, period):
        row = rows.setdefault(
            fact.field, {"field": fact.field, "deals": 0, "value_vnd": Decimal(0), "confidential_deals": 0}
        )
        row["deals"] = int(row["deals"]) + 1  # type: ignore[call-overload]
        if fact.confidential:
            row["confidential_deals"] = int(row["confidential_deals"]) + 1  # type: ignore[call-overload]
        elif fact.value_vnd is not None:
            row["value_vnd"] = row["value_vnd"] + fact.value_vnd  # type: ignore[operator]
    return sorted(rows.values(), key=lambda r: str(r["field"]))


def median_hours(durations_hours: list[float]) -> float | None:
    return round(median(durations_hours), 2) if durations_hours else None
