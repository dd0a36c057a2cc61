"""Valuation worksheets through HTTP: the platform's own deals as comparables, permissions, the XLSX export."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from httpx import AsyncClient
from openpyxl import load_workbook
from sqlalchemy.ext.asyncio import AsyncSession

from app.engagements.schemas import _VALUATION_EXAMPLE
from tests.helpers import Registered, create_listing, expect, make_staff, register

BASE = "/api/v1/valuations"


@pytest.fixture
async def moderator(client: AsyncClient, session: AsyncSession) -> Registered:
    return await make_staff(client, session, "moderator")


async def _comparables(client: AsyncClient, moderator: Registered, values: list[str]) -> None:
    """Confirmed, signed deals on arsenic-filter offers (recorded by a moderator, so they count)."""
    for value in values:
        owner, buyer = await register(client, kind="institute"), await register(client)
        offer = await create_listing(client, owner, status="published", moderator=moderator)
        body = {
            "offer_id": offer["id"],
            "buyer_organization_id": buyer.organization_id,
            "deal_type": "licence",
            "value": value,
            "stage": "signed",
        }
        deal = expect(await client.post("/api/v1/deals", json=body, headers=moderator.headers), 201)
        assert deal["confirmation"] == "confirmed"


async def test_the_three_approaches_side_by_side(client: AsyncClient, moderator: Registered) -> None:
    await _comparables(client, moderator, ["100000000", "200000000", "400000000"])
    owner = await register(client, kind="institute")
    created = expect(await client.post(BASE, json=_VALUATION_EXAMPLE, headers=owner.headers), 201)
    assert created["cost"] == {"cost_to_recreate": "500000000", "range": {"low": "300000000", "high": "400000000"}}
    assert created["market"] == {
        "basis": "concepts",
        "count": 3,
        "p25": "150000000",
        "median": "200000000",
        "p75": "300000000",
        "range": {"low": "135000000", "high": "270000000"},
    }
    income = created["income"]
    assert (income["relief_from_royalty_low"], income["relief_from_royalty_high"], income["dcf"]) == (
        "43636364",
        "72727273",
        "160000000",
    )
    assert created["driving_method"] == "income"
    assert created["range"] == {"low": "43636364", "high": "160000000"}
    assert "not an accredited appraisal" in created["disclaimer"]
    assert created["assumptions"]["income"]["royalty_rate_low"] == "0.03"

    download = await client.get(f"{BASE}/{created['id']}/xlsx", headers=owner.headers)
    assert download.status_code == 200
    book = load_workbook(io.BytesIO(download.content))
    assert book.sheetnames == ["Summary", "Cost", "Market", "Income"]
    summary = {row[0]: row[1] for row in book["Summary"].iter_rows(values_only=True) if row and row[0]}
    assert summary["Driving method"] == "income"
    assert Decimal(str(summary["Range low"])) == Decimal("43636364")
    income_sheet = {row[0]: row[1] for row in book["Income"].iter_rows(values_only=True) if row and row[0]}
    assert Decimal(str(income_sheet["DCF"])) == Decimal("160000000")
    assert Decimal(str(income_sheet["Royalty rate (high)"])) == Decimal("0.05")


async def test_the_market_needs_three_deals_and_another_currency_needs_a_rate(
    client: AsyncClient, moderator: Registered
) -> None:
    await _comparables(client, moderator, ["100000000", "200000000"])
    owner = await register(client)
    body = {"title": "Chỉ so sánh thị trường", "field": "environment", "market": {}}
    created = expect(await client.post(BASE, json=body, headers=owner.headers), 201)
    assert created["market"] == {"basis": "field", "count": 2, "p25": None, "median": None, "p75": None, "range": None}
    assert (created["driving_method"], created["range"]) == (None, None)
    usd = await client.post(BASE, json={**body, "currency": "USD"}, headers=owner.headers)
    assert expect(usd, 422)["errors"][0]["loc"] == ["body", "market", "vnd_rate"]


async def test_assumptions_are_checked(client: AsyncClient) -> None:
    owner = await register(client)
    income = {**_VALUATION_EXAMPLE["income"], "life_years": 3}
    refused = await client.post(BASE, json={**_VALUATION_EXAMPLE, "income": income}, headers=owner.headers)
    assert expect(refused, 422)["errors"][0]["loc"][:2] == ["body", "income"]


async def test_only_the_owner_side_reads_it(client: AsyncClient, moderator: Registered) -> None:
    owner, stranger = await register(client), await register(client)
    created = expect(await client.post(BASE, json=_VALUATION_EXAMPLE, headers=owner.headers), 201)
    assert (await client.get(f"{BASE}/{created['id']}", headers=stranger.headers)).status_code == 404
    assert (await client.get(f"{BASE}/{created['id']}/xlsx", headers=stranger.headers)).status_code == 404
    expect(await client.get(f"{BASE}/{created['id']}", headers=moderator.headers), 200)
    listed = expect(await client.get(BASE, headers=owner.headers), 200)
    assert [v["id"] for v in listed["items"]] == [created["id"]]
    assert expect(await client.get(BASE, headers=stranger.headers), 200)["items"] == []
    other = await client.post(
        BASE, json={**_VALUATION_EXAMPLE, "organization_id": owner.organization_id}, headers=stranger.headers
    )
    assert expect(other, 403)["code"] == "NotYourOrganization"
