"""Registration, sign-in, refresh rotation, logout and the caller's account, through HTTP."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.security import create_access_token, hash_secret
from app.models import RefreshToken
from app.models.base import utcnow
from tests.helpers import PASSWORD, bearer, expect, login, organization_payload, register


def _registration(email: str, password: str = PASSWORD, **extra: object) -> dict:
    return {
        "email": email,
        "password": password,
        "full_name": "Lê Văn Cường",
        "organization": organization_payload("Công ty Sơn Hải Phòng"),
        **extra,
    }


LEEWAY = 30  # REFRESH_REUSE_LEEWAY_SECONDS by default


async def _spent_ago(session: AsyncSession, token: str, *, seconds: int) -> None:
    """Move a spent refresh token's use back in time, as if the clock had run."""
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.token_hash == hash_secret(token))
        .values(used_at=utcnow() - timedelta(seconds=seconds))
    )
    await session.commit()


class TestRegister:
    async def test_creates_organisation_and_its_first_admin(self, client: AsyncClient) -> None:
        person = await register(client, "An.Nguyen@Example.VN", organization="Viện Hải dương học", kind="institute")
        assert person.account["email"] == "an.nguyen@example.vn"
        assert person.account["is_org_admin"] is True
        assert person.account["role"] == "member"
        assert person.organization["kind"] == "institute"
        assert person.organization["verified"] is False
        assert person.tokens["token_type"] == "bearer"
        me = expect(await client.get("/api/v1/auth/me", headers=person.headers), 200)
        assert me["account"]["id"] == person.account_id
        assert me["organization"]["name"] == "Viện Hải dương học"

    async def test_intermediary_registrant_is_a_broker(self, client: AsyncClient) -> None:
        person = await register(client, kind="intermediary", services=["transfer_brokerage"])
        assert person.account["role"] == "broker"
        assert person.organization["services"] == ["transfer_brokerage"]

    async def test_email_is_unique_whatever_its_case(self, client: AsyncClient) -> None:
        await register(client, "dup@example.vn")
        response = await client.post("/api/v1/auth/register", json=_registration("DUP@example.vn"))
        assert expect(response, 409)["code"] == "EmailTaken"

    async def test_weak_password_names_each_rule(self, client: AsyncClient) -> None:
        response = await client.post("/api/v1/auth/register", json=_registration("cuong@example.vn", password="cuong"))
        body = expect(response, 422)
        assert body["code"] == "WeakPassword"
        messages = {e["msg"] for e in body["errors"]}
        assert "password must be at least 10 characters long" in messages
        assert all(e["loc"] == ["body", "password"] for e in body["errors"])

    async def test_common_password_refused(self, client: AsyncClient) -> None:
        response = await client.post(
            "/api/v1/auth/register", json=_registration("cuong@example.vn", password="password123")
        )
        assert "password is one of the most common passwords" in {e["msg"] for e in expect(response, 422)["errors"]}

    async def test_password_containing_email_refused(self, client: AsyncClient) -> None:
        response = await client.post(
            "/api/v1/auth/register", json=_registration("nguyenvana@example.vn", password="nguyenvana-2026")
        )
        assert "password must not contain the email address" in {e["msg"] for e in expect(response, 422)["errors"]}

    async def test_invalid_email_and_country_are_named(self, client: AsyncClient) -> None:
        body = _registration("not-an-email")
        body["organization"]["country"] = "XX"
        errors = expect(await client.post("/api/v1/auth/register", json=body), 422)["errors"]
        locs = {tuple(e["loc"]) for e in errors}
        assert ("body", "email") in locs
        assert ("body", "organization", "country") in locs

    async def test_organisation_or_invitation_but_not_both(self, client: AsyncClient) -> None:
        body = _registration("both@example.vn", invitation_token="abc")
        assert expect(await client.post("/api/v1/auth/register", json=body), 422)["code"] == "RequestValidationFailed"

    async def test_services_only_for_intermediaries(self, client: AsyncClient) -> None:
        body = _registration("svc@example.vn")
        body["organization"]["services"] = ["ip_services"]
        assert expect(await client.post("/api/v1/auth/register", json=body), 422)["errors"]


class TestSignIn:
    async def test_password_flow_returns_working_tokens(self, client: AsyncClient) -> None:
        person = await register(client, "login@example.vn")
        tokens = await login(client, "LOGIN@example.vn")
        assert tokens["expires_in"] == 15 * 60
        me = expect(await client.get("/api/v1/auth/me", headers=bearer(tokens["access_token"])), 200)
        assert me["account"]["id"] == person.account_id
        assert me["account"]["last_login_at"] is not None

    async def test_wrong_password_and_unknown_email_look_the_same(self, client: AsyncClient) -> None:
        await register(client, "known@example.vn")
        wrong = await client.post("/api/v1/auth/token", data={"username": "known@example.vn", "password": "x" * 12})
        unknown = await client.post("/api/v1/auth/token", data={"username": "nobody@example.vn", "password": "x" * 12})
        assert expect(wrong, 401)["code"] == expect(unknown, 401)["code"] == "InvalidCredentials"

    async def test_failed_attempts_from_one_address_are_throttled(self, client: AsyncClient) -> None:
        await register(client, "target@example.vn")
        for _ in range(5):
            bad = await client.post(
                "/api/v1/auth/token", data={"username": "target@example.vn", "password": "wrong-password"}
            )
            assert bad.status_code == 401
        blocked = await client.post("/api/v1/auth/token", data={"username": "target@example.vn", "password": PASSWORD})
        body = expect(blocked, 429)
        assert body["code"] == "TooManyLoginAttempts"
        assert int(blocked.headers["retry-after"]) in range(1, 901)

    async def test_success_resets_the_account_budget(self, client: AsyncClient) -> None:
        await register(client, "forgetful@example.vn")
        for _ in range(4):
            await client.post(
                "/api/v1/auth/token", data={"username": "forgetful@example.vn", "password": "nope-nope-nope"}
            )
        await login(client, "forgetful@example.vn")
        for _ in range(4):
            await client.post(
                "/api/v1/auth/token", data={"username": "forgetful@example.vn", "password": "nope-nope-nope"}
            )
        await login(client, "forgetful@example.vn")


class TestTokens:
    async def test_an_empty_or_other_grant_type_is_refused_naming_the_field(self, client: AsyncClient) -> None:
        person = await register(client)
        credentials = {"username": person.account["email"], "password": PASSWORD}
        for grant_type in ("", "client_credentials"):
            response = await client.post("/api/v1/auth/token", data={**credentials, "grant_type": grant_type})
            problem = expect(response, 422)
            assert problem["errors"][0]["loc"] == ["body", "grant_type"], grant_type
        expect(await client.post("/api/v1/auth/token", data={**credentials, "grant_type": "password"}), 200)
        expect(await client.post("/api/v1/auth/token", data=credentials), 200)

    async def test_refresh_rotates_and_reuse_revokes_the_family(
        self, client: AsyncClient, session: AsyncSession
    ) -> None:
        person = await register(client)
        first = person.tokens["refresh_token"]
        second = expect(await client.post("/api/v1/auth/refresh", json={"refresh_token": first}), 200)
        assert second["refresh_token"] != first
        expect(await client.get("/api/v1/auth/me", headers=bearer(second["access_token"])), 200)
        await _spent_ago(session, first, seconds=LEEWAY + 5)
        # The spent token comes back after the leeway: someone copied it. Both it and its successor die.
        replay = await client.post("/api/v1/auth/refresh", json={"refresh_token": first})
        assert expect(replay, 401)["code"] == "InvalidToken"
        successor = await client.post("/api/v1/auth/refresh", json={"refresh_token": second["refresh_token"]})
        assert expect(successor, 401)["code"] == "InvalidToken"

    async def test_two_tabs_refreshing_at_once_both_stay_signed_in(self, client: AsyncClient) -> None:
        person = await register(client)
        spent = person.tokens["refresh_token"]
        tab_a = expect(await client.post("/api/v1/auth/refresh", json={"refresh_token": spent}), 200)
        # the other tab sent the same token a moment later: within the leeway it gets a valid pair too
        tab_b = expect(await client.post("/api/v1/auth/refresh", json={"refresh_token": spent}), 200)
        assert tab_b["refresh_token"] not in (spent, tab_a["refresh_token"])
        for pair in (tab_a, tab_b):
            expect(await client.get("/api/v1/auth/me", headers=bearer(pair["access_token"])), 200)
        expect(await client.post("/api/v1/auth/refresh", json={"refresh_token": tab_b["refresh_token"]}), 200)

    async def test_an_older_token_or_one_whose_successor_was_used_still_revokes_the_family(
        self, client: AsyncClient
    ) -> None:
        person = await register(client)
        oldest = person.tokens["refresh_token"]
        middle = expect(await client.post("/api/v1/auth/refresh", json={"refresh_token": oldest}), 200)
        newest = expect(await client.post("/api/v1/auth/refresh", json={"refresh_token": middle["refresh_token"]}), 200)
        # seconds later, but not the token spent last: a copy, not a second tab
        replay = await client.post("/api/v1/auth/refresh", json={"refresh_token": oldest})
        assert expect(replay, 401)["code"] == "InvalidToken"
        revoked = await client.post("/api/v1/auth/refresh", json={"refresh_token": newest["refresh_token"]})
        assert expect(revoked, 401)["code"] == "InvalidToken"

    async def test_the_leeway_can_be_turned_off(self, app: FastAPI, client: AsyncClient) -> None:
        app.state.settings = app.state.settings.model_copy(update={"refresh_reuse_leeway_seconds": 0})
        person = await register(client)
        spent = person.tokens["refresh_token"]
        expect(await client.post("/api/v1/auth/refresh", json={"refresh_token": spent}), 200)
        expect(await client.post("/api/v1/auth/refresh", json={"refresh_token": spent}), 401)

    async def test_logout_revokes_refresh_token(self, client: AsyncClient) -> None:
        person = await register(client)
        expect(
            await client.post("/api/v1/auth/logout", json={"refresh_token": person.tokens["refresh_token"]}),
            204,
        )
        response = await client.post("/api/v1/auth/refresh", json={"refresh_token": person.tokens["refresh_token"]})
        assert response.status_code == 401

    async def test_other_sign_ins_survive_logout(self, client: AsyncClient) -> None:
        person = await register(client, "two-devices@example.vn")
        other = await login(client, "two-devices@example.vn")
        expect(
            await client.post("/api/v1/auth/logout", json={"refresh_token": person.tokens["refresh_token"]}),
            204,
        )
        expect(await client.post("/api/v1/auth/refresh", json={"refresh_token": other["refresh_token"]}), 200)

    async def test_expired_access_token_is_401(self, client: AsyncClient, settings) -> None:
        person = await register(client)
        token, _ = create_access_token(
            person.account["id"], person.organization["id"], "member", secret=settings.secret_key, minutes=-1
        )
        response = await client.get("/api/v1/auth/me", headers=bearer(token))
        assert expect(response, 401)["code"] == "InvalidToken"
        assert response.headers["www-authenticate"] == "Bearer"

    async def test_token_signed_with_another_key_is_401(self, client: AsyncClient) -> None:
        person = await register(client)
        token, _ = create_access_token(
            person.account["id"], person.organization["id"], "admin", secret="another-secret-" * 4, minutes=5
        )
        assert (await client.get("/api/v1/auth/me", headers=bearer(token))).status_code == 401

    async def test_anonymous_me_is_401(self, client: AsyncClient) -> None:
        assert expect(await client.get("/api/v1/auth/me"), 401)["code"] == "NotAuthenticated"


class TestPasswordChange:
    async def test_new_password_works_and_old_sessions_end(self, client: AsyncClient) -> None:
        person = await register(client, "change@example.vn")
        body = {"current_password": PASSWORD, "new_password": "mot-mat-khau-moi-2027"}
        expect(await client.post("/api/v1/auth/me/password", json=body, headers=person.headers), 204)
        refresh = await client.post("/api/v1/auth/refresh", json={"refresh_token": person.tokens["refresh_token"]})
        assert refresh.status_code == 401
        await login(client, "change@example.vn", "mot-mat-khau-moi-2027")
        old = await client.post("/api/v1/auth/token", data={"username": "change@example.vn", "password": PASSWORD})
        assert old.status_code == 401

    async def test_wrong_current_password_is_422_on_that_field(self, client: AsyncClient) -> None:
        person = await register(client)
        body = {"current_password": "not-my-password", "new_password": "mot-mat-khau-moi-2027"}
        errors = expect(await client.post("/api/v1/auth/me/password", json=body, headers=person.headers), 422)["errors"]
        assert errors[0]["loc"] == ["body", "current_password"]


class TestDeactivation:
    async def test_deactivated_member_loses_access(self, client: AsyncClient) -> None:
        admin = await register(client)
        member_email = "leaving@example.vn"
        invitation = expect(
            await client.post(
                f"/api/v1/organizations/{admin.organization_id}/invitations",
                json={"email": member_email},
                headers=admin.headers,
            ),
            201,
        )
        joined = expect(
            await client.post(
                "/api/v1/auth/register",
                json={
                    "email": member_email,
                    "password": PASSWORD,
                    "full_name": "B",
                    "invitation_token": invitation["token"],
                },
            ),
            201,
        )
        expect(
            await client.patch(
                f"/api/v1/organizations/{admin.organization_id}/members/{joined['account']['id']}",
                json={"is_active": False},
                headers=admin.headers,
            ),
            200,
        )
        assert (
            await client.get("/api/v1/auth/me", headers=bearer(joined["tokens"]["access_token"]))
        ).status_code == 401
        refresh = await client.post("/api/v1/auth/refresh", json={"refresh_token": joined["tokens"]["refresh_token"]})
        assert refresh.status_code == 401
        assert (
            await client.post("/api/v1/auth/token", data={"username": member_email, "password": PASSWORD})
        ).status_code == 401
