"""Service requests through HTTP: every transition, who may make it, and what each side sees."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from httpx import AsyncClient
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from app.engagements.service import service_request_service
from app.models import ServiceRequest
from tests.helpers import Registered, create_listing, expect, grant_mandate, make_staff, register

BASE = "/api/v1/service-requests"


@pytest.fixture
async def moderator(client: AsyncClient, session: AsyncSession) -> Registered:
    return await make_staff(client, session, "moderator")


async def _request(client: AsyncClient, requester: Registered, subject: dict, **extra) -> dict:
    body = {
        "service_type": "valuation",
        "subject_type": subject.get("kind", "offer"),
        "subject_id": subject["id"],
        "title": "Định giá vật liệu lọc asen",
        **extra,
    }
    return expect(await client.post(BASE, json=body, headers=requester.headers), 201)


async def _quote(client: AsyncClient, provider: Registered, request: dict, fee: str = "25000000") -> dict:
    body = {"fee": fee, "currency": "VND", "days": 15, "note": "Ba cách tiếp cận"}
    return expect(await client.post(f"{BASE}/{request['id']}/quotes", json=body, headers=provider.headers), 201)


async def _cast(client: AsyncClient, moderator: Registered) -> tuple[Registered, dict, Registered, Registered]:
    owner = await register(client, organization="Viện Vật liệu", kind="institute")
    offer = await create_listing(client, owner, status="published", moderator=moderator)
    first = await register(client, kind="intermediary", organization="Công ty Thẩm định Giá A")
    second = await register(client, kind="intermediary", organization="Văn phòng Sở hữu trí tuệ B")
    return owner, offer, first, second


class TestLifecycle:
    async def test_open_quoted_accepted_delivered_closed_and_rated(self, client: AsyncClient, moderator) -> None:
        owner, offer, first, second = await _cast(client, moderator)
        request = await _request(client, owner, offer)
        assert request["status"] == "open"
        assert request["subject_id"] == offer["id"]
        assert request["quotes"] == []

        quote_a = await _quote(client, first, request)
        quote_b = await _quote(client, second, request, fee="30000000")
        assert quote_a["fee"] == "25000000"
        assert quote_a["provider_organization_id"] == first.organization_id
        seen_by_owner = expect(await client.get(f"{BASE}/{request['id']}", headers=owner.headers), 200)
        assert seen_by_owner["status"] == "quoted"
        assert {q["id"] for q in seen_by_owner["quotes"]} == {quote_a["id"], quote_b["id"]}
        seen_by_a = expect(await client.get(f"{BASE}/{request['id']}", headers=first.headers), 200)
        assert [q["id"] for q in seen_by_a["quotes"]] == [quote_a["id"]], "a provider sees its own quote only"

        accepted = expect(
            await client.post(
                f"{BASE}/{request['id']}/accept", json={"quote_id": quote_a["id"]}, headers=owner.headers
            ),
            200,
        )
        assert accepted["status"] == "accepted"
        assert accepted["provider_organization_id"] == first.organization_id
        assert accepted["provider_kind"] == "organization"
        assert {q["id"]: q["status"] for q in accepted["quotes"]} == {
            quote_a["id"]: "accepted",
            quote_b["id"]: "rejected",
        }

        result = {
            "summary": "Giá trị license 5 năm",
            "value_low": "320000000",
            "value_high": "450000000",
            "currency": "VND",
            "method": "income",
        }
        delivered = expect(
            await client.post(f"{BASE}/{request['id']}/deliver", json={"result": result}, headers=first.headers), 200
        )
        assert delivered["status"] == "delivered"
        assert delivered["result"]["value_low"] == "320000000"
        assert delivered["result"]["method"] == "income"
        assert delivered["delivered_at"] is not None

        closed = expect(await client.post(f"{BASE}/{request['id']}/close", headers=owner.headers), 200)
        assert closed["status"] == "closed"

        rated = expect(
            await client.post(
                f"{BASE}/{request['id']}/rating", json={"score": 5, "comment": "Đúng hạn"}, headers=owner.headers
            ),
            200,
        )
        assert rated["requester_rating"] == 5
        rated = expect(
            await client.post(f"{BASE}/{request['id']}/rating", json={"score": 4}, headers=first.headers), 200
        )
        assert (rated["requester_rating"], rated["provider_rating"]) == (5, 4)
        again = await client.post(f"{BASE}/{request['id']}/rating", json={"score": 1}, headers=owner.headers)
        assert expect(again, 409)["code"] == "AlreadyRated"

    async def test_a_broker_requests_for_its_client_only_under_a_mandate(self, client: AsyncClient, moderator) -> None:
        owner, offer, first, _second = await _cast(client, moderator)
        body = {
            "service_type": "legal",
            "subject_type": "offer",
            "subject_id": offer["id"],
            "title": "Tư vấn hợp đồng license",
            "requester_organization_id": owner.organization_id,
        }
        refused = await client.post(BASE, json=body, headers=first.headers)
        assert expect(refused, 403)["code"] == "NotYourOrganization"
        await grant_mandate(client, owner, first)
        created = expect(await client.post(BASE, json=body, headers=first.headers), 201)
        assert created["requester_organization_id"] == owner.organization_id

    async def test_the_subject_must_be_the_requesters(self, client: AsyncClient, moderator) -> None:
        owner, offer, _first, _second = await _cast(client, moderator)
        stranger = await register(client)
        body = {"service_type": "ip", "subject_type": "offer", "subject_id": offer["id"], "title": "Tra cứu SHTT"}
        refused = expect(await client.post(BASE, json=body, headers=stranger.headers), 422)
        assert refused["errors"][0]["loc"] == ["body", "subject_id"]
        as_demand = {**body, "subject_type": "demand"}
        assert expect(await client.post(BASE, json=as_demand, headers=owner.headers), 422)["errors"][0]["loc"] == [
            "body",
            "subject_id",
        ]

    async def test_a_deal_party_requests_on_the_deal(self, client: AsyncClient, moderator) -> None:
        owner, offer, _first, _second = await _cast(client, moderator)
        buyer = await register(client)
        deal = expect(
            await client.post(
                "/api/v1/deals",
                json={
                    "offer_id": offer["id"],
                    "buyer_organization_id": buyer.organization_id,
                    "deal_type": "licence",
                    "value": "500000000",
                },
                headers=owner.headers,
            ),
            201,
        )
        created = await _request(
            client, buyer, {"id": deal["id"], "kind": "deal"}, service_type="contract_drafting", title="Soạn hợp đồng"
        )
        assert (created["subject_type"], created["subject_id"]) == ("deal", deal["id"])
        stranger = await register(client)
        body = {"service_type": "legal", "subject_type": "deal", "subject_id": deal["id"], "title": "Xem hợp đồng"}
        assert (await client.post(BASE, json=body, headers=stranger.headers)).status_code == 422

    async def test_only_intermediaries_quote_and_once_each(self, client: AsyncClient, moderator) -> None:
        owner, offer, first, _second = await _cast(client, moderator)
        request = await _request(client, owner, offer)
        enterprise = await register(client)
        body = {"fee": "1000000", "days": 3}
        assert (
            await client.post(f"{BASE}/{request['id']}/quotes", json=body, headers=enterprise.headers)
        ).status_code == 404
        own = await client.post(f"{BASE}/{request['id']}/quotes", json=body, headers=owner.headers)
        assert expect(own, 422)["code"] == "NotAProvider"
        await _quote(client, first, request)
        twice = await client.post(f"{BASE}/{request['id']}/quotes", json=body, headers=first.headers)
        assert expect(twice, 409)["code"] == "QuoteExists"

    async def test_withdrawing_the_last_quote_reopens_the_request(self, client: AsyncClient, moderator) -> None:
        owner, offer, first, second = await _cast(client, moderator)
        request = await _request(client, owner, offer)
        quote = await _quote(client, first, request)
        path = f"{BASE}/{request['id']}/quotes/{quote['id']}/withdraw"
        assert expect(await client.post(path, headers=second.headers), 403)["code"] == "NotTheProvider"
        reopened = expect(await client.post(path, headers=first.headers), 200)
        assert reopened["status"] == "open"
        assert reopened["quotes"][0]["status"] == "withdrawn"
        assert expect(await client.post(path, headers=first.headers), 409)["code"] == "InvalidTransition"
        await _quote(client, first, request)  # may quote again

    async def test_steps_out_of_order_are_refused(self, client: AsyncClient, moderator) -> None:
        owner, offer, first, second = await _cast(client, moderator)
        request = await _request(client, owner, offer)
        path = f"{BASE}/{request['id']}"
        result = {"result": {"summary": "Xong"}}
        assert (await client.post(f"{path}/deliver", json=result, headers=first.headers)).status_code == 403
        assert expect(await client.post(f"{path}/close", headers=owner.headers), 409)["code"] == "InvalidTransition"
        assert (await client.post(f"{path}/rating", json={"score": 3}, headers=owner.headers)).status_code == 409
        quote = await _quote(client, first, request)
        other = await _quote(client, second, request)
        by_provider = await client.post(f"{path}/accept", json={"quote_id": quote["id"]}, headers=first.headers)
        assert expect(by_provider, 403)["code"] == "NotTheRequester"
        expect(await client.post(f"{path}/accept", json={"quote_id": quote["id"]}, headers=owner.headers), 200)
        again = await client.post(f"{path}/accept", json={"quote_id": other["id"]}, headers=owner.headers)
        assert expect(again, 409)["code"] == "InvalidTransition"
        assert expect(await client.post(f"{path}/deliver", json=result, headers=second.headers), 403)["code"] == (
            "NotTheProvider"
        )
        late_quote = await client.post(f"{path}/quotes", json={"fee": "1", "days": 1}, headers=second.headers)
        assert late_quote.status_code == 409
        bad_range = {"result": {"summary": "x", "value_low": "9", "value_high": "1", "currency": "VND"}}
        assert (await client.post(f"{path}/deliver", json=bad_range, headers=first.headers)).status_code == 422
        expect(await client.post(f"{path}/deliver", json=result, headers=first.headers), 200)
        cancel = await client.post(f"{path}/cancel", headers=owner.headers)
        assert expect(cancel, 409)["code"] == "InvalidTransition"

    async def test_cancel_before_delivery(self, client: AsyncClient, moderator) -> None:
        owner, offer, first, _second = await _cast(client, moderator)
        request = await _request(client, owner, offer)
        await _quote(client, first, request)
        assert (await client.post(f"{BASE}/{request['id']}/cancel", headers=first.headers)).status_code == 403
        cancelled = expect(await client.post(f"{BASE}/{request['id']}/cancel", headers=owner.headers), 200)
        assert cancelled["status"] == "cancelled"
        assert cancelled["cancelled_at"] is not None
        # no longer on the market: the provider still sees it (it quoted), a new intermediary does not
        newcomer = await register(client, kind="intermediary")
        assert (await client.get(f"{BASE}/{request['id']}", headers=newcomer.headers)).status_code == 404
        expect(await client.get(f"{BASE}/{request['id']}", headers=first.headers), 200)

    async def test_requests_past_their_deadline_expire(
        self, client: AsyncClient, session: AsyncSession, moderator
    ) -> None:
        owner, offer, first, _second = await _cast(client, moderator)
        request = await _request(client, owner, offer)
        assert (
            await client.post(
                BASE, json={**_body(offer), "quotes_until": "2020-01-01T00:00:00Z"}, headers=owner.headers
            )
        ).status_code == 422
        past = datetime.now(UTC) - timedelta(minutes=1)
        await session.execute(
            update(ServiceRequest).where(ServiceRequest.id == uuid.UUID(request["id"])).values(quotes_until=past)
        )
        await session.commit()
        quote = await client.post(f"{BASE}/{request['id']}/quotes", json={"fee": "1", "days": 1}, headers=first.headers)
        assert expect(quote, 409)["code"] == "InvalidTransition"
        assert await service_request_service.expire_due(session) == 1
        await session.commit()
        expired = expect(await client.get(f"{BASE}/{request['id']}", headers=owner.headers), 200)
        assert expired["status"] == "expired"


def _body(offer: dict) -> dict:
    return {"service_type": "appraisal", "subject_type": "offer", "subject_id": offer["id"], "title": "Thẩm định"}


class TestVisibility:
    async def test_lists_by_role(self, client: AsyncClient, moderator) -> None:
        owner, offer, first, second = await _cast(client, moderator)
        mine = await _request(client, owner, offer)
        other_owner = await register(client)
        other_offer = await create_listing(client, other_owner, status="published", moderator=moderator)
        theirs = await _request(client, other_owner, other_offer, service_type="legal")
        await _quote(client, first, theirs)

        def ids(page: dict) -> set[str]:
            return {r["id"] for r in page["items"]}

        assert ids(expect(await client.get(BASE, headers=owner.headers), 200)) == {mine["id"]}
        assert ids(expect(await client.get(BASE, params={"role": "market"}, headers=owner.headers), 200)) == set()
        assert ids(expect(await client.get(BASE, params={"role": "provided"}, headers=first.headers), 200)) == {
            theirs["id"]
        }
        market = expect(await client.get(BASE, params={"role": "market"}, headers=second.headers), 200)
        assert ids(market) == {mine["id"], theirs["id"]}
        by_type = expect(
            await client.get(BASE, params={"role": "market", "service_type": "legal"}, headers=second.headers), 200
        )
        assert ids(by_type) == {theirs["id"]}
        stranger = await register(client)
        assert (await client.get(f"{BASE}/{mine['id']}", headers=stranger.headers)).status_code == 404

    async def test_an_anonymous_listing_owner_stays_hidden_from_providers(self, client: AsyncClient, moderator) -> None:
        owner = await register(client, organization="Viện Ẩn Danh", kind="institute")
        offer = await create_listing(client, owner, status="published", moderator=moderator, visibility="anonymous")
        provider = await register(client, kind="intermediary")
        request = await _request(client, owner, offer)
        assert (
            expect(await client.get(f"{BASE}/{request['id']}", headers=owner.headers), 200)["requester_organization_id"]
            == owner.organization_id
        )
        seen = expect(await client.get(f"{BASE}/{request['id']}", headers=provider.headers), 200)
        assert seen["requester_organization_id"] is None
        quote = await _quote(client, provider, request)
        expect(
            await client.post(f"{BASE}/{request['id']}/accept", json={"quote_id": quote["id"]}, headers=owner.headers),
            200,
        )
        chosen = expect(await client.get(f"{BASE}/{request['id']}", headers=provider.headers), 200)
        assert chosen["requester_organization_id"] == owner.organization_id, "the chosen provider learns its client"


class TestSubjects:
    async def test_either_party_of_an_interest_requests_on_it(self, client: AsyncClient, moderator) -> None:
        owner, offer, _first, _second = await _cast(client, moderator)
        buyer, stranger = await register(client), await register(client)
        interest = expect(
            await client.post(
                "/api/v1/interests", json={"listing_id": offer["id"], "message": "Quan tâm"}, headers=buyer.headers
            ),
            201,
        )
        body = {
            "service_type": "negotiation",
            "subject_type": "interest",
            "subject_id": interest["id"],
            "title": "Đàm phán",
        }
        for party in (owner, buyer):
            created = expect(await client.post(BASE, json=body, headers=party.headers), 201)
            assert created["requester_organization_id"] == party.organization_id
        assert (await client.post(BASE, json=body, headers=stranger.headers)).status_code == 422

    async def test_the_provider_answers_with_a_worksheet_the_requester_reads(
        self, client: AsyncClient, moderator
    ) -> None:
        owner, offer, first, _second = await _cast(client, moderator)
        request = await _request(client, owner, offer)
        quote = await _quote(client, first, request)
        expect(
            await client.post(f"{BASE}/{request['id']}/accept", json={"quote_id": quote["id"]}, headers=owner.headers),
            200,
        )
        worksheet = {
            "title": "Định giá theo chi phí",
            "field": "environment",
            "service_request_id": request["id"],
            "cost": {
                "items": [{"label": "R&D", "amount": "200000000"}],
                "obsolescence_low": "0",
                "obsolescence_high": "0.5",
            },
        }
        valuation = expect(await client.post("/api/v1/valuations", json=worksheet, headers=first.headers), 201)
        assert valuation["range"] == {"low": "100000000", "high": "200000000"}
        result = {
            "summary": "Theo chi phí tái tạo",
            "value_low": valuation["range"]["low"],
            "value_high": valuation["range"]["high"],
            "currency": "VND",
            "method": valuation["driving_method"],
            "valuation_id": valuation["id"],
        }
        delivered = expect(
            await client.post(f"{BASE}/{request['id']}/deliver", json={"result": result}, headers=first.headers), 200
        )
        assert delivered["result"]["valuation_id"] == valuation["id"]
        expect(await client.get(f"/api/v1/valuations/{valuation['id']}", headers=owner.headers), 200)
        stranger = await register(client, kind="intermediary")
        assert (await client.get(f"/api/v1/valuations/{valuation['id']}", headers=stranger.headers)).status_code == 404
        not_theirs = await client.post("/api/v1/valuations", json=worksheet, headers=stranger.headers)
        assert expect(not_theirs, 422)["errors"][0]["loc"] == ["body", "service_request_id"]
