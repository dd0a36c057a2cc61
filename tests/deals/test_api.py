"""Interests, deals and statistics through HTTP."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from httpx import AsyncClient
from openpyxl import load_workbook
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Interest
from tests.helpers import create_listing, expect, grant_mandate, make_staff, register


@pytest.fixture
async def moderator(client: AsyncClient, session: AsyncSession):
    return await make_staff(client, session, "moderator")


async def _interest(client: AsyncClient, listing: dict, party, message: str = "Chúng tôi quan tâm.") -> dict:
    return expect(
        await client.post(
            "/api/v1/interests", json={"listing_id": listing["id"], "message": message}, headers=party.headers
        ),
        201,
    )


class TestInterests:
    async def test_accepting_reveals_an_anonymous_owner_to_that_party_only(
        self, client: AsyncClient, moderator
    ) -> None:
        owner = await register(client, organization="Viện Ẩn Danh")
        offer = await create_listing(client, owner, status="published", moderator=moderator, visibility="anonymous")
        buyer, other = await register(client), await register(client)
        interest = await _interest(client, offer, buyer)
        assert interest["status"] == "pending"
        assert interest["listing_owner_id"] is None, "the owner stays hidden until it accepts"
        assert (
            expect(await client.get(f"/api/v1/offers/{offer['id']}", headers=buyer.headers), 200)["organization"]
            is None
        )

        accepted = expect(await client.post(f"/api/v1/interests/{interest['id']}/accept", headers=owner.headers), 200)
        assert accepted["status"] == "accepted"
        assert accepted["response_hours"] is not None
        seen = expect(await client.get(f"/api/v1/offers/{offer['id']}", headers=buyer.headers), 200)
        assert seen["organization"]["name"] == "Viện Ẩn Danh"
        assert seen["contact"] is not None
        still_hidden = expect(await client.get(f"/api/v1/offers/{offer['id']}", headers=other.headers), 200)
        assert still_hidden["organization"] is None
        assert (
            expect(await client.get(f"/api/v1/interests/{interest['id']}", headers=buyer.headers), 200)[
                "listing_owner_id"
            ]
            == owner.organization_id
        )

    async def test_thread_is_for_the_two_parties(self, client: AsyncClient, moderator) -> None:
        owner = await register(client)
        offer = await create_listing(client, owner, status="published", moderator=moderator)
        buyer, stranger = await register(client), await register(client)
        interest = await _interest(client, offer, buyer)
        path = f"/api/v1/interests/{interest['id']}/messages"
        expect(await client.post(path, json={"body": "Xin báo giá."}, headers=buyer.headers), 201)
        expect(await client.post(path, json={"body": "Đã gửi báo giá."}, headers=owner.headers), 201)
        thread = expect(await client.get(path, headers=owner.headers), 200)
        assert [m["body"] for m in thread["items"]] == ["Xin báo giá.", "Đã gửi báo giá."]
        assert (await client.get(path, headers=stranger.headers)).status_code == 404
        assert (await client.post(path, json={"body": "Tôi chen vào"}, headers=stranger.headers)).status_code == 404
        assert (await client.get(f"/api/v1/interests/{interest['id']}", headers=stranger.headers)).status_code == 404

    async def test_decline_needs_a_coded_reason(self, client: AsyncClient, moderator) -> None:
        owner = await register(client)
        offer = await create_listing(client, owner, status="published", moderator=moderator)
        buyer = await register(client)
        interest = await _interest(client, offer, buyer)
        path = f"/api/v1/interests/{interest['id']}/decline"
        assert expect(await client.post(path, json={"reason": "bored"}, headers=owner.headers), 422)["errors"][0][
            "loc"
        ] == ["body", "reason"]
        declined = expect(
            await client.post(
                path, json={"reason": "not_available", "message": "Đã chuyển giao độc quyền."}, headers=owner.headers
            ),
            200,
        )
        assert declined["decline_reason"] == "not_available"
        again = await client.post(f"/api/v1/interests/{interest['id']}/accept", headers=owner.headers)
        assert expect(again, 409)["code"] == "InvalidTransition"
        assert (
            await client.post(f"/api/v1/interests/{interest['id']}/accept", headers=buyer.headers)
        ).status_code == 403

    async def test_one_open_interest_per_organisation_and_not_in_your_own_listing(
        self, client: AsyncClient, moderator
    ) -> None:
        owner = await register(client)
        offer = await create_listing(client, owner, status="published", moderator=moderator)
        buyer = await register(client)
        await _interest(client, offer, buyer)
        second = await client.post(
            "/api/v1/interests", json={"listing_id": offer["id"], "message": "Lần nữa"}, headers=buyer.headers
        )
        assert expect(second, 409)["code"] == "InterestExists"
        own = await client.post(
            "/api/v1/interests", json={"listing_id": offer["id"], "message": "Của tôi"}, headers=owner.headers
        )
        assert expect(own, 422)["errors"][0]["loc"] == ["body", "listing_id"]
        draft = await create_listing(client, owner)
        hidden = await client.post(
            "/api/v1/interests", json={"listing_id": draft["id"], "message": "Nháp?"}, headers=buyer.headers
        )
        assert hidden.status_code == 404

    async def test_unanswered_interests_are_flagged(
        self, client: AsyncClient, session: AsyncSession, moderator
    ) -> None:
        owner = await register(client)
        offer = await create_listing(client, owner, status="published", moderator=moderator)
        buyer = await register(client)
        interest = await _interest(client, offer, buyer)
        await session.execute(
            update(Interest)
            .where(Interest.id == uuid.UUID(interest["id"]))
            .values(created_at=datetime.now(UTC) - timedelta(days=8))
        )
        await session.commit()
        received = expect(
            await client.get("/api/v1/interests", params={"role": "received"}, headers=owner.headers), 200
        )
        assert received["items"][0]["unanswered"] is True


def _deal(supplier, buyer, **overrides) -> dict:
    return {
        "supplier_organization_id": supplier.organization_id,
        "buyer_organization_id": buyer.organization_id,
        "deal_type": "licence",
        "origin": "domestic_institute_university",
        "field": "environment",
        "value": "500000000",
        **overrides,
    }


class TestDeals:
    async def test_deal_from_an_interest_defaults_parties_and_origin(self, client: AsyncClient, moderator) -> None:
        owner = await register(client, kind="institute")
        offer = await create_listing(client, owner, status="published", moderator=moderator)
        buyer = await register(client)
        interest = await _interest(client, offer, buyer)
        deal = expect(
            await client.post(
                "/api/v1/deals",
                json={
                    "source": "interest",
                    "interest_id": interest["id"],
                    "offer_id": offer["id"],
                    "deal_type": "licence",
                    "value": "850000000",
                    "stage": "signed",
                    "signed_on": "2026-10-15",
                    "ip_transferred": True,
                },
                headers=owner.headers,
            ),
            201,
        )
        assert deal["supplier_organization_id"] == owner.organization_id
        assert deal["buyer_organization_id"] == buyer.organization_id
        assert deal["origin"] == "domestic_institute_university"
        assert deal["field"] == "environment"
        assert deal["reference"] == "GD-2026-0001"
        assert deal["value_vnd"] == "850000000"

    async def test_deal_from_an_interest_in_an_offer_needs_only_the_interest(
        self, client: AsyncClient, moderator
    ) -> None:
        owner = await register(client, kind="institute")
        offer = await create_listing(client, owner, status="published", moderator=moderator)
        buyer = await register(client)
        interest = await _interest(client, offer, buyer)
        expect(await client.post(f"/api/v1/interests/{interest['id']}/accept", headers=owner.headers), 200)
        deal = expect(
            await client.post(
                "/api/v1/deals",
                json={"source": "interest", "interest_id": interest["id"], "deal_type": "licence"},
                headers=buyer.headers,
            ),
            201,
        )
        assert deal["supplier_organization_id"] == owner.organization_id
        assert deal["buyer_organization_id"] == buyer.organization_id
        assert deal["offer_id"] == offer["id"]
        assert deal["interest_id"] == interest["id"]

    async def test_an_interest_in_a_demand_makes_the_sender_the_supplier(self, client: AsyncClient, moderator) -> None:
        needing = await register(client)
        demand = await create_listing(client, needing, "demand", status="published", moderator=moderator)
        institute = await register(client, kind="institute")
        interest = await _interest(client, demand, institute)
        deal = expect(
            await client.post(
                "/api/v1/deals",
                json={
                    "source": "interest",
                    "interest_id": interest["id"],
                    "deal_type": "licence",
                    "origin": "domestic_institute_university",
                },
                headers=needing.headers,
            ),
            201,
        )
        assert deal["supplier_organization_id"] == institute.organization_id
        assert deal["buyer_organization_id"] == needing.organization_id
        assert deal["demand_id"] == demand["id"]

    async def test_a_deal_names_only_an_interest_its_recorder_can_see(self, client: AsyncClient, moderator) -> None:
        owner = await register(client)
        offer = await create_listing(client, owner, status="published", moderator=moderator)
        buyer, stranger = await register(client), await register(client)
        interest = await _interest(client, offer, buyer)
        other_offer = await create_listing(client, owner, status="published", moderator=moderator, title="Khác hẳn")
        refused = await client.post(
            "/api/v1/deals",
            json={"source": "interest", "interest_id": interest["id"], "deal_type": "licence"},
            headers=stranger.headers,
        )
        assert expect(refused, 422)["errors"][0]["loc"] == ["body", "interest_id"]
        mismatched = await client.post(
            "/api/v1/deals",
            json={"interest_id": interest["id"], "offer_id": other_offer["id"], "deal_type": "licence"},
            headers=owner.headers,
        )
        assert expect(mismatched, 422)["errors"][0]["loc"] == ["body", "offer_id"]

    async def test_currency_is_converted_with_a_recorded_rate(self, client: AsyncClient) -> None:
        supplier, buyer = await register(client, country="JP"), await register(client)
        recorded = expect(
            await client.post(
                "/api/v1/deals",
                json=_deal(
                    supplier,
                    buyer,
                    value="10000",
                    currency="USD",
                    origin="imported",
                    origin_country="JP",
                    stage="signed",
                    signed_on="2025-06-01",
                ),
                headers=buyer.headers,
            ),
            201,
        )
        assert recorded["vnd_rate"] == "26000"  # the 2025 USD rate of app/seed_data/exchange_rates.yaml
        assert recorded["value_vnd"] == "260000000"  # 10,000 × 26,000
        assert recorded["developed_economy"] is True
        given = expect(
            await client.post(
                "/api/v1/deals",
                json=_deal(supplier, buyer, value="1000", currency="EUR", vnd_rate="28000"),
                headers=buyer.headers,
            ),
            201,
        )
        assert given["value_vnd"] == "28000000"
        unknown = await client.post("/api/v1/deals", json=_deal(supplier, buyer, currency="XAU"), headers=buyer.headers)
        assert expect(unknown, 422)["errors"][0]["loc"] == ["body", "vnd_rate"]

    async def test_stages_move_forward_only(self, client: AsyncClient) -> None:
        supplier, buyer = await register(client), await register(client)
        deal = expect(await client.post("/api/v1/deals", json=_deal(supplier, buyer), headers=supplier.headers), 201)
        path = f"/api/v1/deals/{deal['id']}/stage"
        signed = expect(
            await client.post(path, json={"stage": "signed", "on": "2026-03-01"}, headers=buyer.headers), 200
        )
        assert (signed["stage"], signed["signed_on"]) == ("signed", "2026-03-01")
        done = expect(await client.post(path, json={"stage": "completed"}, headers=supplier.headers), 200)
        assert done["completed_on"]
        back = await client.post(path, json={"stage": "negotiating"}, headers=supplier.headers)
        assert expect(back, 409)["code"] == "InvalidTransition"

    async def test_changes_need_the_current_etag_and_strangers_see_nothing(self, client: AsyncClient) -> None:
        supplier, buyer, stranger = await register(client), await register(client), await register(client)
        created = await client.post("/api/v1/deals", json=_deal(supplier, buyer), headers=supplier.headers)
        deal = expect(created, 201)
        path = f"/api/v1/deals/{deal['id']}"
        assert (await client.patch(path, json={"confidential": True}, headers=supplier.headers)).status_code == 428
        patched = await client.patch(
            path, json={"confidential": True}, headers={**supplier.headers, "If-Match": created.headers["etag"]}
        )
        assert expect(patched, 200)["confidential"] is True
        stale = await client.patch(
            path, json={"value": "1"}, headers={**supplier.headers, "If-Match": created.headers["etag"]}
        )
        assert stale.status_code == 412
        assert (await client.get(path, headers=stranger.headers)).status_code == 404
        listed = expect(await client.get("/api/v1/deals", headers=stranger.headers), 200)
        assert listed["total"] == 0

    async def test_mandated_broker_records_for_a_client_and_is_named(self, client: AsyncClient) -> None:
        client_org, buyer = await register(client), await register(client)
        broker = await register(client, kind="intermediary")
        refused = await client.post("/api/v1/deals", json=_deal(client_org, buyer), headers=broker.headers)
        assert refused.status_code == 403
        await grant_mandate(client, client_org, broker)
        deal = expect(await client.post("/api/v1/deals", json=_deal(client_org, buyer), headers=broker.headers), 201)
        assert deal["broker_organization_id"] == broker.organization_id

    async def test_a_named_broker_must_hold_a_mandate(self, client: AsyncClient) -> None:
        supplier, buyer = await register(client), await register(client)
        broker = await register(client, kind="intermediary")
        body = _deal(supplier, buyer, broker_organization_id=broker.organization_id)
        refused = await client.post("/api/v1/deals", json=body, headers=supplier.headers)
        assert expect(refused, 422)["errors"][0]["loc"] == ["body", "broker_organization_id"]
        await grant_mandate(client, buyer, broker)
        expect(await client.post("/api/v1/deals", json=body, headers=supplier.headers), 201)


class TestStatistics:
    async def test_indicators_from_recorded_deals(self, client: AsyncClient, moderator) -> None:
        institute = await register(client, kind="institute")
        company, japan = await register(client), await register(client, country="JP")
        broker = await register(client, kind="intermediary")
        await grant_mandate(client, institute, broker)
        for supplier, overrides in (
            (institute, {"value": "300000000", "signed_on": "2024-05-01"}),
            (institute, {"value": "600000000", "signed_on": "2025-05-01", "ip_transferred": True}),
            (company, {"value": "200000000", "signed_on": "2025-06-01", "origin": "domestic_enterprise"}),
            (
                japan,
                {
                    "value": "100000000",
                    "signed_on": "2025-07-01",
                    "origin": "imported",
                    "origin_country": "JP",
                    "confidential": True,
                },
            ),
        ):
            expect(
                await client.post(
                    "/api/v1/deals",
                    json=_deal(
                        supplier, company if supplier is not company else institute, stage="signed", **overrides
                    ),
                    headers=moderator.headers,
                ),
                201,
            )
        report = expect(await client.get("/api/v1/stats/indicators", params={"year": 2025}), 200)
        indicators = {i["code"]: i for i in report["indicators"]}
        assert indicators["transaction_value"]["value"] == "900000000"  # 600 + 200 + 100 M
        assert indicators["value_growth"]["value"] == "2"  # (900 − 300) / 300
        assert indicators["ip_share"]["numerator"] == "1"
        assert indicators["ip_share"]["denominator"] == "3"
        assert indicators["imported_developed_share"]["value"] == "0.3333"
        assert indicators["institute_share_of_domestic"]["value"] == "0.5"
        assert indicators["active_intermediaries"]["value"] == "0"  # the mandate was granted later, this year
        this_year = expect(await client.get("/api/v1/stats/indicators"), 200)
        active = next(i for i in this_year["indicators"] if i["code"] == "active_intermediaries")
        assert active["value"] == "1"
        ip_2025 = next(t for t in indicators["ip_share"]["targets"] if t["year"] == 2025)
        assert ip_2025["met"] is True  # 33 % > 15 %

        by_field = expect(await client.get("/api/v1/stats/deals-by-field", params={"year": 2025}), 200)
        assert by_field["total_value_vnd"] == "900000000"
        assert by_field["rows"][0]["value_vnd"] == "800000000"  # the confidential 100 M is withheld
        assert by_field["rows"][0]["confidential_deals"] == 1

        csv_text = (
            await client.get("/api/v1/stats/indicators", params={"year": 2025, "format": "csv"})
        ).content.decode("utf-8-sig")
        assert csv_text.splitlines()[0].startswith("code,label_vi,label_en")
        assert any(line.startswith("ip_share,") for line in csv_text.splitlines())

        workbook = await client.get("/api/v1/stats/report.xlsx", params={"year": 2025})
        assert workbook.status_code == 200
        sheets = load_workbook(io.BytesIO(workbook.content)).sheetnames
        assert {"transaction_value", "ip_share", "listings_by_field", "funnel", "deals_by_field"} <= set(sheets)

    async def test_deal_level_figures_are_for_moderators(self, client: AsyncClient, moderator) -> None:
        member = await register(client)
        assert (
            await client.get("/api/v1/stats/deals", params={"year": 2025}, headers=member.headers)
        ).status_code == 403
        assert (await client.get("/api/v1/stats/deals", params={"year": 2025})).status_code == 401
        expect(await client.get("/api/v1/stats/deals", params={"year": 2025}, headers=moderator.headers), 200)

    async def test_bad_range_is_named(self, client: AsyncClient) -> None:
        body = expect(
            await client.get("/api/v1/stats/indicators", params={"from": "2025-06-01", "to": "2025-01-01"}), 422
        )
        assert body["errors"][0]["loc"] == ["query", "to"]


async def _value_2025(client: AsyncClient) -> str:
    report = expect(await client.get("/api/v1/stats/indicators", params={"year": 2025}), 200)
    return next(i for i in report["indicators"] if i["code"] == "transaction_value")["value"]


class TestDealConfirmation:
    async def test_a_deal_one_side_records_counts_only_once_the_other_confirms(self, client: AsyncClient) -> None:
        supplier, buyer = await register(client, kind="institute"), await register(client)
        body = _deal(supplier, buyer, stage="signed", signed_on="2025-05-01")
        deal = expect(await client.post("/api/v1/deals", json=body, headers=supplier.headers), 201)
        assert deal["confirmation"] == "unconfirmed"
        assert deal["supplier_confirmed_at"] is not None
        assert deal["buyer_confirmed_at"] is None
        assert await _value_2025(client) == "0"
        notes = expect(await client.get("/api/v1/notifications", headers=buyer.headers), 200)["items"]
        assert [(n["kind"], n["payload"]["deal_id"]) for n in notes] == [("deal_to_confirm", deal["id"])]

        again = expect(await client.post(f"/api/v1/deals/{deal['id']}/confirm", headers=supplier.headers), 200)
        assert again["confirmation"] == "unconfirmed", "the recorder cannot confirm for the other side"
        confirmed = expect(await client.post(f"/api/v1/deals/{deal['id']}/confirm", headers=buyer.headers), 200)
        assert confirmed["confirmation"] == "confirmed"
        assert confirmed["buyer_confirmed_at"] is not None
        assert await _value_2025(client) == "500000000"
        recorder_notes = expect(await client.get("/api/v1/notifications", headers=supplier.headers), 200)["items"]
        assert [n["kind"] for n in recorder_notes] == ["deal_confirmed"]

    async def test_signing_alone_after_confirmation_asks_the_other_side_again(self, client: AsyncClient) -> None:
        supplier, buyer = await register(client, kind="institute"), await register(client)
        deal = expect(await client.post("/api/v1/deals", json=_deal(supplier, buyer), headers=supplier.headers), 201)
        path = f"/api/v1/deals/{deal['id']}"
        confirmed = expect(await client.post(f"{path}/confirm", headers=buyer.headers), 200)
        assert confirmed["confirmation"] == "confirmed"  # the negotiation, as both saw it
        # one side alone says it was signed in 2025: that moves the indicators, so the other confirms it
        signed = expect(
            await client.post(f"{path}/stage", json={"stage": "signed", "on": "2025-05-01"}, headers=supplier.headers),
            200,
        )
        assert signed["confirmation"] == "unconfirmed"
        assert (signed["supplier_confirmed_at"] is not None, signed["buyer_confirmed_at"]) == (True, None)
        assert await _value_2025(client) == "0"
        notes = expect(await client.get("/api/v1/notifications", headers=buyer.headers), 200)["items"]
        assert "deal_to_confirm" in [n["kind"] for n in notes if n["payload"].get("deal_id") == deal["id"]]
        expect(await client.post(f"{path}/confirm", headers=buyer.headers), 200)
        assert await _value_2025(client) == "500000000"
        # completing a signed deal changes no term the statistics use: the confirmation stays
        done = expect(await client.post(f"{path}/stage", json={"stage": "completed"}, headers=supplier.headers), 200)
        assert done["confirmation"] == "confirmed"

    async def test_a_fabricated_deal_naming_another_organisation_moves_no_indicator(
        self, client: AsyncClient, moderator
    ) -> None:
        forger, victim = await register(client), await register(client, kind="institute")
        for signed_on, value in (("2024-03-01", "1000000000"), ("2025-03-01", "418900000000")):
            expect(
                await client.post(
                    "/api/v1/deals",
                    json=_deal(victim, forger, stage="signed", signed_on=signed_on, value=value),
                    headers=forger.headers,
                ),
                201,
            )
        report = expect(await client.get("/api/v1/stats/indicators", params={"year": 2025}), 200)
        indicators = {i["code"]: i for i in report["indicators"]}
        assert indicators["transaction_value"]["value"] == "0"
        assert indicators["value_growth"]["value"] is None
        assert not any(t["met"] for t in indicators["value_growth"]["targets"])
        detail = expect(await client.get("/api/v1/stats/deals", params={"year": 2025}, headers=moderator.headers), 200)
        assert detail["items"] == []

    async def test_a_value_above_the_plausibility_bound_needs_a_moderator(self, client: AsyncClient, moderator) -> None:
        supplier, buyer = await register(client), await register(client)
        body = _deal(supplier, buyer, stage="signed", signed_on="2025-05-01", value="60000000000")  # 60 billion VND
        deal = expect(await client.post("/api/v1/deals", json=body, headers=supplier.headers), 201)
        path = f"/api/v1/deals/{deal['id']}/confirm"
        both = expect(await client.post(path, headers=buyer.headers), 200)
        assert both["confirmation"] == "awaiting_moderator"
        assert await _value_2025(client) == "0"
        waiting = expect(
            await client.get("/api/v1/deals", params={"confirmation": "awaiting_moderator"}, headers=moderator.headers),
            200,
        )
        assert [d["id"] for d in waiting["items"]] == [deal["id"]]
        confirmed = expect(await client.post(path, headers=moderator.headers), 200)
        assert confirmed["confirmation"] == "confirmed"
        assert confirmed["moderator_confirmed_at"] is not None
        assert await _value_2025(client) == "60000000000"

    async def test_a_mandated_broker_confirms_for_its_client_and_strangers_cannot(self, client: AsyncClient) -> None:
        supplier, buyer, stranger = await register(client), await register(client), await register(client)
        broker = await register(client, kind="intermediary")
        await grant_mandate(client, buyer, broker)
        deal = expect(await client.post("/api/v1/deals", json=_deal(supplier, buyer), headers=supplier.headers), 201)
        path = f"/api/v1/deals/{deal['id']}/confirm"
        assert (await client.post(path, headers=stranger.headers)).status_code == 404
        confirmed = expect(await client.post(path, headers=broker.headers), 200)
        assert confirmed["confirmation"] == "confirmed"

    async def test_changing_a_term_asks_the_other_side_again(self, client: AsyncClient) -> None:
        supplier, buyer = await register(client), await register(client)
        body = _deal(supplier, buyer, stage="signed", signed_on="2025-05-01")
        created = await client.post("/api/v1/deals", json=body, headers=supplier.headers)
        deal = expect(created, 201)
        confirmed = await client.post(f"/api/v1/deals/{deal['id']}/confirm", headers=buyer.headers)
        assert expect(confirmed, 200)["confirmation"] == "confirmed"
        path = f"/api/v1/deals/{deal['id']}"
        noted = await client.patch(
            path,
            json={"notes": "Hợp đồng số 12/HĐ"},
            headers={**supplier.headers, "If-Match": confirmed.headers["etag"]},
        )
        assert expect(noted, 200)["confirmation"] == "confirmed", "a note is not a term"
        inflated = await client.patch(
            path, json={"value": "5000000000"}, headers={**supplier.headers, "If-Match": noted.headers["etag"]}
        )
        assert expect(inflated, 200)["confirmation"] == "unconfirmed"
        assert inflated.json()["buyer_confirmed_at"] is None
        assert await _value_2025(client) == "0"
        notes = expect(await client.get("/api/v1/notifications", headers=buyer.headers), 200)["items"]
        assert [n["kind"] for n in notes].count("deal_to_confirm") == 2

    async def test_a_moderator_records_a_confirmed_deal(self, client: AsyncClient, moderator) -> None:
        supplier, buyer = await register(client), await register(client)
        deal = expect(await client.post("/api/v1/deals", json=_deal(supplier, buyer), headers=moderator.headers), 201)
        assert deal["confirmation"] == "confirmed"
        assert deal["moderator_confirmed_at"] is not None
        for party in (supplier, buyer):
            notes = expect(await client.get("/api/v1/notifications", headers=party.headers), 200)["items"]
            assert "deal_to_confirm" not in [n["kind"] for n in notes]
