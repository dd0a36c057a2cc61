"""Follow-up after transfer through HTTP: the plan a signed deal gets, reports, overdue notifications."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from app.engagements.follow_up import follow_up_service, sweep
from app.engagements.plan import add_months
from app.models.base import utcnow
from tests.helpers import Registered, expect, grant_mandate, make_staff, register


@pytest.fixture
async def moderator(client: AsyncClient, session: AsyncSession) -> Registered:
    return await make_staff(client, session, "moderator")


async def _deal(client: AsyncClient, supplier: Registered, buyer: Registered, **extra) -> dict:
    body = {
        "supplier_organization_id": supplier.organization_id,
        "buyer_organization_id": buyer.organization_id,
        "deal_type": "licence",
        "origin": "domestic_institute_university",
        "value": "850000000",
        **extra,
    }
    return expect(await client.post("/api/v1/deals", json=body, headers=supplier.headers), 201)


def test_add_months_keeps_the_day_or_takes_the_months_last() -> None:
    assert add_months(date(2026, 1, 15), 3) == date(2026, 4, 15)
    assert add_months(date(2026, 8, 31), 6) == date(2027, 2, 28)
    assert add_months(date(2027, 8, 31), 6) == date(2028, 2, 29)
    assert add_months(date(2026, 11, 30), 12) == date(2027, 11, 30)


async def test_signing_gives_milestones_and_check_ins(client: AsyncClient) -> None:
    supplier, buyer = await register(client, kind="institute"), await register(client)
    deal = await _deal(client, supplier, buyer)
    path = f"/api/v1/deals/{deal['id']}"
    unsigned = expect(await client.get(f"{path}/follow-up", headers=buyer.headers), 200)
    assert (unsigned["milestones"], unsigned["check_ins"]) == ([], [])
    refused = await client.put(f"{path}/milestones/delivery", json={"due_on": "2026-12-01"}, headers=buyer.headers)
    assert expect(refused, 409)["code"] == "InvalidTransition"

    expect(
        await client.post(f"{path}/stage", json={"stage": "signed", "on": "2026-03-31"}, headers=supplier.headers), 200
    )
    plan = expect(await client.get(f"{path}/follow-up", headers=buyer.headers), 200)
    assert [m["kind"] for m in plan["milestones"]] == ["delivery", "installation", "training", "acceptance"]
    assert [(c["month"], c["due_on"]) for c in plan["check_ins"]] == [
        (3, "2026-06-30"),
        (6, "2026-09-30"),
        (12, "2027-03-31"),
    ]
    stranger = await register(client)
    assert (await client.get(f"{path}/follow-up", headers=stranger.headers)).status_code == 404


async def test_milestones_and_reports_by_each_side(client: AsyncClient, moderator: Registered) -> None:
    supplier, buyer = await register(client, kind="institute"), await register(client)
    signed_on = utcnow().date() - timedelta(days=200)
    deal = await _deal(client, supplier, buyer, stage="signed", signed_on=signed_on.isoformat())
    path = f"/api/v1/deals/{deal['id']}"
    yesterday = (utcnow().date() - timedelta(days=1)).isoformat()
    done = expect(
        await client.put(
            f"{path}/milestones/delivery", json={"due_on": yesterday, "done_on": yesterday}, headers=supplier.headers
        ),
        200,
    )
    delivery = done["milestones"][0]
    assert (delivery["done_on"], delivery["overdue"]) == (yesterday, False)
    late = expect(
        await client.put(f"{path}/milestones/training", json={"due_on": yesterday}, headers=buyer.headers), 200
    )
    assert late["milestones"][2]["overdue"] is True
    tomorrow = (utcnow().date() + timedelta(days=1)).isoformat()
    future = await client.put(f"{path}/milestones/training", json={"done_on": tomorrow}, headers=buyer.headers)
    assert future.status_code == 422

    report = {"status": "in_use", "jobs": 4, "revenue": "350000000", "cost_saved": "80000000"}
    as_buyer = expect(await client.put(f"{path}/check-ins/3/buyer", json=report, headers=buyer.headers), 200)
    three = as_buyer["check_ins"][0]
    assert three["buyer"]["revenue"] == "350000000"
    assert three["buyer"]["organization_id"] == buyer.organization_id
    assert three["supplier"] is None
    for_the_other_side = await client.put(f"{path}/check-ins/3/supplier", json=report, headers=buyer.headers)
    assert expect(for_the_other_side, 403)["code"] == "NotYourOrganization"
    replaced = expect(
        await client.put(f"{path}/check-ins/3/buyer", json={"status": "scaled_up", "jobs": 9}, headers=buyer.headers),
        200,
    )
    assert (replaced["check_ins"][0]["buyer"]["status"], replaced["check_ins"][0]["buyer"]["jobs"]) == ("scaled_up", 9)
    not_yet = await client.put(f"{path}/check-ins/12/buyer", json=report, headers=buyer.headers)
    assert expect(not_yet, 409)["code"] == "InvalidTransition"
    no_such = await client.put(f"{path}/check-ins/4/buyer", json=report, headers=buyer.headers)
    assert expect(no_such, 404)["code"] == "CheckInNotFound"
    by_moderator = await client.put(
        f"{path}/check-ins/6/supplier", json={"status": "problems"}, headers=moderator.headers
    )
    assert expect(by_moderator, 200)["check_ins"][1]["supplier"]["status"] == "problems"


async def test_overdue_check_ins_notify_the_broker_once(client: AsyncClient, session: AsyncSession) -> None:
    supplier, buyer = await register(client, kind="institute"), await register(client)
    broker = await register(client, kind="intermediary")
    await grant_mandate(client, supplier, broker)
    signed_on = utcnow().date() - timedelta(days=130)  # the 3-month check-in is due ~40 days ago
    deal = await _deal(
        client,
        supplier,
        buyer,
        stage="signed",
        signed_on=signed_on.isoformat(),
        broker_organization_id=broker.organization_id,
    )
    path = f"/api/v1/deals/{deal['id']}"
    expect(await client.put(f"{path}/check-ins/3/supplier", json={"status": "in_use"}, headers=supplier.headers), 200)
    follow_up = expect(await client.get(f"{path}/follow-up", headers=broker.headers), 200)
    assert follow_up["check_ins"][0]["overdue"] is True, "the buyer has not reported"

    assert await sweep(session) == 1
    await session.commit()
    notes = expect(await client.get("/api/v1/notifications", headers=broker.headers), 200)["items"]
    overdue = [n for n in notes if n["kind"] == "check_in_overdue"]
    assert len(overdue) == 1
    assert overdue[0]["payload"]["month"] == 3
    assert overdue[0]["payload"]["missing_sides"] == ["buyer"]
    assert await follow_up_service.notify_overdue(session) == 0, "notified once"


async def test_without_a_broker_the_silent_parties_hear_of_it(client: AsyncClient, session: AsyncSession) -> None:
    supplier, buyer = await register(client, kind="institute"), await register(client)
    signed_on = utcnow().date() - timedelta(days=130)
    await _deal(client, supplier, buyer, stage="signed", signed_on=signed_on.isoformat())
    assert await follow_up_service.notify_overdue(session) == 1
    await session.commit()
    for party in (supplier, buyer):
        notes = expect(await client.get("/api/v1/notifications", headers=party.headers), 200)["items"]
        assert [n["payload"]["missing_sides"] for n in notes if n["kind"] == "check_in_overdue"] == [
            ["supplier", "buyer"]
        ]
