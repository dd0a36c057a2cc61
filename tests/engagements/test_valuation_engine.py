"""The valuation worksheet's three approaches against examples computed by hand."""

from __future__ import annotations

from decimal import Decimal as D

from app.engagements.valuation import (
    CostInputs,
    IncomeInputs,
    MarketInputs,
    Range,
    cost_approach,
    income_approach,
    market_approach,
    quantile,
    worksheet,
)

M = D(1_000_000)
COST = CostInputs(
    items=[("labour", 300 * M), ("materials", 150 * M), ("equipment", 50 * M)],
    obsolescence_low=D("0.2"),
    obsolescence_high=D("0.4"),
)
# Revenue grows at the discount rate, so every year is worth the same today:
# 1,000,000,000 × 3 % × (1 − 20 %) / 1.1 = 1,100,000,000 × 3 % × 0.8 / 1.21 = 21,818,181.8181…
INCOME = IncomeInputs(
    revenue=[1000 * M, 1100 * M],
    royalty_rate_low=D("0.03"),
    royalty_rate_high=D("0.05"),
    discount_rate=D("0.10"),
    tax_rate=D("0.20"),
    cash_flows=[110 * M, 121 * M],
)
WATER = ["arsenic-removal"]
COMPARABLES = [
    (["arsenic-removal"], 100 * M),
    (["arsenic-removal", "filter-media"], 200 * M),
    (["wastewater-treatment"], 300 * M),
    (["arsenic-removal"], 400 * M),
    (["wastewater-treatment"], 500 * M),
]


def test_cost_to_recreate_less_obsolescence() -> None:
    result = cost_approach(COST, 0)
    assert result.cost_to_recreate == 500 * M
    # 500 M × (1 − 0.4) = 300 M; 500 M × (1 − 0.2) = 400 M
    assert result.range == Range(300 * M, 400 * M)


def test_relief_from_royalty_and_dcf() -> None:
    result = income_approach(INCOME, 0)
    assert result.royalty_low == D("43636364")  # 2 × 21,818,181.818… = 43,636,363.6…
    assert result.royalty_high == D("72727273")  # 2 × 36,363,636.363… = 72,727,272.7…
    assert result.dcf == D("160000000")  # 110 M × 0.8 / 1.1 + 121 M × 0.8 / 1.21 = 80 M + 80 M
    assert result.range == Range(D("43636364"), D("160000000"))
    cents = income_approach(INCOME, 2)
    assert cents.royalty_low == D("43636363.64")


def test_market_uses_deals_of_the_same_concepts_when_there_are_enough() -> None:
    result = market_approach(MarketInputs(COMPARABLES, WATER, adjustment=D("0.9")), 0)
    assert (result.basis, result.count) == ("concepts", 3)
    # [100, 200, 400] M: p25 at position 0.5 → 150 M, median 200 M, p75 at position 1.5 → 300 M
    assert result.quartiles == (150 * M, 200 * M, 300 * M)
    assert result.range == Range(135 * M, 270 * M)  # × 0.9


def test_market_falls_back_to_the_field_and_hides_values_below_three_deals() -> None:
    result = market_approach(MarketInputs(COMPARABLES, ["filter-media"]), 0)
    assert (result.basis, result.count) == ("field", 5)
    assert result.quartiles == (200 * M, 300 * M, 400 * M)
    few = market_approach(MarketInputs(COMPARABLES[:2], WATER), 0)
    assert (few.count, few.quartiles, few.range) == (2, None, None)


def test_quantile_interpolates_like_quartile_inc() -> None:
    assert quantile([D(1), D(2), D(3), D(4)], D("0.25")) == D("1.75")
    assert quantile([D(7)], D("0.75")) == D(7)


def test_the_driving_method_gives_the_range() -> None:
    market = MarketInputs(COMPARABLES, WATER)
    both = worksheet(COST, market, INCOME, 0)
    assert both.driving_method == "income"
    assert both.range == Range(D("43636364"), D("160000000"))
    chosen = worksheet(COST, market, INCOME, 0, primary="cost")
    assert (chosen.driving_method, chosen.range) == ("cost", Range(300 * M, 400 * M))
    too_few = worksheet(COST, MarketInputs(COMPARABLES[:1], WATER), None, 0, primary="market")
    assert too_few.driving_method == "cost", "a method without a range cannot drive the result"
    assert worksheet(None, None, None, 0).range is None
