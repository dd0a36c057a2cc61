"""Arranging data through the public API, as a client would."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from httpx import AsyncClient, Response
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Account

PASSWORD = "loc-nuoc-nhiem-asen-2026"


@dataclass
class Registered:
    account: dict[str, Any]
    organization: dict[str, Any]
    tokens: dict[str, Any]
    password: str = PASSWORD
    headers: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        self.headers = bearer(self.tokens["access_token"])

    @property
    def account_id(self) -> str:
        return str(self.account["id"])

    @property
    def organization_id(self) -> str:
        return str(self.organization["id"])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def organization_payload(name: str, kind: str = "enterprise", **extra: Any) -> dict[str, Any]:
    return {"name": name, "kind": kind, "country": "VN", "province": "Hải Phòng", **extra}


def expect(response: Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, f"{response.status_code}: {response.text}"
    return response.json() if response.content else {}


async def register(
    client: AsyncClient,
    email: str | None = None,
    *,
    organization: str | None = None,
    kind: str = "enterprise",
    password: str = PASSWORD,
    **org_fields: Any,
) -> Registered:
    email = email or f"user-{uuid.uuid4().hex[:8]}@example.vn"
    body = {
        "email": email,
        "password": password,
        "full_name": "Nguyễn Văn An",
        "organization": organization_payload(organization or f"Công ty {email}", kind, **org_fields),
    }
    data = expect(await client.post("/api/v1/auth/register", json=body), 201)
    return Registered(
        account=data["account"], organization=data["organization"], tokens=data["tokens"], password=password
    )


async def join_by_invitation(
    client: AsyncClient, inviter: Registered, email: str | None = None, **invitation: Any
) -> Registered:
    email = email or f"invitee-{uuid.uuid4().hex[:8]}@example.vn"
    created = expect(
        await client.post(
            f"/api/v1/organizations/{inviter.organization_id}/invitations",
            json={"email": email, **invitation},
            headers=inviter.headers,
        ),
        201,
    )
    body = {
        "email": email,
        "password": PASSWORD,
        "full_name": "Trần Thị Bình",
        "invitation_token": created["token"],
    }
    data = expect(await client.post("/api/v1/auth/register", json=body), 201)
    return Registered(account=data["account"], organization=data["organization"], tokens=data["tokens"])


async def login(client: AsyncClient, email: str, password: str = PASSWORD) -> dict[str, Any]:
    return expect(
        await client.post("/api/v1/auth/token", data={"username": email, "password": password}), 200
    )


async def make_staff(client: AsyncClient, session: AsyncSession, role: str) -> Registered:
    """A moderator or admin: the platform role is granted out of band (as `techex create-account` does)."""
    person = await register(client, organization=f"Sở KH&CN ({role})", kind="government")
    await session.execute(update(Account).where(Account.id == uuid.UUID(person.account_id)).values(role=role))
    await session.commit()
    return person


async def grant_mandate(client: AsyncClient, client_org: Registered, broker: Registered) -> dict[str, Any]:
    return expect(
        await client.post(
            "/api/v1/mandates",
            json={"broker_organization_id": broker.organization_id, "note": "Môi giới chuyển giao"},
            headers=client_org.headers,
        ),
        201,
    )
