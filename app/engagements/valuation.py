"""The valuation worksheet's arithmetic: cost, market and income approaches side by side (pure, exact).

Every number is a `Decimal`; nothing passes through a float. Each approach gives a low–high range from
explicit assumptions; the worksheet's range is that of the approach that drives it (the one the user
names, else income when given — a technology is worth what it earns —, else market when there are
enough comparables, else cost). It is a worksheet for negotiation, never an accredited appraisal.

- Cost: cost to recreate (the sum of its items) × (1 − obsolescence); the low end uses the high
  obsolescence and the high end the low one.
- Market: the platform's own confirmed, signed deals of the same field (of the same concepts when
  there are enough of them), anonymised to a count and quartiles: the range is the interquartile range
  (linear interpolation between order statistics), times an explicit adjustment factor. Fewer than
  `MIN_COMPARABLES` deals give a count and no values, so no single deal's value can be read off.
- Income, relief from royalty: Σₜ revenueₜ × royalty × (1 − tax) / (1 + discount)ᵗ, t = 1 … life,
  once at the low and once at the high royalty rate.
- Income, DCF: Σₜ cash flowₜ × (1 − tax) / (1 + discount)ᵗ, when cash flows are given; the income range
  spans the relief-from-royalty values and the DCF value.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

MIN_COMPARABLES = 3
DISCLAIMER = (
    "A valuation worksheet to prepare a negotiation: every assumption is shown and can be changed. "
    "It is not an accredited appraisal (chứng thư thẩm định giá)."
)


@dataclass(frozen=True)
class CostInputs:
    items: Sequence[tuple[str, Decimal]]
    obsolescence_low: Decimal
    obsolescence_high: Decimal


@dataclass(frozen=True)
class MarketInputs:
    comparables: Sequence[tuple[Sequence[str], Decimal]]  # (concepts of the deal's offer, value)
    concepts: Sequence[str]
    adjustment: Decimal = Decimal(1)


@dataclass(frozen=True)
class IncomeInputs:
    revenue: Sequence[Decimal]
    royalty_rate_low: Decimal
    royalty_rate_high: Decimal
    discount_rate: Decimal
    tax_rate: Decimal
    cash_flows: Sequence[Decimal] = ()


@dataclass(frozen=True)
class Range:
    low: Decimal
    high: Decimal


@dataclass(frozen=True)
class CostResult:
    cost_to_recreate: Decimal
    range: Range


@dataclass(frozen=True)
class MarketResult:
    basis: str  # "concepts" or "field"
    count: int
    quartiles: tuple[Decimal, Decimal, Decimal] | None  # p25, median, p75, when count ≥ MIN_COMPARABLES
    range: Range | None


@dataclass(frozen=True)
class IncomeResult:
    royalty_low: Decimal
    royalty_high: Decimal
    dcf: Decimal | None
    discount_factors: list[Decimal] = field(default_factory=list)
    range: Range | None = None


@dataclass(frozen=True)
class Worksheet:
    cost: CostResult | None
    market: MarketResult | None
    income: IncomeResult | None
    driving_method: str | None
    range: Range | None


def rounded(value: Decimal, places: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def cost_approach(inputs: CostInputs, places: int) -> CostResult:
    total = sum((amount for _label, amount in inputs.items), Decimal(0))
    low = total * (1 - inputs.obsolescence_high)
    high = total * (1 - inputs.obsolescence_low)
    return CostResult(rounded(total, places), Range(rounded(low, places), rounded(high, places)))


def quantile(sorted_values: Sequence[Decimal], p: Decimal) -> Decimal:
    """The p-quantile by linear interpolation between order statistics (Excel's QUARTILE.INC)."""
    position = (len(sorted_values) - 1) * p
    lower = int(position)
    fraction = position - lower
    if lower + 1 >= len(sorted_values):
        return sorted_values[lower]
    return sorted_values[lower] + (sorted_values[lower + 1] - sorted_values[lower]) * fraction


def market_approach(inputs: MarketInputs, places: int) -> MarketResult:
    wanted = set(inputs.concepts)
    same_concepts = [value for concepts, value in inputs.comparables if wanted & set(concepts)]
    if wanted and len(same_concepts) >= MIN_COMPARABLES:
        basis, values = "concepts", same_concepts
    else:
        basis, values = "field", [value for _concepts, value in inputs.comparables]
    values = sorted(values)
    if len(values) < MIN_COMPARABLES:
        return MarketResult(basis, len(values), None, None)
    p25, p50, p75 = (rounded(quantile(values, Decimal(q)), places) for q in ("0.25", "0.5", "0.75"))
    adjusted = Range(rounded(p25 * inputs.adjustment, places), rounded(p75 * inputs.adjustment, places))
    return MarketResult(basis, len(values), (p25, p50, p75), adjusted)


def income_approach(inputs: IncomeInputs, places: int) -> IncomeResult:
    factors = [1 / (1 + inputs.discount_rate) ** t for t in range(1, len(inputs.revenue) + 1)]
    after_tax = 1 - inputs.tax_rate

    def relief(rate: Decimal) -> Decimal:
        return sum(
            (revenue * rate * after_tax * factor for revenue, factor in zip(inputs.revenue, factors, strict=True)),
            Decimal(0),
        )

    low, high = rounded(relief(inputs.royalty_rate_low), places), rounded(relief(inputs.royalty_rate_high), places)
    dcf = None
    if inputs.cash_flows:
        dcf_factors = [1 / (1 + inputs.discount_rate) ** t for t in range(1, len(inputs.cash_flows) + 1)]
        dcf = rounded(
            sum((cf * after_tax * f for cf, f in zip(inputs.cash_flows, dcf_factors, strict=True)), Decimal(0)),
            places,
        )
    candidates = [low, high] + ([dcf] if dcf is not None else [])
    return IncomeResult(low, high, dcf, factors, Range(min(candidates), max(candidates)))


def worksheet(
    cost: CostInputs | None,
    market: MarketInputs | None,
    income: IncomeInputs | None,
    places: int,
    primary: str | None = None,
) -> Worksheet:
    """The three approaches side by side and the range of the one that drives the result: `primary`
    when it gives a range, else income, market, cost in that order."""
    cost_result = cost_approach(cost, places) if cost else None
    market_result = market_approach(market, places) if market else None
    income_result = income_approach(income, places) if income else None
    ranges = {
        name: result.range
        for name, result in (("cost", cost_result), ("market", market_result), ("income", income_result))
        if result is not None and result.range is not None
    }
    order = [primary] if primary else []
    driving = next((name for name in [*order, "income", "market", "cost"] if name in ranges), None)
    return Worksheet(cost_result, market_result, income_result, driving, ranges[driving] if driving else None)
