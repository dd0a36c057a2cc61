"""Reference data of deals: developed economies and exchange rates, read from `app/seed_data/`."""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from pathlib import Path

import yaml

SEED_DATA = Path(__file__).resolve().parent.parent / "seed_data"


@lru_cache
def developed_economies() -> frozenset[str]:
    data = yaml.safe_load((SEED_DATA / "developed_economies.yaml").read_text(encoding="utf-8"))
    return frozenset(data["countries"])


@lru_cache
def _rates() -> dict[str, dict[str, float]]:
    raw = yaml.safe_load((SEED_DATA / "exchange_rates.yaml").read_text(encoding="utf-8"))
    return {currency: {str(k): float(v) for k, v in table.items()} for currency, table in raw.items()}


def known_currencies() -> frozenset[str]:
    return frozenset(_rates())


def vnd_rate(currency: str, year: int | None) -> Decimal | None:
    """VND per unit of `currency` for that year (the latest known when the year is missing)."""
    table = _rates().get(currency)
    if table is None:
        return None
    return Decimal(str(table.get(str(year), table["default"])))
