"""Harvest sources are configured as `name=URL` pairs, and each feed record maps to this exchange's columns."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import ValidationError

from app.config import Settings
from app.integration.harvest import listing_values
from app.listings.schemas import ListingKind


def test_sources_are_name_url_pairs() -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        harvest_sources="san-quoc-gia=https://san.example.vn, hai-phong=https://techmart.example.vn",
    )
    assert settings.harvest_sources == {
        "san-quoc-gia": "https://san.example.vn",
        "hai-phong": "https://techmart.example.vn",
    }


RECORD = {
    "id": "3d9f7a1e-5b2c-4e8d-9a6f-1c2b3d4e5f60",
    "kind": "offer",
    "language": "vi",
    "title": "Vật liệu lọc nano mangan oxit",
    "summary": "Vật liệu hấp phụ asen cho nước sạch nông thôn.",
    "field": "environment",
    "concepts": ["arsenic-removal", "a-concept-only-the-source-knows"],
    "trl": 7,
    "ip_status": "utility_solution_granted",
    "price_min": "150000000",
    "currency": "VND",
    "expires_at": "2027-11-22T03:00:00Z",
    "reference": "TO-VN-20261122-0007",
    "status": "published",
}


def test_a_feed_record_maps_to_validated_columns() -> None:
    values = listing_values(ListingKind.OFFER, RECORD)
    assert values["concepts"] == ["arsenic-removal"], "unknown concepts are dropped"
    assert values["price_min"] == Decimal("150000000")
    assert values["contact"] == {}
    assert "reference" not in values
    assert "status" not in values


def test_a_record_this_exchange_cannot_hold_is_refused() -> None:
    with pytest.raises(ValidationError):
        listing_values(ListingKind.OFFER, {**RECORD, "trl": 12})
