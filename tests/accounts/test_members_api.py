"""Invitations, members and platform roles."""

from __future__ import annotations

from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from tests.helpers import PASSWORD, expect, join_by_invitation, make_staff, register


class TestInvitations:
    async def test_invitee_joins_with_the_invited_role(self, client: AsyncClient) -> None:
        broker_admin = await register(client, kind="intermediary")
        joined = await join_by_invitation(client, broker_admin, role="broker", is_org_admin=True)
        assert joined.organization_id == broker_admin.organization_id
        assert joined.account["role"] == "broker"
        assert joined.account["is_org_admin"] is True

    async def test_invitation_token_works_once_and_only_for_its_email(self, client: AsyncClient) -> None:
        admin = await register(client)
        created = expect(
            await client.post(
                f"/api/v1/organizations/{admin.organization_id}/invitations",
                json={"email": "invited@example.vn"},
                headers=admin.headers,
            ),
            201,
        )
        other_email = {
            "email": "someone.else@example.vn",
            "password": PASSWORD,
            "full_name": "X",
            "invitation_token": created["token"],
        }
        assert expect(await client.post("/api/v1/auth/register", json=other_email), 404)["code"] == "InvitationNotFound"
        right = {**other_email, "email": "invited@example.vn"}
        expect(await client.post("/api/v1/auth/register", json=right), 201)
        again = {**right, "email": "invited@example.vn"}
        assert (await client.post("/api/v1/auth/register", json=again)).status_code in (404, 409)

    async def test_revoked_invitation_cannot_be_used(self, client: AsyncClient) -> None:
        admin = await register(client)
        created = expect(
            await client.post(
                f"/api/v1/organizations/{admin.organization_id}/invitations",
                json={"email": "revoked@example.vn"},
                headers=admin.headers,
            ),
            201,
        )
        expect(
            await client.delete(
                f"/api/v1/organizations/{admin.organization_id}/invitations/{created['id']}",
                headers=admin.headers,
            ),
            204,
        )
        body = {
            "email": "revoked@example.vn",
            "password": PASSWORD,
            "full_name": "X",
            "invitation_token": created["token"],
        }
        assert (await client.post("/api/v1/auth/register", json=body)).status_code == 404
        listed = expect(
            await client.get(f"/api/v1/organizations/{admin.organization_id}/invitations", headers=admin.headers),
            200,
        )
        assert listed["items"][0]["revoked_at"] is not None
        assert "token" not in listed["items"][0]

    async def test_enterprise_cannot_invite_brokers(self, client: AsyncClient) -> None:
        admin = await register(client, kind="enterprise")
        response = await client.post(
            f"/api/v1/organizations/{admin.organization_id}/invitations",
            json={"email": "b@example.vn", "role": "broker"},
            headers=admin.headers,
        )
        assert expect(response, 422)["errors"][0]["loc"] == ["body", "role"]


class TestMembers:
    async def test_members_are_listed_for_the_organisation(self, client: AsyncClient) -> None:
        admin = await register(client)
        joined = await join_by_invitation(client, admin)
        page = expect(
            await client.get(f"/api/v1/organizations/{admin.organization_id}/members", headers=joined.headers),
            200,
        )
        assert page["total"] == 2
        assert {m["id"] for m in page["items"]} == {admin.account_id, joined.account_id}
        assert all("password_hash" not in m for m in page["items"])

    async def test_org_admin_promotes_a_member(self, client: AsyncClient) -> None:
        admin = await register(client)
        joined = await join_by_invitation(client, admin)
        updated = expect(
            await client.patch(
                f"/api/v1/organizations/{admin.organization_id}/members/{joined.account_id}",
                json={"is_org_admin": True},
                headers=admin.headers,
            ),
            200,
        )
        assert updated["is_org_admin"] is True

    async def test_member_of_another_organisation_is_not_found(self, client: AsyncClient) -> None:
        admin = await register(client)
        stranger = await register(client)
        response = await client.patch(
            f"/api/v1/organizations/{admin.organization_id}/members/{stranger.account_id}",
            json={"is_org_admin": True},
            headers=admin.headers,
        )
        assert expect(response, 404)["code"] == "AccountNotFound"


class TestPlatformRoles:
    async def test_admin_makes_a_moderator(self, client: AsyncClient, session: AsyncSession) -> None:
        admin = await make_staff(client, session, "admin")
        person = await register(client)
        updated = expect(
            await client.put(
                f"/api/v1/accounts/{person.account_id}/role",
                json={"role": "moderator"},
                headers=admin.headers,
            ),
            200,
        )
        assert updated["role"] == "moderator"
        # the role applies from the next request on: moderators read the audit log
        expect(await client.get("/api/v1/audit", headers=person.headers), 200)

    async def test_moderator_cannot_grant_roles(self, client: AsyncClient, session: AsyncSession) -> None:
        moderator = await make_staff(client, session, "moderator")
        response = await client.put(
            f"/api/v1/accounts/{moderator.account_id}/role", json={"role": "admin"}, headers=moderator.headers
        )
        assert response.status_code == 403
