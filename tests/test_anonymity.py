"""Anonymous listings hide their owner on every route: one test per way it used to leak.

The rule (app/listings/visibility.py): the owner of an anonymous listing is shown to the owner's
organisation, to moderators and to an organisation whose interest the owner accepted; nobody else
learns it from a payload, a filter, a count, a match, a proposal, a deal, a thread or an error.
`tests/test_anonymity_sweep.py` checks the same over every read operation of the API.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from tests.helpers import Registered, create_listing, expect, make_staff, register

WATER_OFFER = {
    "title": "Hệ thống xử lý nước thải thủy sản bằng màng sinh học MBBR",
    "summary": "Xử lý nước thải chế biến thủy sản đạt cột A, diện tích nhỏ.",
    "concepts": ["wastewater-treatment", "biological-treatment"],
    "transfer_types": ["turnkey_equipment"],
    "trl": 8,
    "price_min": "1000000000",
    "price_max": "3000000000",
}
WATER_DEMAND = {
    "title": "Cần công nghệ xử lý nước thải chế biến thủy sản",
    "concepts": ["wastewater-treatment"],
    "transfer_types": ["turnkey_equipment"],
}
DAY = "2026-12-10"
SESSIONS = [
    {
        "name": "Sáng",
        "starts_at": f"{DAY}T08:30:00+07:00",
        "ends_at": f"{DAY}T10:30:00+07:00",
        "meeting_minutes": 20,
        "tables": 2,
    }
]


@pytest.fixture
async def moderator(client: AsyncClient, session: AsyncSession) -> Registered:
    return await make_staff(client, session, "moderator")


@pytest.fixture
async def hidden(client: AsyncClient, moderator: Registered) -> dict[str, Any]:
    """An institute whose only listing is an anonymous offer, a buyer with a matching public demand, and a
    signed-in stranger."""
    owner = await register(client, kind="institute", organization="Viện Nghiên cứu Kín Tiếng")
    buyer = await register(client, organization="Công ty Thủy sản Cát Hải")
    stranger = await register(client, organization="Công ty Không Liên Quan")
    offer = await create_listing(
        client, owner, status="published", moderator=moderator, visibility="anonymous", **WATER_OFFER
    )
    demand = await create_listing(client, buyer, "demand", status="published", moderator=moderator, **WATER_DEMAND)
    return {
        "owner": owner,
        "buyer": buyer,
        "stranger": stranger,
        "moderator": moderator,
        "offer": offer,
        "demand": demand,
    }


def _ids(page: dict[str, Any]) -> set[str]:
    return {item["id"] for item in page["items"]}


async def _interest(client: AsyncClient, listing: dict[str, Any], party: Registered) -> dict[str, Any]:
    body = {"listing_id": listing["id"], "message": "Chúng tôi quan tâm."}
    return expect(await client.post("/api/v1/interests", json=body, headers=party.headers), 201)


class TestBrowseFilters:
    @pytest.mark.parametrize("caller", ["nobody", "stranger", "buyer"])
    async def test_filters_on_the_owner_do_not_find_it(
        self, client: AsyncClient, hidden: dict[str, Any], caller: str
    ) -> None:
        headers = {} if caller == "nobody" else hidden[caller].headers
        owner = hidden["owner"]
        for query in ({"organization_id": owner.organization_id}, {"owner_kind": "institute"}):
            page = expect(await client.get("/api/v1/offers", params=query, headers=headers), 200)
            assert hidden["offer"]["id"] not in _ids(page), query
            assert page["total"] == 0, query
        assert hidden["offer"]["id"] in _ids(expect(await client.get("/api/v1/offers", headers=headers), 200))

    async def test_the_owner_moderators_and_an_accepted_party_still_find_it(
        self, client: AsyncClient, hidden: dict[str, Any], moderator: Registered
    ) -> None:
        owner, buyer = hidden["owner"], hidden["buyer"]
        query = {"organization_id": owner.organization_id}
        for person in (owner, moderator):
            page = expect(await client.get("/api/v1/offers", params=query, headers=person.headers), 200)
            assert _ids(page) == {hidden["offer"]["id"]}
        interest = await _interest(client, hidden["offer"], buyer)
        expect(await client.post(f"/api/v1/interests/{interest['id']}/accept", headers=owner.headers), 200)
        page = expect(await client.get("/api/v1/offers", params=query, headers=buyer.headers), 200)
        assert _ids(page) == {hidden["offer"]["id"]}
        assert page["items"][0]["organization"]["id"] == owner.organization_id

    async def test_anonymous_demands_too(self, client: AsyncClient, moderator: Registered) -> None:
        owner = await register(client, kind="university", organization="Trường Đại học Kín Tiếng")
        await create_listing(client, owner, "demand", status="published", moderator=moderator, visibility="anonymous")
        for query in ({"organization_id": owner.organization_id}, {"owner_kind": "university"}):
            assert expect(await client.get("/api/v1/demands", params=query), 200)["total"] == 0


class TestSearch:
    async def test_owner_kind_filter_and_facet_do_not_count_it(
        self, app: FastAPI, client: AsyncClient, hidden: dict[str, Any]
    ) -> None:
        await app.state.indexer.drain()
        found = expect(await client.get("/api/v1/search/offers", params={"facets": "owner_kind"}), 200)
        [hit] = [h for h in found["items"] if h["id"] == hidden["offer"]["id"]]
        assert hit["document"]["owner_kind"] is None
        assert "institute" not in found["facets"].get("owner_kind", {})
        narrowed = expect(await client.get("/api/v1/search/offers", params={"owner_kind": "institute"}), 200)
        assert narrowed["total"] == 0


class TestOrganizationMatches:
    async def test_the_owner_is_not_a_counterpart_and_its_listing_not_ours(
        self, app: FastAPI, client: AsyncClient, hidden: dict[str, Any]
    ) -> None:
        await app.state.indexer.drain()
        owner, buyer = hidden["owner"], hidden["buyer"]
        # the listing-level match finds the offer, without its owner
        matches = expect(await client.get(f"/api/v1/demands/{hidden['demand']['id']}/matches"), 200)
        [candidate] = [m["candidate"] for m in matches["items"] if m["candidate"]["id"] == hidden["offer"]["id"]]
        assert candidate["organization_id"] is None
        for_buyer = expect(await client.get(f"/api/v1/organizations/{buyer.organization_id}/matches"), 200)
        assert owner.organization_id not in {m["organization"]["id"] for m in for_buyer["items"]}
        assert hidden["offer"]["id"] not in {m["best_pair"]["their_listing_id"] for m in for_buyer["items"]}
        for_owner = expect(await client.get(f"/api/v1/organizations/{owner.organization_id}/matches"), 200)
        assert for_owner["items"] == []


class TestEventProposals:
    async def test_a_proposal_does_not_invite_the_owner_for_its_anonymous_listing(
        self, client: AsyncClient, hidden: dict[str, Any]
    ) -> None:
        organizer = await register(client, kind="intermediary", organization="Trung tâm Kết nối")
        body = {"field": "environment", "date": "2027-03-15", "organizer_organization_id": organizer.organization_id}
        proposal = expect(await client.post("/api/v1/event-proposals", json=body, headers=organizer.headers), 200)
        assert hidden["owner"].organization_id not in {p["organization_id"] for p in proposal["participants"]}
        brought = {i for p in proposal["participants"] for i in p["listing_ids"]}
        assert hidden["offer"]["id"] not in brought
        assert hidden["owner"].organization_id not in str(proposal)


class TestDeals:
    def _body(self, hidden: dict[str, Any]) -> dict[str, Any]:
        return {"offer_id": hidden["offer"]["id"], "deal_type": "licence", "stage": "negotiating"}

    async def test_a_buyer_who_does_not_know_the_owner_cannot_have_it_named(
        self, client: AsyncClient, hidden: dict[str, Any]
    ) -> None:
        buyer = hidden["buyer"]
        response = await client.post(
            "/api/v1/deals",
            json={**self._body(hidden), "buyer_organization_id": buyer.organization_id},
            headers=buyer.headers,
        )
        problem = expect(response, 422)
        assert hidden["owner"].organization_id not in response.text
        assert problem["errors"][0]["type"] == "owner_not_disclosed"
        # the same answer for a listing of a different owner: the refusal says nothing of who owns it
        other_owner = await register(client, organization="Công ty Ẩn Danh Khác")
        other_offer = await create_listing(
            client, other_owner, status="published", moderator=hidden["moderator"], visibility="anonymous"
        )
        again = await client.post(
            "/api/v1/deals",
            json={**self._body(hidden), "offer_id": other_offer["id"], "buyer_organization_id": buyer.organization_id},
            headers=buyer.headers,
        )
        assert expect(again, 422)["errors"] == problem["errors"], "the same refusal, whoever owns the offer"

    async def test_once_the_owner_accepts_the_buyer_records_the_deal(
        self, client: AsyncClient, hidden: dict[str, Any]
    ) -> None:
        owner, buyer = hidden["owner"], hidden["buyer"]
        interest = await _interest(client, hidden["offer"], buyer)
        expect(await client.post(f"/api/v1/interests/{interest['id']}/accept", headers=owner.headers), 200)
        deal = expect(
            await client.post(
                "/api/v1/deals",
                json={**self._body(hidden), "buyer_organization_id": buyer.organization_id},
                headers=buyer.headers,
            ),
            201,
        )
        assert deal["supplier_organization_id"] == owner.organization_id

    async def test_the_owner_records_a_deal_on_its_own_anonymous_offer(
        self, client: AsyncClient, hidden: dict[str, Any]
    ) -> None:
        owner, buyer = hidden["owner"], hidden["buyer"]
        deal = expect(
            await client.post(
                "/api/v1/deals",
                json={**self._body(hidden), "buyer_organization_id": buyer.organization_id},
                headers=owner.headers,
            ),
            201,
        )
        assert deal["supplier_organization_id"] == owner.organization_id


class TestInterestThread:
    async def test_the_owner_writes_unnamed_until_it_accepts(self, client: AsyncClient, hidden: dict[str, Any]) -> None:
        owner, buyer = hidden["owner"], hidden["buyer"]
        interest = await _interest(client, hidden["offer"], buyer)
        path = f"/api/v1/interests/{interest['id']}/messages"
        posted = expect(
            await client.post(path, json={"body": "Xin cho biết quy mô nhà máy."}, headers=owner.headers), 201
        )
        assert posted["author_organization_id"] == owner.organization_id, "the author sees itself"
        expect(await client.post(path, json={"body": "500 m³/ngày."}, headers=buyer.headers), 201)
        seen_by_buyer = expect(await client.get(path, headers=buyer.headers), 200)["items"]
        assert [m["author_organization_id"] for m in seen_by_buyer] == [None, buyer.organization_id]
        assert seen_by_buyer[0]["author_account_id"] is None
        assert owner.organization_id not in str(seen_by_buyer)
        assert owner.account_id not in str(seen_by_buyer)
        seen_by_owner = expect(await client.get(path, headers=owner.headers), 200)["items"]
        assert seen_by_owner[0]["author_organization_id"] == owner.organization_id

        expect(await client.post(f"/api/v1/interests/{interest['id']}/accept", headers=owner.headers), 200)
        seen_after = expect(await client.get(path, headers=buyer.headers), 200)["items"]
        assert seen_after[0]["author_organization_id"] == owner.organization_id


class TestEventParticipants:
    async def _event(self, client: AsyncClient, organizer: Registered) -> dict[str, Any]:
        body = {
            "name": "Kết nối công nghệ môi trường",
            "organizer_organization_id": organizer.organization_id,
            "field": "environment",
            "sessions": SESSIONS,
        }
        event = expect(await client.post("/api/v1/events", json=body, headers=organizer.headers), 201)
        path = f"/api/v1/events/{event['id']}/status"
        expect(await client.post(path, json={"status": "registration_open"}, headers=organizer.headers), 200)
        return event

    async def test_registering_someone_with_an_anonymous_listing_is_no_ownership_oracle(
        self, client: AsyncClient, hidden: dict[str, Any]
    ) -> None:
        organizer = await register(client, kind="intermediary", organization="Trung tâm Kết nối")
        event = await self._event(client, organizer)
        path = f"/api/v1/events/{event['id']}/participants"

        async def attempt(organization: Registered) -> Any:
            body = {
                "organization_id": organization.organization_id,
                "representative": "Đại diện",
                "role": "supplier",
                "listing_ids": [hidden["offer"]["id"]],
            }
            return await client.post(path, json=body, headers=organizer.headers)

        as_owner, as_other = await attempt(hidden["owner"]), await attempt(hidden["stranger"])
        assert as_owner.status_code == as_other.status_code == 422
        assert as_owner.json()["errors"] == as_other.json()["errors"]
        # the owner itself brings it
        body = {
            "organization_id": hidden["owner"].organization_id,
            "representative": "Đại diện",
            "representative_email": "daidien@vien.vn",
            "role": "supplier",
            "listing_ids": [hidden["offer"]["id"]],
        }
        expect(await client.post(path, json=body, headers=hidden["owner"].headers), 201)

    async def test_participants_show_listings_and_email_to_their_side_and_the_organisers_only(
        self, client: AsyncClient, hidden: dict[str, Any], moderator: Registered
    ) -> None:
        organizer = await register(client, kind="intermediary", organization="Trung tâm Kết nối")
        event = await self._event(client, organizer)
        path = f"/api/v1/events/{event['id']}/participants"
        owner, buyer, stranger = hidden["owner"], hidden["buyer"], hidden["stranger"]
        registrations = [
            (owner, "supplier", [hidden["offer"]["id"]], "daidien@vien.vn"),
            (buyer, "seeker", [hidden["demand"]["id"]], "mua@thuysan.vn"),
        ]
        for person, role, listing_ids, email in registrations:
            body = {
                "organization_id": person.organization_id,
                "representative": "Đại diện",
                "representative_email": email,
                "role": role,
                "listing_ids": listing_ids,
            }
            expect(await client.post(path, json=body, headers=person.headers), 201)

        def by_org(page: dict[str, Any]) -> dict[str, dict[str, Any]]:
            return {r["organization_id"]: r for r in page["items"]}

        for person in (stranger, buyer):
            rows = by_org(expect(await client.get(path, headers=person.headers), 200))
            assert rows[owner.organization_id]["listing_ids"] == []
            assert rows[owner.organization_id]["representative_email"] is None
            one = expect(await client.get(f"{path}/{rows[owner.organization_id]['id']}", headers=person.headers), 200)
            assert one["listing_ids"] == []
            assert one["representative_email"] is None
        # a public listing stays listed for everyone
        rows = by_org(expect(await client.get(path, headers=stranger.headers), 200))
        assert rows[buyer.organization_id]["listing_ids"] == [hidden["demand"]["id"]]
        assert rows[buyer.organization_id]["representative_email"] is None
        for person in (owner, organizer, moderator):
            rows = by_org(expect(await client.get(path, headers=person.headers), 200))
            assert rows[owner.organization_id]["listing_ids"] == [hidden["offer"]["id"]]
            assert rows[owner.organization_id]["representative_email"] == "daidien@vien.vn"


class TestStatistics:
    async def test_units_do_not_tell_whether_an_anonymous_listing_shares_an_owner(
        self, client: AsyncClient, moderator: Registered
    ) -> None:
        """Two offers of a field: a public one and an anonymous one. Whether one or two organisations own
        them, the count of units is the same: only owners that listings name are counted."""

        async def units(same_owner: bool) -> int:
            first = await register(client, kind="institute")
            second = first if same_owner else await register(client, kind="institute")
            await create_listing(client, first, status="published", moderator=moderator, field="biotech")
            await create_listing(
                client, second, status="published", moderator=moderator, field="biotech", visibility="anonymous"
            )
            report = expect(await client.get("/api/v1/stats/listings", params={"kind": "offer"}), 200)
            return next(r["units"] for r in report["rows"] if r["field"] == "biotech")

        together = await units(same_owner=True)
        apart = await units(same_owner=False) - together
        assert together == apart == 1
