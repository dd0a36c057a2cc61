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
    return expect(await client.post("/api/v1/auth/token", data={"username": email, "password": password}), 200)


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


def offer_payload(**overrides: Any) -> dict[str, Any]:
    return {
        "language": "vi",
        "title": "Vật liệu lọc nano mangan oxit xử lý asen trong nước sinh hoạt",
        "summary": "Vật liệu hấp phụ asen, sắt và mangan cho trạm cấp nước sạch nông thôn.",
        "description": "Cát thạch anh phủ mangan oxit kích thước nano; thử nghiệm tại Hải Phòng.",
        "translations": {
            "en": {
                "title": "Nano manganese-oxide filter media removing arsenic from drinking water",
                "summary": "Adsorbent media for arsenic, iron and manganese in rural water supply.",
            }
        },
        "field": "environment",
        "concepts": ["arsenic-removal", "filter-media"],
        "transfer_types": ["licence"],
        "trl": 7,
        "ip_status": "utility_solution_granted",
        "price_min": "150000000",
        "price_max": "400000000",
        **overrides,
    }


def demand_payload(**overrides: Any) -> dict[str, Any]:
    return {
        "language": "vi",
        "title": "Cần công nghệ xử lý nước thải chế biến thủy sản",
        "summary": "Nhà máy chế biến thủy sản 500 m³/ngày cần hệ thống xử lý nước thải đạt cột A.",
        "field": "environment",
        "concepts": ["wastewater-treatment"],
        "transfer_types": ["turnkey_equipment"],
        "min_trl": 6,
        "budget_min": "2000000000",
        "budget_max": "5000000000",
        **overrides,
    }


async def create_listing(
    client: AsyncClient,
    owner: Registered,
    kind: str = "offer",
    *,
    status: str = "draft",
    moderator: Registered | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    """A listing of `owner`, taken through the lifecycle to `status` (draft, submitted, published)."""
    payload = offer_payload(**overrides) if kind == "offer" else demand_payload(**overrides)
    listing = expect(await client.post(f"/api/v1/{kind}s", json=payload, headers=owner.headers), 201)
    if status in ("submitted", "published"):
        listing = expect(await client.post(f"/api/v1/{kind}s/{listing['id']}/submit", headers=owner.headers), 200)
    if status == "published":
        assert moderator is not None, "publishing needs a moderator"
        listing = expect(await client.post(f"/api/v1/{kind}s/{listing['id']}/publish", headers=moderator.headers), 200)
    return listing


async def verify(client: AsyncClient, moderator: Registered, organization_id: str) -> dict[str, Any]:
    """A moderator reads the organisation and verifies it as read (`If-Match` with its ETag)."""
    path = f"/api/v1/organizations/{organization_id}"
    etag = (await client.get(path)).headers["etag"]
    response = await client.put(
        f"{path}/verification", json={"verified": True}, headers={**moderator.headers, "If-Match": etag}
    )
    return expect(response, 200)
