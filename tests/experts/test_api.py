"""The expert network through HTTP: visibility tiers, consent, freshness, consultations and their cap."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.experts.schemas import DEFAULT_VISIBILITY, ExpertField, Tier
from app.experts.service import expert_service
from app.models import Expert
from app.models.base import utcnow
from app.search import outbox
from tests.conftest import make_settings
from tests.helpers import Registered, create_listing, expect, make_staff, register, verify

CAP = 3
# Every field the owner can set a tier for, cycled over the three tiers so each reader meets all of them.
TIERS = [Tier.PUBLIC, Tier.MEMBERS, Tier.PRIVATE]
CHOSEN = {field: TIERS[i % 3] for i, field in enumerate(ExpertField)}


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url, expert_requests_per_org_per_month=CAP)


@pytest.fixture
async def moderator(client: AsyncClient, session: AsyncSession) -> Registered:
    return await make_staff(client, session, "moderator")


def expert_body(**overrides: Any) -> dict[str, Any]:
    return {
        "name": "Nguyễn Thị Minh Hạnh",
        "title": "Phó Giáo sư, Tiến sĩ",
        "affiliation": "Kyushu University",
        "country": "JP",
        "city": "Fukuoka",
        "overseas_vietnamese": True,
        "languages": ["vi", "ja", "en"],
        "headline": "Đánh giá và cải tạo hệ thống xử lý nước thải chế biến thủy sản",
        "bio": "Mười lăm năm nghiên cứu bể sinh học màng MBR cho nước thải công nghiệp.",
        "concepts": ["wastewater-treatment"],
        "keywords": ["membrane bioreactor", "MBR"],
        "industry_years": 8,
        "highest_trl": 7,
        "publications_count": 42,
        "patents_count": 3,
        "orcid": "0000-0002-1825-0097",
        "offers": ["assessment", "consulting"],
        "availability": "limited",
        "fee_basis": "negotiable",
        "contact": {"email": "hanh@example.jp", "phone": "+81 92 000 0000"},
        **overrides,
    }


async def create_expert(client: AsyncClient, owner: Registered, **overrides: Any) -> dict[str, Any]:
    return expect(await client.post("/api/v1/experts", json=expert_body(**overrides), headers=owner.headers), 201)


class TestVisibility:
    async def test_every_field_for_anonymous_member_and_owner(self, client: AsyncClient, moderator: Registered) -> None:
        expert_person = await register(client, kind="university", organization="Kyushu alumni")
        created = await create_expert(client, expert_person, visibility={f.value: t.value for f, t in CHOSEN.items()})
        member = await register(client, organization="Công ty đã xác minh")
        await verify(client, moderator, member.organization_id)
        unverified = await register(client, organization="Công ty chưa xác minh")
        body = expert_body()
        path = f"/api/v1/experts/{created['id']}"
        readers = {
            "anonymous": ({}, {Tier.PUBLIC}),
            "unverified": (unverified.headers, {Tier.PUBLIC}),
            "member": (member.headers, {Tier.PUBLIC, Tier.MEMBERS}),
            "owner": (expert_person.headers, set(Tier)),
        }
        for reader, (headers, sees) in readers.items():
            seen = expect(await client.get(path, headers=headers), 200)
            for field, tier in CHOSEN.items():
                expected = body[field.value] if tier in sees else None
                assert seen[field.value] == expected, f"{reader} reading {field.value} ({tier.value})"
            assert set(seen["hidden"]) == {f.value for f, t in CHOSEN.items() if t not in sees}, reader
            # always public: what finds the expert
            assert (seen["name"], seen["country"], seen["overseas_vietnamese"]) == ("Nguyễn Thị Minh Hạnh", "JP", True)
            assert seen["offers"] == ["assessment", "consulting"]
            # contact details: never public, never for members; the owner's side only
            if reader == "owner":
                assert seen["contact"] == {"email": "hanh@example.jp", "phone": "+81 92 000 0000"}
                assert seen["visibility"][ExpertField.FEE_BASIS.value] == CHOSEN[ExpertField.FEE_BASIS].value
            else:
                assert seen["contact"] is None
                assert seen["visibility"] is None
                assert "hanh@example.jp" not in str(seen)

    async def test_defaults_keep_city_availability_and_fee_for_members(self, client: AsyncClient) -> None:
        owner = await register(client)
        created = await create_expert(client, owner)
        seen = expect(await client.get(f"/api/v1/experts/{created['id']}"), 200)
        members_only = {f.value for f, t in DEFAULT_VISIBILITY.items() if t is Tier.MEMBERS}
        assert set(seen["hidden"]) == members_only == {"city", "availability", "fee_basis"}
        assert seen["city"] is None
        assert seen["bio"] is not None

    async def test_private_words_stay_out_of_search(self, app: FastAPI, client: AsyncClient) -> None:
        owner = await register(client)
        await create_expert(
            client,
            owner,
            bio="Chuyên gia về gốm áp điện.",
            keywords=["xylophonic"],
            visibility={"bio": "private", "keywords": "members"},
        )
        await app.state.indexer.drain()
        assert expect(await client.get("/api/v1/search/experts", params={"q": "xylophonic"}), 200)["total"] == 0
        assert expect(await client.get("/api/v1/search/experts", params={"q": "gom ap dien"}), 200)["total"] == 0
        assert expect(await client.get("/api/v1/search/experts", params={"q": "MBR nuoc thai"}), 200)["total"] == 1


class TestOwnership:
    async def test_organisation_listing_staff_must_record_consent(self, client: AsyncClient) -> None:
        institute = await register(client, kind="institute", organization="Viện Môi trường")
        refused = await client.post(
            "/api/v1/experts", json=expert_body(listed_by="organization"), headers=institute.headers
        )
        assert expect(refused, 422)["errors"][0]["msg"].endswith("must record the person's consent")
        consent = {"given_at": "2026-11-02T08:00:00Z", "method": "phiếu đồng ý đã ký"}
        listed = await create_expert(client, institute, listed_by="organization", consent=consent)
        assert listed["listed_by"] == "organization"
        assert listed["consent"]["method"] == "phiếu đồng ý đã ký"
        assert expect(await client.get(f"/api/v1/experts/{listed['id']}"), 200)["consent"] is None

    async def test_invalid_orcid_is_refused(self, client: AsyncClient) -> None:
        owner = await register(client)
        response = await client.post(
            "/api/v1/experts", json=expert_body(orcid="0000-0002-1825-0098"), headers=owner.headers
        )
        problem = expect(response, 422)
        assert problem["errors"][0]["loc"][-1] == "orcid"

    async def test_owner_updates_with_if_match_and_others_cannot(self, client: AsyncClient) -> None:
        owner = await register(client)
        stranger = await register(client)
        created = await create_expert(client, owner)
        path = f"/api/v1/experts/{created['id']}"
        etag = (await client.get(path)).headers["etag"]
        assert (await client.patch(path, json={"city": "Osaka"}, headers=owner.headers)).status_code == 428
        denied = await client.patch(path, json={"city": "Osaka"}, headers={**stranger.headers, "If-Match": etag})
        assert denied.status_code == 403
        changed = expect(
            await client.patch(path, json={"city": "Osaka"}, headers={**owner.headers, "If-Match": etag}), 200
        )
        assert changed["city"] == "Osaka"
        assert changed["version"] == created["version"] + 1


class TestFreshness:
    async def test_stale_after_a_year_reminded_before_and_fresh_when_confirmed(
        self, app: FastAPI, client: AsyncClient, session: AsyncSession, settings: Settings
    ) -> None:
        owner = await register(client)
        created = await create_expert(client, owner)
        expert_id = uuid.UUID(created["id"])
        assert created["stale"] is False
        # eleven and a half months without confirmation: not yet stale, but the owner is reminded once
        await session.execute(
            update(Expert).where(Expert.id == expert_id).values(last_confirmed_at=utcnow() - timedelta(days=350))
        )
        await session.commit()
        assert await expert_service.remind_due(session, settings) == 1
        assert await expert_service.remind_due(session, settings) == 0, "one reminder per confirmation"
        await session.commit()
        notes = expect(await client.get("/api/v1/notifications", headers=owner.headers), 200)["items"]
        assert [n["kind"] for n in notes] == ["expert_confirmation_due"]
        assert notes[0]["payload"]["expert_id"] == created["id"]
        # past twelve months: flagged
        await session.execute(
            update(Expert).where(Expert.id == expert_id).values(last_confirmed_at=utcnow() - timedelta(days=400))
        )
        await session.commit()
        assert expect(await client.get(f"/api/v1/experts/{expert_id}"), 200)["stale"] is True
        confirmed = expect(await client.post(f"/api/v1/experts/{expert_id}/confirm", headers=owner.headers), 200)
        assert confirmed["stale"] is False

    async def test_stale_profile_ranks_below_an_equal_match_in_search_until_confirmed(
        self, app: FastAPI, client: AsyncClient, session: AsyncSession
    ) -> None:
        # "Đo đạc thủy văn" side by side in a headline answers the query a little better than apart in a biography
        hydrology = {"concepts": [], "keywords": [], "orcid": None}
        owner = await register(client)
        headline = await create_expert(
            client, owner, name="Hoàng Minh", headline="Đo đạc thủy văn", bio="Ba mươi năm ở Hải Phòng.", **hydrology
        )
        biography = await create_expert(
            client,
            await register(client),
            name="Đặng Lan",
            headline="Tư vấn môi trường",
            bio="Đo đạc địa hình và thủy văn cho các cảng.",
            **hydrology,
        )
        await app.state.indexer.drain()

        async def found() -> list[tuple[str, bool]]:
            body = expect(await client.get("/api/v1/search/experts", params={"q": "do dac thuy van"}), 200)
            assert body["total"] == 2, "a stale profile is demoted, never hidden"
            return [(hit["id"], hit["document"]["stale"]) for hit in body["items"]]

        assert await found() == [(headline["id"], False), (biography["id"], False)]
        # thirteen months without a confirmation, as the index holds it
        await session.execute(
            update(Expert)
            .where(Expert.id == uuid.UUID(headline["id"]))
            .values(last_confirmed_at=utcnow() - timedelta(days=400))
        )
        outbox.expert_changed(session, uuid.UUID(headline["id"]))
        await session.commit()
        await app.state.indexer.drain()
        assert await found() == [(biography["id"], False), (headline["id"], True)]

        expect(await client.post(f"/api/v1/experts/{headline['id']}/confirm", headers=owner.headers), 200)
        await app.state.indexer.drain()
        assert await found() == [(headline["id"], False), (biography["id"], False)]


async def _consultation_world(client: AsyncClient) -> tuple[Registered, Registered, dict[str, Any]]:
    expert_side = await register(client, kind="university", organization="Đại học Kyushu (cựu sinh viên)")
    asker = await register(client, organization="Công ty Thủy sản Cát Hải")
    expert = await create_expert(client, expert_side)
    return expert_side, asker, expert


class TestConsultations:
    async def test_contact_revealed_only_on_acceptance(self, client: AsyncClient) -> None:
        expert_side, asker, expert = await _consultation_world(client)
        demand = await create_listing(client, asker, "demand")
        sent = expect(
            await client.post(
                f"/api/v1/experts/{expert['id']}/consultations",
                json={"subject_kind": "demand", "subject_id": demand["id"], "message": "Xin tư vấn phương án MBR."},
                headers=asker.headers,
            ),
            201,
        )
        assert sent["status"] == "pending"
        assert sent["expert_contact"] is None
        path = f"/api/v1/consultations/{sent['id']}"
        assert expect(await client.get(path, headers=asker.headers), 200)["expert_contact"] is None
        # the expert's side is told
        notes = expect(await client.get("/api/v1/notifications", headers=expert_side.headers), 200)["items"]
        assert notes[0]["kind"] == "consultation_requested"
        # only the expert's side answers
        assert (await client.post(f"{path}/accept", headers=asker.headers)).status_code == 403
        accepted = expect(await client.post(f"{path}/accept", headers=expert_side.headers), 200)
        assert accepted["status"] == "accepted"
        seen = expect(await client.get(path, headers=asker.headers), 200)
        assert seen["expert_contact"] == {"email": "hanh@example.jp", "phone": "+81 92 000 0000"}
        # the profile itself still keeps the contact from the requester
        assert (
            expect(await client.get(f"/api/v1/experts/{expert['id']}", headers=asker.headers), 200)["contact"] is None
        )
        # a stranger sees nothing of it
        stranger = await register(client)
        assert (await client.get(path, headers=stranger.headers)).status_code == 404
        assert (await client.post(f"{path}/accept", headers=expert_side.headers)).status_code == 409

    async def test_declined_request_reveals_nothing(self, client: AsyncClient) -> None:
        expert_side, asker, expert = await _consultation_world(client)
        sent = expect(
            await client.post(
                f"/api/v1/experts/{expert['id']}/consultations",
                json={"message": "Cho hỏi miễn phí vài câu về MBR."},
                headers=asker.headers,
            ),
            201,
        )
        path = f"/api/v1/consultations/{sent['id']}"
        declined = expect(
            await client.post(f"{path}/decline", json={"reason": "Ngoài phạm vi"}, headers=expert_side.headers), 200
        )
        assert declined["status"] == "declined"
        assert declined["expert_contact"] is None
        assert expect(await client.get(path, headers=asker.headers), 200)["expert_contact"] is None
        outcome = await client.put(f"{path}/outcome", json={"outcome": "no_fit"}, headers=asker.headers)
        assert expect(outcome, 409)["code"] == "ConsultationState"

    async def test_outcome_recorded_and_counted_as_evidence(self, client: AsyncClient) -> None:
        expert_side, asker, expert = await _consultation_world(client)
        sent = expect(
            await client.post(
                f"/api/v1/experts/{expert['id']}/consultations",
                json={"message": "Đánh giá hệ thống xử lý nước thải."},
                headers=asker.headers,
            ),
            201,
        )
        path = f"/api/v1/consultations/{sent['id']}"
        expect(await client.post(f"{path}/accept", headers=expert_side.headers), 200)
        recorded = expect(
            await client.put(
                f"{path}/outcome", json={"outcome": "engaged", "note": "Hợp đồng 3 tháng"}, headers=asker.headers
            ),
            200,
        )
        assert (recorded["outcome"], recorded["outcome_note"]) == ("engaged", "Hợp đồng 3 tháng")
        listed = expect(
            await client.get("/api/v1/consultations", params={"role": "received"}, headers=expert_side.headers), 200
        )
        assert [c["id"] for c in listed["items"]] == [sent["id"]]
        assert (
            expect(await client.get("/api/v1/consultations", params={"role": "received"}, headers=asker.headers), 200)[
                "total"
            ]
            == 0
        )

    async def test_monthly_cap_per_organisation(self, client: AsyncClient) -> None:
        _expert_side, asker, expert = await _consultation_world(client)
        colleague_expert_side = await register(client, organization="Viện khác")
        other = await create_expert(client, colleague_expert_side, name="Trần Văn Bình")
        for number in range(CAP):
            target = expert if number % 2 else other
            expect(
                await client.post(
                    f"/api/v1/experts/{target['id']}/consultations",
                    json={"message": f"Câu hỏi số {number + 1} về công nghệ."},
                    headers=asker.headers,
                ),
                201,
            )
        refused = await client.post(
            f"/api/v1/experts/{expert['id']}/consultations",
            json={"message": "Thêm một câu hỏi nữa về công nghệ."},
            headers=asker.headers,
        )
        problem = expect(refused, 429)
        assert problem["code"] == "ConsultationCapReached"
        assert problem["cap"] == CAP
        now = utcnow()
        resets = f"{now.year + (now.month == 12)}-{now.month % 12 + 1:02d}-01T00:00:00+00:00"
        assert problem["resets_at"] == resets
        assert int(refused.headers["retry-after"]) > 0
        # another organisation has its own allowance
        other_asker = await register(client)
        expect(
            await client.post(
                f"/api/v1/experts/{expert['id']}/consultations",
                json={"message": "Câu hỏi của công ty khác."},
                headers=other_asker.headers,
            ),
            201,
        )

    async def test_own_expert_and_invisible_subject_are_refused(self, client: AsyncClient) -> None:
        expert_side, asker, expert = await _consultation_world(client)
        own = await client.post(
            f"/api/v1/experts/{expert['id']}/consultations",
            json={"message": "Hỏi chuyên gia của mình."},
            headers=expert_side.headers,
        )
        assert expect(own, 409)["code"] == "OwnExpert"
        someone_elses_draft = await create_listing(client, await register(client), "demand")
        hidden = await client.post(
            f"/api/v1/experts/{expert['id']}/consultations",
            json={"subject_kind": "demand", "subject_id": someone_elses_draft["id"], "message": "Về nhu cầu này."},
            headers=asker.headers,
        )
        assert hidden.status_code == 404


class TestConsultationSubjects:
    async def test_about_a_deal_of_ones_own_only(self, client: AsyncClient) -> None:
        _expert_side, asker, expert = await _consultation_world(client)
        supplier = await register(client, kind="institute")
        deal = expect(
            await client.post(
                "/api/v1/deals",
                json={
                    "supplier_organization_id": supplier.organization_id,
                    "buyer_organization_id": asker.organization_id,
                    "deal_type": "licence",
                    "origin": "domestic_institute_university",
                    "value": "100000000",
                },
                headers=asker.headers,
            ),
            201,
        )
        body = {"subject_kind": "deal", "subject_id": deal["id"], "message": "Định giá hợp đồng li-xăng này."}
        path = f"/api/v1/experts/{expert['id']}/consultations"
        sent = expect(await client.post(path, json=body, headers=asker.headers), 201)
        assert (sent["subject_kind"], sent["subject_id"]) == ("deal", deal["id"])
        outsider = await register(client)
        assert expect(await client.post(path, json=body, headers=outsider.headers), 404)["code"] == "DealNotFound"
        half = await client.post(
            path, json={"subject_kind": "deal", "message": "Thiếu mã giao dịch."}, headers=asker.headers
        )
        assert half.status_code == 422
