"""Offers and demands through HTTP: creation, validation, lifecycle, concurrency, idempotency, visibility."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from app.listings.service import listing_service
from app.models import Listing
from tests.helpers import (
    create_listing,
    demand_payload,
    expect,
    grant_mandate,
    make_staff,
    offer_payload,
    register,
)


@pytest.fixture
async def moderator(client: AsyncClient, session: AsyncSession):
    return await make_staff(client, session, "moderator")


async def _expire(session: AsyncSession, listing_id: str) -> None:
    await session.execute(
        update(Listing)
        .where(Listing.id == uuid.UUID(listing_id))
        .values(expires_at=datetime.now(UTC) - timedelta(minutes=1))
    )
    await session.commit()


class TestCreate:
    async def test_offer_is_a_draft_with_reference_etag_and_defaults(self, client: AsyncClient) -> None:
        owner = await register(client, kind="institute", organization="Viện Tài nguyên và Môi trường biển")
        response = await client.post("/api/v1/offers", json=offer_payload(), headers=owner.headers)
        offer = expect(response, 201)
        assert offer["status"] == "draft"
        assert re.fullmatch(r"TO-VN-\d{8}-0001", offer["reference"])
        assert response.headers["etag"] == f'"{offer["version"]}"'
        assert response.headers["location"].endswith(offer["id"])
        assert offer["origin_kind"] == "institute_university"
        assert offer["origin_country"] == "VN"
        assert offer["province"] == "Hải Phòng"
        assert offer["trl_label"].startswith("Available for demonstration")
        assert offer["organization"]["id"] == owner.organization_id
        assert datetime.fromisoformat(offer["expires_at"]) > datetime.now(UTC) + timedelta(days=360)
        second = expect(await client.post("/api/v1/offers", json=offer_payload(), headers=owner.headers), 201)
        assert second["reference"].endswith("-0002")

    async def test_demand_has_its_own_fields_and_reference(self, client: AsyncClient) -> None:
        owner = await register(client)
        demand = expect(await client.post("/api/v1/demands", json=demand_payload(), headers=owner.headers), 201)
        assert demand["reference"].startswith("TD-VN-")
        assert demand["min_trl"] == 6
        assert demand["deployment_province"] == "Hải Phòng"
        assert "trl" not in demand

    @pytest.mark.parametrize(
        ("overrides", "loc", "code"),
        [
            (
                {"concepts": ["arsenic-removal", "perpetual-motion"]},
                ["body", "concepts", 1],
                "UnknownConcept",
            ),
            ({"trl": 10}, ["body", "trl"], "RequestValidationFailed"),
            ({"trl": None}, ["body", "trl"], "RequestValidationFailed"),
            ({"ip_status": "secret"}, ["body", "ip_status"], "RequestValidationFailed"),
            ({"title": "x" * 257}, ["body", "title"], "RequestValidationFailed"),
            ({"summary": "y" * 501}, ["body", "summary"], "RequestValidationFailed"),
            ({"field": "alchemy"}, ["body", "field"], "RequestValidationFailed"),
            ({"target_countries": ["ZZ"]}, ["body", "target_countries", 0], "RequestValidationFailed"),
            ({"price_min": "500", "price_max": "100"}, ["body"], "RequestValidationFailed"),
            (
                {"translations": {"vi": {"title": "Lặp lại", "summary": "Tiếng Việt lần nữa ở đây"}}},
                ["body"],
                "RequestValidationFailed",
            ),
            ({"expires_at": "2020-01-01T00:00:00Z"}, ["body", "expires_at"], "InvalidInput"),
        ],
    )
    async def test_invalid_input_names_the_field(
        self, client: AsyncClient, overrides: dict, loc: list, code: str
    ) -> None:
        owner = await register(client)
        body = expect(await client.post("/api/v1/offers", json=offer_payload(**overrides), headers=owner.headers), 422)
        assert body["code"] == code
        assert loc in [e["loc"] for e in body["errors"]]

    async def test_nothing_is_stored_on_invalid_input(self, client: AsyncClient) -> None:
        owner = await register(client)
        await client.post("/api/v1/offers", json=offer_payload(concepts=["nope"]), headers=owner.headers)
        mine = expect(
            await client.get(
                "/api/v1/offers", params={"organization_id": owner.organization_id}, headers=owner.headers
            ),
            200,
        )
        assert mine["total"] == 0


class TestIdempotency:
    async def test_same_key_and_body_replays_the_first_response(self, client: AsyncClient) -> None:
        owner = await register(client)
        headers = {**owner.headers, "Idempotency-Key": "create-offer-42"}
        first = await client.post("/api/v1/offers", json=offer_payload(), headers=headers)
        again = await client.post("/api/v1/offers", json=offer_payload(), headers=headers)
        assert first.status_code == again.status_code == 201
        assert again.json() == first.json()
        assert again.headers["idempotent-replayed"] == "true"
        mine = expect(
            await client.get(
                "/api/v1/offers", params={"organization_id": owner.organization_id}, headers=owner.headers
            ),
            200,
        )
        assert mine["total"] == 1

    async def test_same_key_with_another_body_is_422(self, client: AsyncClient) -> None:
        owner = await register(client)
        headers = {**owner.headers, "Idempotency-Key": "create-offer-43"}
        expect(await client.post("/api/v1/offers", json=offer_payload(), headers=headers), 201)
        other = await client.post("/api/v1/offers", json=offer_payload(trl=3), headers=headers)
        body = expect(other, 422)
        assert body["code"] == "IdempotencyKeyReused"
        assert body["errors"][0]["loc"] == ["header", "Idempotency-Key"]

    async def test_keys_are_per_caller(self, client: AsyncClient) -> None:
        first, second = await register(client), await register(client)
        for person in (first, second):
            created = await client.post(
                "/api/v1/offers",
                json=offer_payload(),
                headers={**person.headers, "Idempotency-Key": "shared-key"},
            )
            assert expect(created, 201)["organization"]["id"] == person.organization_id


class TestConcurrency:
    async def test_patch_requires_if_match(self, client: AsyncClient) -> None:
        owner = await register(client)
        offer = await create_listing(client, owner)
        response = await client.patch(f"/api/v1/offers/{offer['id']}", json={"trl": 8}, headers=owner.headers)
        assert expect(response, 428)["code"] == "PreconditionRequired"

    async def test_stale_if_match_is_412_and_loses_nothing(self, client: AsyncClient) -> None:
        owner = await register(client)
        offer = await create_listing(client, owner)
        stale = f'"{offer["version"]}"'
        first = await client.patch(
            f"/api/v1/offers/{offer['id']}", json={"trl": 8}, headers={**owner.headers, "If-Match": stale}
        )
        assert expect(first, 200)["trl"] == 8
        assert first.headers["etag"] != stale
        second = await client.patch(
            f"/api/v1/offers/{offer['id']}", json={"trl": 3}, headers={**owner.headers, "If-Match": stale}
        )
        assert expect(second, 412)["code"] == "PreconditionFailed"
        current = await client.get(f"/api/v1/offers/{offer['id']}", headers=owner.headers)
        assert current.json()["trl"] == 8
        assert current.headers["etag"] == first.headers["etag"]

    async def test_each_change_raises_the_version_by_one(self, client: AsyncClient, session: AsyncSession) -> None:
        owner = await register(client)
        moderator = await make_staff(client, session, "moderator")
        offer = await create_listing(client, owner)
        path = f"/api/v1/offers/{offer['id']}"
        versions = [offer["version"]]
        for body in ({"trl": 8}, {"title": "Vật liệu lọc asen thế hệ hai", "concepts": ["arsenic-removal"]}):
            patched = await client.patch(path, json=body, headers={**owner.headers, "If-Match": f'"{versions[-1]}"'})
            versions.append(expect(patched, 200)["version"])
            assert patched.headers["etag"] == f'"{versions[-1]}"'
        versions.append(expect(await client.post(f"{path}/submit", headers=owner.headers), 200)["version"])
        versions.append(expect(await client.post(f"{path}/publish", headers=moderator.headers), 200)["version"])
        assert versions == list(range(versions[0], versions[0] + 5))

    async def test_delete_requires_current_etag(self, client: AsyncClient) -> None:
        owner = await register(client)
        offer = await create_listing(client, owner)
        path = f"/api/v1/offers/{offer['id']}"
        assert (await client.delete(path, headers=owner.headers)).status_code == 428
        assert (await client.delete(path, headers={**owner.headers, "If-Match": '"99"'})).status_code == 412
        expect(await client.delete(path, headers={**owner.headers, "If-Match": f'"{offer["version"]}"'}), 204)
        assert (await client.get(path, headers=owner.headers)).status_code == 404


class TestLifecycle:
    async def test_draft_to_published_to_archived(self, client: AsyncClient, moderator) -> None:
        owner = await register(client)
        offer = await create_listing(client, owner)
        path = f"/api/v1/offers/{offer['id']}"
        assert (await client.get(path)).status_code == 404, "drafts are not public"

        submitted = expect(await client.post(f"{path}/submit", headers=owner.headers), 200)
        assert submitted["status"] == "submitted"
        assert submitted["submitted_at"]
        assert (await client.post(f"{path}/publish", headers=owner.headers)).status_code == 403
        published = expect(await client.post(f"{path}/publish", headers=moderator.headers), 200)
        assert published["status"] == "published"
        public = expect(await client.get("/api/v1/offers"), 200)
        assert offer["id"] in {o["id"] for o in public["items"]}
        expect(await client.get(path), 200)

        archived = expect(await client.post(f"{path}/withdraw", headers=owner.headers), 200)
        assert archived["status"] == "archived"
        assert (await client.get(path)).status_code == 404
        patch = await client.patch(
            path, json={"trl": 9}, headers={**owner.headers, "If-Match": f'"{archived["version"]}"'}
        )
        assert expect(patch, 409)["code"] == "InvalidTransition"

    async def test_rejection_carries_a_reason_and_can_be_resubmitted(self, client: AsyncClient, moderator) -> None:
        owner = await register(client)
        offer = await create_listing(client, owner, status="submitted")
        path = f"/api/v1/offers/{offer['id']}"
        missing_reason = await client.post(f"{path}/reject", json={}, headers=moderator.headers)
        assert expect(missing_reason, 422)["errors"][0]["loc"] == ["body", "reason"]
        rejected = expect(
            await client.post(
                f"{path}/reject",
                json={"reason": "Thiếu số bằng độc quyền giải pháp hữu ích."},
                headers=moderator.headers,
            ),
            200,
        )
        assert rejected["status"] == "rejected"
        assert rejected["rejection_reason"].startswith("Thiếu")
        again = expect(await client.post(f"{path}/submit", headers=owner.headers), 200)
        assert again["status"] == "submitted"
        assert again["rejection_reason"] is None

    async def test_invalid_transition_is_409(self, client: AsyncClient, moderator) -> None:
        owner = await register(client)
        offer = await create_listing(client, owner)
        response = await client.post(f"/api/v1/offers/{offer['id']}/publish", headers=moderator.headers)
        body = expect(response, 409)
        assert body["code"] == "InvalidTransition"
        assert "draft" in body["detail"]

    async def test_transitions_are_audited(self, client: AsyncClient, moderator) -> None:
        owner = await register(client)
        offer = await create_listing(client, owner, status="published", moderator=moderator)
        log = expect(
            await client.get(
                "/api/v1/audit",
                params={"record_type": "offer", "record_id": offer["id"]},
                headers=moderator.headers,
            ),
            200,
        )
        states = [e["changes"]["status"] for e in log["items"] if e["action"] == "state"]
        assert states == [["submitted", "published"], ["draft", "submitted"]]
        assert log["items"][0]["actor_account_id"] == moderator.account_id


class TestExpiry:
    async def test_expired_listing_leaves_the_public_list_and_can_be_renewed(
        self, client: AsyncClient, session: AsyncSession, moderator
    ) -> None:
        owner = await register(client)
        offer = await create_listing(client, owner, status="published", moderator=moderator)
        await _expire(session, offer["id"])
        public = expect(await client.get("/api/v1/offers"), 200)
        assert offer["id"] not in {o["id"] for o in public["items"]}
        assert (await client.get(f"/api/v1/offers/{offer['id']}")).status_code == 404
        seen_by_owner = expect(await client.get(f"/api/v1/offers/{offer['id']}", headers=owner.headers), 200)
        assert seen_by_owner["status"] == "expired"
        expired_list = expect(
            await client.get("/api/v1/offers", params={"status": "expired"}, headers=owner.headers), 200
        )
        assert [o["id"] for o in expired_list["items"]] == [offer["id"]]

        renewed = expect(await client.post(f"/api/v1/offers/{offer['id']}/renew", headers=owner.headers), 200)
        assert renewed["status"] == "published"
        assert datetime.fromisoformat(renewed["expires_at"]) > datetime.now(UTC) + timedelta(days=360)
        expect(await client.get(f"/api/v1/offers/{offer['id']}"), 200)

    async def test_sweeper_records_expiry_in_the_audit_log(
        self, client: AsyncClient, session: AsyncSession, moderator
    ) -> None:
        owner = await register(client)
        offer = await create_listing(client, owner, status="published", moderator=moderator)
        await _expire(session, offer["id"])
        assert await listing_service.expire_due(session) == 1
        await session.commit()
        log = expect(
            await client.get("/api/v1/audit", params={"record_id": offer["id"]}, headers=moderator.headers),
            200,
        )
        assert log["items"][0]["changes"] == {"status": ["published", "expired"]}
        assert log["items"][0]["actor_account_id"] is None


class TestAnonymity:
    async def test_anonymous_listing_hides_its_owner_from_others(self, client: AsyncClient, moderator) -> None:
        owner = await register(client, organization="Công ty Bí mật")
        offer = await create_listing(
            client,
            owner,
            status="published",
            moderator=moderator,
            visibility="anonymous",
            contact={"person": "Nguyễn Văn Bí", "email": "bi@secret.example.vn"},
        )
        stranger = await register(client)
        for headers in ({}, stranger.headers):
            seen = expect(await client.get(f"/api/v1/offers/{offer['id']}", headers=headers), 200)
            assert seen["organization"] is None
            assert seen["owner_hidden"] is True
            assert seen["contact"] is None
            listed = expect(await client.get("/api/v1/offers", headers=headers), 200)
            assert "Công ty Bí mật" not in str(listed)
            assert "bi@secret.example.vn" not in str(listed)
        own_view = expect(await client.get(f"/api/v1/offers/{offer['id']}", headers=owner.headers), 200)
        assert own_view["organization"]["name"] == "Công ty Bí mật"


class TestMandatedBroker:
    async def test_broker_lists_for_a_client_only_under_mandate(self, client: AsyncClient) -> None:
        client_org = await register(client, kind="university")
        broker = await register(client, kind="intermediary")
        payload = offer_payload(organization_id=client_org.organization_id)
        assert (await client.post("/api/v1/offers", json=payload, headers=broker.headers)).status_code == 403
        await grant_mandate(client, client_org, broker)
        created = expect(await client.post("/api/v1/offers", json=payload, headers=broker.headers), 201)
        assert created["organization"]["id"] == client_org.organization_id
        assert created["origin_kind"] == "institute_university"


class TestBrowse:
    async def test_filters_sorting_and_pagination(self, client: AsyncClient, moderator) -> None:
        institute = await register(client, kind="institute", organization="Viện Vật liệu")
        company = await register(client, kind="enterprise", organization="Công ty Tự động hóa", province="Cần Thơ")
        paint = await create_listing(
            client,
            institute,
            status="published",
            moderator=moderator,
            field="new_materials",
            concepts=["roofing-paint", "paints-coatings"],
            trl=5,
            ip_status="patent_pending",
            transfer_types=["joint_venture"],
            price_min="10",
            price_max="20",
        )
        robot = await create_listing(
            client,
            company,
            status="published",
            moderator=moderator,
            field="automation",
            concepts=["industrial-robots"],
            trl=9,
            ip_status="know_how",
            price_min="900",
            price_max="1000",
        )
        water = await create_listing(client, institute, status="published", moderator=moderator, trl=7)
        await create_listing(client, institute)  # a draft: never in the public list

        async def ids(**params: object) -> list[str]:
            page = expect(await client.get("/api/v1/offers", params=params), 200)
            return [o["id"] for o in page["items"]]

        assert set(await ids()) == {paint["id"], robot["id"], water["id"]}
        assert await ids(field="automation") == [robot["id"]]
        assert await ids(concept="roofing-paint") == [paint["id"]]
        assert set(await ids(trl_min=6)) == {robot["id"], water["id"]}
        assert await ids(trl_min=6, trl_max=8) == [water["id"]]
        assert await ids(ip_status="patent_pending") == [paint["id"]]
        assert await ids(transfer_type="joint_venture") == [paint["id"]]
        assert await ids(owner_kind="enterprise") == [robot["id"]]
        assert await ids(province="Cần Thơ") == [robot["id"]]
        assert await ids(country="JP") == []
        assert await ids(sort="-trl") == [robot["id"], water["id"], paint["id"]]
        assert await ids(sort="price") == [paint["id"], robot["id"], water["id"]]
        tomorrow = (datetime.now(UTC) + timedelta(days=1)).isoformat()
        assert await ids(created_from=tomorrow) == []
        page = expect(await client.get("/api/v1/offers", params={"limit": 2, "page": 2, "sort": "-trl"}), 200)
        assert page["total"] == 3
        assert [o["id"] for o in page["items"]] == [paint["id"]]

    async def test_public_cannot_list_unpublished(self, client: AsyncClient) -> None:
        owner = await register(client)
        await create_listing(client, owner)
        assert expect(await client.get("/api/v1/offers", params={"status": "draft"}), 200)["total"] == 0
        own = expect(await client.get("/api/v1/offers", params={"status": "draft"}, headers=owner.headers), 200)
        assert own["total"] == 1

    async def test_demands_filter_on_minimum_trl(self, client: AsyncClient, moderator) -> None:
        owner = await register(client)
        low = await create_listing(client, owner, "demand", status="published", moderator=moderator, min_trl=3)
        high = await create_listing(client, owner, "demand", status="published", moderator=moderator, min_trl=8)
        page = expect(await client.get("/api/v1/demands", params={"trl_min": 5}), 200)
        assert [d["id"] for d in page["items"]] == [high["id"]]
        assert low["id"] != high["id"]


class TestTaxonomy:
    async def test_tree_covers_every_field_with_three_languages(self, client: AsyncClient) -> None:
        tree = expect(await client.get("/api/v1/taxonomy"), 200)
        assert tree["concept_count"] >= 150
        codes = {f["code"] for f in tree["fields"]}
        assert codes == {
            "biotech",
            "environment",
            "new_energy",
            "automation",
            "new_materials",
            "ict",
            "marine_logistics",
            "agriculture_food",
            "mechanical_manufacturing",
            "health",
            "other",
        }
        for field in tree["fields"]:
            for sub in field["subfields"]:
                for concept in sub["concepts"]:
                    assert set(concept["labels"]) == {"vi", "en", "ja"}, concept["id"]
                    assert all(concept["labels"].values()), concept["id"]

    async def test_concept_lookup(self, client: AsyncClient) -> None:
        concept = expect(await client.get("/api/v1/taxonomy/concepts/mushroom-cultivation"), 200)
        assert concept["labels"]["ja"] == "きのこ栽培"
        assert expect(await client.get("/api/v1/taxonomy/concepts/nope"), 404)["code"] == "ConceptNotFound"

    async def test_concepts_show_their_links_and_how_many_listings_they_tag(
        self, app: FastAPI, client: AsyncClient, moderator
    ) -> None:
        owner = await register(client)
        await create_listing(
            client, owner, status="published", moderator=moderator, title="Hệ thống điện mặt trời nổi trên hồ thủy lợi"
        )
        await create_listing(client, owner, title="Điện mặt trời nổi trên ao nuôi tôm")  # a draft counts nowhere
        await app.state.indexer.drain()
        floating = expect(await client.get("/api/v1/taxonomy/concepts/floating-solar"), 200)
        assert floating["broader"] == ["solar-pv"]
        assert (floating["offers"], floating["demands"]) == (1, 0)
        solar = expect(await client.get("/api/v1/taxonomy/concepts/solar-pv"), 200)
        assert "floating-solar" in solar["narrower"]
        assert solar["offers"] == 1, "a listing tagged with a concept is tagged with its broader ones"
        tree = expect(await client.get("/api/v1/taxonomy"), 200)
        listed = {c["id"]: c for f in tree["fields"] for s in f["subfields"] for c in s["concepts"]}
        assert listed["floating-solar"]["offers"] == 1
        assert listed["arsenic-removal"]["offers"] == 1  # the default offer names it (concepts given)


class TestInferredConcepts:
    async def test_topics_are_inferred_from_any_language_but_not_from_the_owners_name(
        self, client: AsyncClient
    ) -> None:
        institute = await register(client, kind="institute", organization="Viện Chăn nuôi Quốc gia")
        created = await create_listing(
            client,
            institute,
            title="Vắc xin phòng tụ huyết trùng lợn",
            summary="Viện Chăn nuôi Quốc gia chuyển giao quy trình sản xuất vắc xin.",
            description="",
            translations={"ja": {"title": "豚パスツレラ症ワクチン", "summary": "製造工程を技術移転します。"}},
            field="biotech",
            concepts=[],
        )
        # "chăn nuôi" (livestock farming) is only in the owner's name
        assert created["inferred_concepts"] == ["vaccine-veterinary"]
        assert created["concepts"] == []

        changed = expect(
            await client.patch(
                f"/api/v1/offers/{created['id']}",
                json={"summary": "Vắc xin cho lợn; kèm bộ kit chẩn đoán nhanh tại trại chăn nuôi."},
                headers={**institute.headers, "If-Match": f'"{created["version"]}"'},
            ),
            200,
        )
        assert changed["inferred_concepts"] == ["vaccine-veterinary", "livestock-farming", "diagnostics"]
