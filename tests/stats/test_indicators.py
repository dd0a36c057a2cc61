"""The indicators, computed on hand-built facts; every expected value is worked out by hand here."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from app.stats.indicators import DealFact, Period, compute, deals_by_field

M = Decimal(1_000_000)


def fact(
    signed_on: date | None,
    value_m: int | None,
    *,
    stage: str = "signed",
    ip: bool = False,
    origin: str = "domestic_enterprise",
    developed: bool = False,
    field: str = "environment",
    confidential: bool = False,
) -> DealFact:
    return DealFact(
        signed_on=signed_on,
        stage=stage,
        value_vnd=value_m * M if value_m is not None else None,
        ip_transferred=ip,
        origin=origin,
        developed_economy=developed,
        broker_organization_id=None,
        field=field,
        confidential=confidential,
    )


FACTS = [
    # 2024: 100 M + 300 M = 400 M
    fact(date(2024, 3, 1), 100),
    fact(date(2024, 11, 30), 300),
    # 2025, counted: a, b, c, f
    fact(date(2025, 2, 1), 300, ip=True, origin="domestic_institute_university"),  # a
    fact(date(2025, 5, 1), 200, origin="domestic_enterprise", field="biotech"),  # b
    fact(date(2025, 7, 1), 100, ip=True, origin="imported", developed=True, confidential=True),  # c
    fact(date(2025, 9, 1), 1000, stage="cancelled", origin="imported", developed=True),  # d: cancelled
    fact(None, 500, stage="negotiating"),  # e: not signed
    fact(date(2025, 10, 1), None, origin="imported", developed=False),  # f: no value, China
    fact(date(2026, 1, 1), 999),  # next year
]


def by_code(period: Period, facts: list[DealFact] = FACTS) -> dict:
    return {i.code: i for i in compute(facts, period, intermediaries=4, networks=1)}


def test_value_and_growth() -> None:
    indicators = by_code(Period.year(2025))
    assert indicators["transaction_value"].value == 600_000_000  # 300 + 200 + 100 (f has no value)
    growth = indicators["value_growth"]
    assert growth.numerator == 200_000_000  # 600 M − 400 M
    assert growth.denominator == 400_000_000
    assert growth.value == 0.5


def test_shares_count_signed_uncancelled_deals() -> None:
    indicators = by_code(Period.year(2025))
    assert (indicators["ip_share"].numerator, indicators["ip_share"].denominator) == (2, 4)  # a, c of a, b, c, f
    assert indicators["ip_share"].value == 0.5
    imported = indicators["imported_developed_share"]
    assert (imported.numerator, imported.denominator, imported.value) == (1, 4, 0.25)  # c only: d cancelled, f China
    institutes = indicators["institute_share_of_domestic"]
    assert (institutes.numerator, institutes.denominator, institutes.value) == (1, 2, 0.5)  # a of a, b


def test_growth_without_previous_value_is_undefined_not_zero() -> None:
    growth = by_code(Period.year(2024))["value_growth"]  # 2023 has nothing
    assert growth.value is None
    assert growth.denominator == 0
    assert "undefined" in (growth.note or "")


def test_empty_period_has_undefined_shares() -> None:
    indicators = by_code(Period.year(2030))
    assert indicators["ip_share"].value is None
    assert indicators["institute_share_of_domestic"].value is None
    assert indicators["transaction_value"].value == 0


def test_targets_travel_with_each_indicator() -> None:
    targets = by_code(Period.year(2025))["ip_share"].targets
    assert [(t["year"], t["value"], t["comparison"]) for t in targets] == [(2025, 0.15, ">"), (2030, 0.2, ">")]


def test_custom_range_compares_with_the_range_before() -> None:
    period = Period(date(2025, 1, 1), date(2025, 7, 1))
    assert period.previous() == Period(date(2024, 7, 4), date(2025, 1, 1))
    indicators = by_code(period)
    assert indicators["transaction_value"].value == 500_000_000  # a + b
    assert indicators["value_growth"].denominator == 300_000_000  # the 2024-11-30 deal


def test_confidential_values_leave_breakdowns_but_stay_in_totals() -> None:
    rows = {r["field"]: r for r in deals_by_field(FACTS, Period.year(2025))}
    assert rows["environment"] == {
        "field": "environment",
        "deals": 3,
        "value_vnd": Decimal(300_000_000),
        "confidential_deals": 1,
    }
    assert rows["biotech"]["value_vnd"] == Decimal(200_000_000)
    assert by_code(Period.year(2025))["transaction_value"].value == 600_000_000  # c's 100 M still counted
