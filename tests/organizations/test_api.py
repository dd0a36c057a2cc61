"""Organisations: public directory, profile updates, verification, deletion."""

from __future__ import annotations

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from tests.helpers import expect, make_staff, organization_payload, register, verify


class TestDirectory:
    async def test_anyone_lists_and_filters(self, client: AsyncClient) -> None:
        await register(client, organization="Viện Công nghệ Môi trường", kind="institute", sectors=["environment"])
        await register(client, organization="Công ty Sơn Xanh", kind="enterprise", sectors=["new_materials"])
        await register(
            client, organization="Kitakyushu Eco Co.", kind="enterprise", country="JP", languages=["ja", "en"]
        )

        everyone = expect(await client.get("/api/v1/organizations"), 200)
        assert everyone["total"] >= 3
        institutes = expect(await client.get("/api/v1/organizations", params={"kind": "institute"}), 200)
        assert [o["name"] for o in institutes["items"]] == ["Viện Công nghệ Môi trường"]
        japanese = expect(await client.get("/api/v1/organizations", params={"country": "jp"}), 200)
        assert [o["name"] for o in japanese["items"]] == ["Kitakyushu Eco Co."]
        paints = expect(await client.get("/api/v1/organizations", params={"sector": "new_materials"}), 200)
        assert [o["name"] for o in paints["items"]] == ["Công ty Sơn Xanh"]
        by_name = expect(await client.get("/api/v1/organizations", params={"q": "sơn xanh"}), 200)
        assert by_name["total"] == 1

    async def test_pagination_reports_total(self, client: AsyncClient) -> None:
        for i in range(3):
            await register(client, organization=f"Paged {i}", kind="university")
        page = expect(
            await client.get("/api/v1/organizations", params={"kind": "university", "limit": 2, "page": 2}),
            200,
        )
        assert page["total"] == 3
        assert len(page["items"]) == 1
        assert page["page"] == 2

    async def test_limit_is_capped(self, client: AsyncClient) -> None:
        body = expect(await client.get("/api/v1/organizations", params={"limit": 1000}), 422)
        assert body["errors"][0]["loc"] == ["query", "limit"]

    async def test_unknown_organisation_is_404(self, client: AsyncClient) -> None:
        response = await client.get("/api/v1/organizations/00000000-0000-4000-8000-000000000000")
        assert expect(response, 404)["code"] == "OrganizationNotFound"


class TestUpdate:
    async def test_member_updates_and_change_is_audited(self, client: AsyncClient, session: AsyncSession) -> None:
        owner = await register(client, organization="Công ty Cơ khí Đúc")
        updated = expect(
            await client.patch(
                f"/api/v1/organizations/{owner.organization_id}",
                json={"website": "https://duc.example.vn/", "name_i18n": {"en": "Casting Mechanics Co."}},
                headers=owner.headers,
            ),
            200,
        )
        assert updated["website"] == "https://duc.example.vn/"
        assert updated["name_i18n"] == {"en": "Casting Mechanics Co."}
        moderator = await make_staff(client, session, "moderator")
        log = expect(
            await client.get(
                "/api/v1/audit",
                params={"record_type": "organization", "record_id": owner.organization_id},
                headers=moderator.headers,
            ),
            200,
        )
        update = next(e for e in log["items"] if e["action"] == "update")
        assert update["actor_account_id"] == owner.account_id
        assert update["changes"]["website"] == [None, "https://duc.example.vn/"]

    async def test_invalid_values_name_the_field(self, client: AsyncClient) -> None:
        owner = await register(client)
        response = await client.patch(
            f"/api/v1/organizations/{owner.organization_id}",
            json={"country": "Vietnam", "website": "not a url", "sectors": ["astrology"]},
            headers=owner.headers,
        )
        locs = {tuple(e["loc"]) for e in expect(response, 422)["errors"]}
        assert {("body", "country"), ("body", "website"), ("body", "sectors", 0)} <= locs

    async def test_enterprise_cannot_claim_intermediary_services(self, client: AsyncClient) -> None:
        owner = await register(client)
        response = await client.patch(
            f"/api/v1/organizations/{owner.organization_id}",
            json={"services": ["ip_services"]},
            headers=owner.headers,
        )
        assert expect(response, 422)["code"] == "ServicesNotAllowed"


class TestVerification:
    async def test_moderator_verifies(self, client: AsyncClient, session: AsyncSession) -> None:
        owner = await register(client)
        moderator = await make_staff(client, session, "moderator")
        verified = await verify(client, moderator, owner.organization_id)
        assert verified["verified"] is True
        assert verified["verified_at"] is not None
        listed = expect(await client.get("/api/v1/organizations", params={"verified": True}), 200)
        assert owner.organization_id in {o["id"] for o in listed["items"]}

    @pytest.mark.parametrize(
        "change",
        [
            {"name": "Bộ Khoa học và Công nghệ"},
            {"kind": "government"},
            {"name_i18n": {"en": "Ministry of Science and Technology"}},
        ],
    )
    async def test_changing_a_verified_identity_sends_it_back_to_verification(
        self, client: AsyncClient, session: AsyncSession, change: dict
    ) -> None:
        owner = await register(client, organization="Công ty Nước sạch Tiên Lãng")
        moderator = await make_staff(client, session, "moderator")
        path = f"/api/v1/organizations/{owner.organization_id}"
        await verify(client, moderator, owner.organization_id)
        renamed = expect(await client.patch(path, json=change, headers=owner.headers), 200)
        assert (renamed["verified"], renamed["verified_at"]) == (False, None)
        listed = expect(await client.get("/api/v1/organizations", params={"verified": True}), 200)
        assert owner.organization_id not in {o["id"] for o in listed["items"]}
        audit = expect(
            await client.get(
                "/api/v1/audit",
                params={"record_type": "organization", "record_id": owner.organization_id},
                headers=moderator.headers,
            ),
            200,
        )
        assert any(e["changes"].get("verified") == [True, False] for e in audit["items"])

    async def test_other_changes_and_a_moderator_keep_the_verification(
        self, client: AsyncClient, session: AsyncSession
    ) -> None:
        owner = await register(client, organization="Viện Cơ khí Hải Phòng", kind="institute")
        moderator = await make_staff(client, session, "moderator")
        path = f"/api/v1/organizations/{owner.organization_id}"
        await verify(client, moderator, owner.organization_id)
        described = expect(await client.patch(path, json={"description": "Đúc kim loại"}, headers=owner.headers), 200)
        assert described["verified"] is True
        corrected = expect(
            await client.patch(path, json={"name": "Viện Cơ khí Hải Phòng (VCK)"}, headers=moderator.headers), 200
        )
        assert (corrected["name"], corrected["verified"]) == ("Viện Cơ khí Hải Phòng (VCK)", True)

    async def test_verifying_needs_the_etag_of_what_was_checked(
        self, client: AsyncClient, session: AsyncSession
    ) -> None:
        owner = await register(client, organization="Công ty Nước sạch Tiên Lãng")
        moderator = await make_staff(client, session, "moderator")
        path = f"/api/v1/organizations/{owner.organization_id}"
        checked = (await client.get(path)).headers["etag"]
        blind = await client.put(f"{path}/verification", json={"verified": True}, headers=moderator.headers)
        assert expect(blind, 428)["code"] == "PreconditionRequired"
        # renamed after the moderator read it: the check no longer holds
        expect(await client.patch(path, json={"name": "Bộ Khoa học và Công nghệ"}, headers=owner.headers), 200)
        stale = await client.put(
            f"{path}/verification", json={"verified": True}, headers={**moderator.headers, "If-Match": checked}
        )
        assert expect(stale, 412)["code"] == "PreconditionFailed"
        assert expect(await client.get(path), 200)["verified"] is False
        verified = await verify(client, moderator, owner.organization_id)
        assert (verified["name"], verified["verified"]) == ("Bộ Khoa học và Công nghệ", True)
        withdrawn = await client.put(f"{path}/verification", json={"verified": False}, headers=moderator.headers)
        assert expect(withdrawn, 200)["verified"] is False

    async def test_owner_cannot_verify_itself(self, client: AsyncClient) -> None:
        owner = await register(client)
        response = await client.put(
            f"/api/v1/organizations/{owner.organization_id}/verification",
            json={"verified": True},
            headers=owner.headers,
        )
        assert response.status_code == 403


class TestCreateAndDelete:
    async def test_moderator_creates_and_admin_deletes_an_empty_organisation(
        self, client: AsyncClient, session: AsyncSession
    ) -> None:
        moderator = await make_staff(client, session, "moderator")
        admin = await make_staff(client, session, "admin")
        created = expect(
            await client.post(
                "/api/v1/organizations",
                json=organization_payload("Trường Đại học Hàng hải", "university"),
                headers=moderator.headers,
            ),
            201,
        )
        expect(await client.delete(f"/api/v1/organizations/{created['id']}", headers=admin.headers), 204)
        expect(await client.get(f"/api/v1/organizations/{created['id']}"), 404)

    async def test_organisation_with_accounts_is_not_deleted(self, client: AsyncClient, session: AsyncSession) -> None:
        owner = await register(client)
        admin = await make_staff(client, session, "admin")
        response = await client.delete(f"/api/v1/organizations/{owner.organization_id}", headers=admin.headers)
        assert expect(response, 409)["code"] == "OrganizationInUse"
