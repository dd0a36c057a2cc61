"""Statistics of services and follow-up, against figures worked out by hand."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime

from httpx import AsyncClient
from openpyxl import load_workbook
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import ServiceRequest
from tests.helpers import create_listing, expect, make_staff, register

SR = "/api/v1/service-requests"


async def test_service_and_follow_up_statistics(client: AsyncClient, session: AsyncSession) -> None:
    moderator = await make_staff(client, session, "moderator")
    owner = await register(client, kind="institute")
    offer = await create_listing(client, owner, status="published", moderator=moderator)
    first = await register(client, kind="intermediary", organization="A Thẩm định")
    second = await register(client, kind="intermediary", organization="B Sở hữu trí tuệ")

    async def delivered(provider, accepted: datetime, done: datetime, rating: int) -> None:
        body = {"service_type": "valuation", "subject_type": "offer", "subject_id": offer["id"], "title": "Định giá"}
        request = expect(await client.post(SR, json=body, headers=owner.headers), 201)
        quote = expect(
            await client.post(
                f"{SR}/{request['id']}/quotes", json={"fee": "1000", "days": 9}, headers=provider.headers
            ),
            201,
        )
        path = f"{SR}/{request['id']}"
        expect(await client.post(f"{path}/accept", json={"quote_id": quote["id"]}, headers=owner.headers), 200)
        expect(await client.post(f"{path}/deliver", json={"result": {"summary": "x"}}, headers=provider.headers), 200)
        expect(await client.post(f"{path}/rating", json={"score": rating}, headers=owner.headers), 200)
        await session.execute(
            update(ServiceRequest)
            .where(ServiceRequest.id == uuid.UUID(request["id"]))
            .values(accepted_at=accepted, delivered_at=done)
        )
        await session.commit()

    # 10 and 12 days from acceptance to delivery: median 11
    await delivered(first, datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 11, tzinfo=UTC), 4)
    await delivered(second, datetime(2026, 4, 1, tzinfo=UTC), datetime(2026, 4, 13, tzinfo=UTC), 5)
    legal = {"service_type": "legal", "subject_type": "offer", "subject_id": offer["id"], "title": "Pháp lý"}
    expect(await client.post(SR, json=legal, headers=owner.headers), 201)

    # three confirmed deals signed on 1 Feb 2026: check-ins due 1 May and 1 Aug 2026 (and 1 Feb 2027)
    buyer = await register(client)
    deals = []
    for _ in range(3):
        body = {
            "supplier_organization_id": owner.organization_id,
            "buyer_organization_id": buyer.organization_id,
            "deal_type": "licence",
            "origin": "domestic_institute_university",
            "value": "100000000",
            "stage": "signed",
            "signed_on": "2026-02-01",
        }
        deals.append(expect(await client.post("/api/v1/deals", json=body, headers=moderator.headers), 201))
    on_deal = {"service_type": "contract_drafting", "subject_type": "deal", "title": "Hợp đồng"}
    expect(await client.post(SR, json={**on_deal, "subject_id": deals[0]["id"]}, headers=buyer.headers), 201)
    cancelled = expect(
        await client.post(SR, json={**on_deal, "subject_id": deals[1]["id"]}, headers=buyer.headers), 201
    )
    expect(await client.post(f"{SR}/{cancelled['id']}/cancel", headers=buyer.headers), 200)

    reports = [
        (deals[0], 3, "supplier", {"status": "in_use", "jobs": 3, "revenue": "100000000"}),
        (deals[0], 3, "buyer", {"status": "scaled_up", "jobs": 2, "revenue": "50000000", "cost_saved": "20000000"}),
        (deals[1], 6, "buyer", {"status": "problems", "revenue": "1000", "currency": "USD"}),
    ]
    for deal, month, side, report in reports:
        path = f"/api/v1/deals/{deal['id']}/check-ins/{month}/{side}"
        expect(await client.put(path, json=report, headers=moderator.headers), 200)

    stats = expect(await client.get("/api/v1/stats/services", params={"year": 2026}), 200)
    assert stats["by_type"] == [
        {"service_type": "valuation", "requested": 2, "delivered": 2, "median_days_to_deliver": "11"},
        {"service_type": "legal", "requested": 1, "delivered": 0, "median_days_to_deliver": None},
        {"service_type": "contract_drafting", "requested": 2, "delivered": 0, "median_days_to_deliver": None},
    ]
    assert [(p["name"], p["quotes"], p["delivered"], p["average_rating"]) for p in stats["by_provider"]] == [
        ("A Thẩm định", 1, 1, "4"),
        ("B Sở hữu trí tuệ", 1, 1, "5"),
    ]
    assert stats["deals"] == {"deals": 3, "with_service": 1, "share": "0.3333"}
    assert stats["follow_up"] == {
        "check_ins_due": 6,
        "reports": 3,
        "by_status": {"in_use": 1, "scaled_up": 1, "problems": 1, "abandoned": 0},
        "jobs": 5,
        "revenue_vnd": "150000000",  # the USD report is not summed with VND
        "cost_saved_vnd": "20000000",
    }
    numerators = {i["code"]: i["numerator"] for i in stats["intermediaries"]}
    assert numerators == {"active_intermediaries": 2, "intermediary_networks": 0}, "two delivered a service"
    indicators = expect(await client.get("/api/v1/stats/indicators", params={"year": 2026}), 200)["indicators"]
    assert next(i for i in indicators if i["code"] == "active_intermediaries")["numerator"] == "2"

    report = await client.get("/api/v1/stats/report.xlsx", params={"year": 2026})
    book = load_workbook(io.BytesIO(report.content))
    rows = {r[0]: r[1] for r in book["services_and_follow_up"].iter_rows(min_row=2, values_only=True)}
    assert (rows["deals_with_service"], rows["jobs"], rows["revenue_vnd"]) == (1, 5, 150000000)
    by_type = list(book["services_by_type"].iter_rows(min_row=2, values_only=True))
    assert by_type[0][1:4] == ("valuation", 2, 2)
