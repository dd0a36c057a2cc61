"""The permission matrix: every protected endpoint × every kind of caller → the exact status.

Each cell runs in its own savepoint, rolled back afterwards, so the cells see
the same world and cannot influence each other. A new write endpoint that is
not listed here fails `test_matrix_covers_every_write_endpoint`; later domains
add their rows to `MATRIX`.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.accounts.security import create_access_token
from app.models import WebhookDelivery
from app.models.base import utcnow
from tests.fixtures.contract import openapi_document
from tests.helpers import (
    PASSWORD,
    Registered,
    bearer,
    create_listing,
    demand_payload,
    expect,
    grant_mandate,
    join_by_invitation,
    make_staff,
    offer_payload,
    organization_payload,
    register,
)

UNAUTHENTICATED = ("anonymous", "expired_token", "tampered_token", "revoked_key")
PERSONAS = (
    *UNAUTHENTICATED,
    "owner_admin",
    "owner_member",
    "owner_key",
    "stranger",
    "broker_mandated",
    "broker_unmandated",
    "moderator",
    "admin",
)
PEOPLE = tuple(p for p in PERSONAS if p not in UNAUTHENTICATED and p != "owner_key")

# Write endpoints anyone may call: their credentials travel in the body.
PUBLIC_WRITES = {
    ("POST", "/api/v1/auth/register"),
    ("POST", "/api/v1/auth/token"),
    ("POST", "/api/v1/auth/refresh"),
    ("POST", "/api/v1/auth/logout"),
}


MATRIX_PDF = b"%PDF-1.7\n1 0 obj\n<< >>\nendobj\n%%EOF\n"


@dataclass
class World:
    headers: dict[str, dict[str, str]]
    ids: dict[str, str]


def _tamper(token: str, **claims: Any) -> str:
    """Change the payload of a signed JWT but keep its signature."""
    header, payload, signature = token.split(".")
    padded = payload + "=" * (-len(payload) % 4)
    data = json.loads(base64.urlsafe_b64decode(padded)) | claims
    forged = base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


async def _build_world(client: AsyncClient, session: AsyncSession, secret: str) -> World:
    owner = await register(client, organization="Công ty Xử lý Nước Hải Phòng")
    member = await join_by_invitation(client, owner)
    stranger = await register(client, organization="Công ty Khác")
    broker = await register(client, kind="intermediary", organization="Trung tâm Môi giới A")
    other_broker = await register(client, kind="intermediary", organization="Trung tâm Môi giới B")
    moderator = await make_staff(client, session, "moderator")
    admin = await make_staff(client, session, "admin")
    mandate = await grant_mandate(client, owner, broker)

    org_path = f"/api/v1/organizations/{owner.organization_id}"
    keys = [
        expect(await client.post(f"{org_path}/api-keys", json={"name": n}, headers=owner.headers), 201)
        for n in ("live", "revoked", "spare")
    ]
    expect(await client.delete(f"{org_path}/api-keys/{keys[1]['id']}", headers=owner.headers), 204)
    invitation = expect(
        await client.post(f"{org_path}/invitations", json={"email": "pending@example.vn"}, headers=owner.headers),
        201,
    )
    empty_org = expect(
        await client.post(
            "/api/v1/organizations",
            json=organization_payload("Viện chưa có tài khoản", "institute"),
            headers=moderator.headers,
        ),
        201,
    )
    expired, _ = create_access_token(owner.account["id"], owner.organization["id"], "member", secret=secret, minutes=-1)
    people: dict[str, Registered] = {
        "owner_admin": owner,
        "owner_member": member,
        "stranger": stranger,
        "broker_mandated": broker,
        "broker_unmandated": other_broker,
        "moderator": moderator,
        "admin": admin,
    }
    headers = {name: person.headers for name, person in people.items()}
    headers |= {
        "anonymous": {},
        "expired_token": bearer(expired),
        "tampered_token": bearer(_tamper(owner.tokens["access_token"], sub=admin.account_id, role="admin")),
        "revoked_key": {"X-API-Key": keys[1]["key"]},
        "owner_key": {"X-API-Key": keys[0]["key"]},
    }
    listings = {}
    for kind in ("offer", "demand"):
        for status in ("draft", "submitted", "published"):
            listing = await create_listing(client, owner, kind, status=status, moderator=moderator)
            listings[f"{kind}_{status}"] = listing["id"]
            listings[f"{kind}_{status}_etag"] = f'"{listing["version"]}"'
    buyer = await register(client, organization="Công ty Người Mua")
    interest = expect(
        await client.post(
            "/api/v1/interests",
            json={"listing_id": listings["offer_published"], "message": "Quan tâm"},
            headers=buyer.headers,
        ),
        201,
    )
    deal_body = {
        "supplier_organization_id": owner.organization_id,
        "buyer_organization_id": buyer.organization_id,
        "deal_type": "licence",
        "origin": "domestic_enterprise",
        "value": "100000000",
    }
    deal = await client.post("/api/v1/deals", json=deal_body, headers=owner.headers)
    signed_on = (utcnow().date() - timedelta(days=200)).isoformat()
    signed = await client.post(
        "/api/v1/deals", json={**deal_body, "stage": "signed", "signed_on": signed_on}, headers=owner.headers
    )
    subscription = expect(
        await client.post(
            "/api/v1/match-subscriptions", json={"kind": "offer", "query": "asen"}, headers=owner.headers
        ),
        201,
    )
    await create_listing(client, buyer, status="published", moderator=moderator)  # its title says "asen"
    notes = expect(await client.get("/api/v1/notifications", headers=owner.headers), 200)
    event_ids = await _build_event(client, owner, buyer, moderator)
    webhook_ids = await _build_webhook(client, session, owner)
    expert_ids = await _build_experts(client, owner, buyer)
    service_ids = await _build_service_requests(client, owner, other_broker, listings["offer_published"])
    document = expect(
        await client.post(
            "/api/v1/documents",
            data={"attached_to": "offer", "attached_id": listings["offer_published"], "kind": "certificate"},
            files={"file": ("chung-nhan.pdf", MATRIX_PDF)},
            headers=owner.headers,
        ),
        201,
    )
    ids = {
        **event_ids,
        **webhook_ids,
        **expert_ids,
        **service_ids,
        "subscription": subscription["id"],
        "notification": notes["items"][0]["id"],
        **listings,
        "interest": interest["id"],
        "deal": expect(deal, 201)["id"],
        "deal_etag": deal.headers["etag"],
        "deal_signed": expect(signed, 201)["id"],
        "document": document["id"],
        "valuation": expect(
            await client.post(
                "/api/v1/valuations",
                json={"title": "Định giá", "field": "environment", "market": {}},
                headers=owner.headers,
            ),
            201,
        )["id"],
        "buyer_org": buyer.organization_id,
        "owner_org": owner.organization_id,
        "owner_member": member.account_id,
        "empty_org": empty_org["id"],
        "invitation": invitation["id"],
        "spare_key": keys[2]["id"],
        "mandate": mandate["id"],
        "other_broker_org": other_broker.organization_id,
    }
    return World(headers=headers, ids=ids)


async def _build_event(
    client: AsyncClient, owner: Registered, buyer: Registered, moderator: Registered
) -> dict[str, str]:
    """An event the owner organises, scheduled and published: a pending request to the owner, an accepted
    meeting of the owner's, and a participant nobody has asked yet."""
    third = await register(client, organization="Công ty Thứ Ba")
    fourth = await register(client, organization="Công ty Thứ Tư")
    session_body = {
        "name": "Sáng",
        "starts_at": "2026-12-10T09:00:00+07:00",
        "ends_at": "2026-12-10T10:00:00+07:00",
        "meeting_minutes": 20,
        "tables": 2,
    }
    body = {
        "name": "Phiên kết nối",
        "organizer_organization_id": owner.organization_id,
        "field": "environment",
        "sessions": [session_body],
    }
    event = expect(await client.post("/api/v1/events", json=body, headers=owner.headers), 201)
    path = f"/api/v1/events/{event['id']}"
    expect(await client.post(f"{path}/status", json={"status": "registration_open"}, headers=owner.headers), 200)
    participant = {}
    for name, person, role in [
        ("owner", owner, "supplier"),
        ("buyer", buyer, "seeker"),
        ("third", third, "seeker"),
        ("fourth", fourth, "seeker"),
    ]:
        registration = {"organization_id": person.organization_id, "representative": name, "role": role}
        created = await client.post(f"{path}/participants", json=registration, headers=person.headers)
        participant[name] = expect(created, 201)["id"]
    expect(await client.post(f"{path}/status", json={"status": "booking_open"}, headers=owner.headers), 200)
    pending = expect(
        await client.post(
            f"{path}/requests",
            json={"requester_id": participant["buyer"], "recipient_id": participant["owner"]},
            headers=buyer.headers,
        ),
        201,
    )
    meeting = expect(
        await client.post(
            f"{path}/requests",
            json={"requester_id": participant["owner"], "recipient_id": participant["third"]},
            headers=owner.headers,
        ),
        201,
    )
    expect(await client.post(f"{path}/requests/{meeting['id']}/accept", headers=third.headers), 200)
    expect(await client.post(f"{path}/schedule", json={"time_limit": 2}, headers=owner.headers), 200)
    expect(await client.post(f"{path}/schedule/publish", json={"stage": "final"}, headers=owner.headers), 200)
    current = await client.get(path, headers=owner.headers)
    return {
        "event": event["id"],
        "event_etag": current.headers["etag"],
        "event_session": event["sessions"][0]["id"],
        "participant_owner": participant["owner"],
        "participant_fourth": participant["fourth"],
        "pending_request": pending["id"],
        "meeting": meeting["id"],
    }


async def _build_webhook(client: AsyncClient, session: AsyncSession, owner: Registered) -> dict[str, str]:
    """An endpoint of the owner's (on a public address: the SSRF guard is on) and one delivery to it."""
    endpoint = expect(
        await client.post(
            "/api/v1/webhook-endpoints", json={"url": "https://93.184.215.14/hooks"}, headers=owner.headers
        ),
        201,
    )
    delivery = WebhookDelivery(
        endpoint_id=uuid.UUID(endpoint["id"]), message_id="msg_matrix", event_type="webhook.ping", body="{}"
    )
    session.add(delivery)
    await session.commit()
    return {"webhook_endpoint": endpoint["id"], "webhook_delivery": str(delivery.id)}


EXPERT_BODY = {
    "listed_by": "organization",
    "consent": {"given_at": "2026-11-02T08:00:00Z", "method": "phiếu đồng ý"},
    "name": "Phạm Thị Thu",
    "country": "VN",
    "headline": "Đánh giá công nghệ xử lý nước thải",
    "concepts": ["wastewater-treatment"],
    "offers": ["assessment"],
    "contact": {"email": "thu@example.vn"},
}


async def _build_experts(client: AsyncClient, owner: Registered, buyer: Registered) -> dict[str, str]:
    """An expert the owner's organisation lists, and two requests from the buyer: one pending, one accepted."""
    expert = expect(await client.post("/api/v1/experts", json=EXPERT_BODY, headers=owner.headers), 201)
    requests = []
    for message in ("Xin tư vấn lần một.", "Xin tư vấn lần hai."):
        requests.append(
            expect(
                await client.post(
                    f"/api/v1/experts/{expert['id']}/consultations", json={"message": message}, headers=buyer.headers
                ),
                201,
            )
        )
    expect(await client.post(f"/api/v1/consultations/{requests[1]['id']}/accept", headers=owner.headers), 200)
    return {
        "expert": expert["id"],
        "consultation_pending": requests[0]["id"],
        "consultation_accepted": requests[1]["id"],
    }


async def _build_service_requests(
    client: AsyncClient, owner: Registered, provider: Registered, offer_id: str
) -> dict[str, str]:
    """Service requests of the owner in each state; the unmandated broker's organisation quoted on them."""
    ids: dict[str, str] = {}
    path = "/api/v1/service-requests"
    body = {"service_type": "valuation", "subject_type": "offer", "subject_id": offer_id, "title": "Định giá"}
    for state in ("open", "quoted", "accepted", "delivered"):
        request = expect(await client.post(path, json=body, headers=owner.headers), 201)
        ids[f"sr_{state}"] = request["id"]
        if state == "open":
            continue
        quote = expect(
            await client.post(
                f"{path}/{request['id']}/quotes", json={"fee": "1000", "days": 5}, headers=provider.headers
            ),
            201,
        )
        ids[f"sr_{state}_quote"] = quote["id"]
        if state == "quoted":
            continue
        accept = {"quote_id": quote["id"]}
        expect(await client.post(f"{path}/{request['id']}/accept", json=accept, headers=owner.headers), 200)
        if state == "delivered":
            result = {"result": {"summary": "Xong"}}
            expect(await client.post(f"{path}/{request['id']}/deliver", json=result, headers=provider.headers), 200)
    return ids


@dataclass(frozen=True)
class Row:
    method: str
    route: str  # the route template, as FastAPI declares it
    path: Callable[[dict[str, str]], str]
    allowed: dict[str, int]  # persona → status; everyone else authenticated gets `denied`
    denied: int = 403
    body: Callable[[dict[str, str]], Any] | None = None

    headers: Callable[[dict[str, str]], dict[str, str]] | None = None
    # multipart uploads: form fields from `body`, and these files
    files: Callable[[dict[str, str]], dict[str, Any]] | None = None

    def expected(self, persona: str) -> int:
        if persona in self.allowed:
            return self.allowed[persona]
        return 401 if persona in UNAUTHENTICATED else self.denied


def _only(status: int, *personas: str) -> dict[str, int]:
    return dict.fromkeys(personas, status)


MATRIX: list[Row] = [
    Row(
        "POST",
        "/api/v1/organizations",
        lambda i: "/api/v1/organizations",
        _only(201, "moderator", "admin"),
        body=lambda i: organization_payload("Trường Đại học Mới", "university"),
    ),
    Row(
        "PATCH",
        "/api/v1/organizations/{organization_id}",
        lambda i: f"/api/v1/organizations/{i['owner_org']}",
        _only(200, "owner_admin", "owner_member", "owner_key", "broker_mandated", "moderator", "admin"),
        body=lambda i: {"website": "https://changed.example.vn/"},
    ),
    Row(
        "DELETE",
        "/api/v1/organizations/{organization_id}",
        lambda i: f"/api/v1/organizations/{i['empty_org']}",
        _only(204, "admin"),
    ),
    Row(
        "PUT",
        "/api/v1/organizations/{organization_id}/verification",
        lambda i: f"/api/v1/organizations/{i['owner_org']}/verification",
        _only(200, "moderator", "admin"),
        body=lambda i: {"verified": True},
        headers=lambda i: {"If-Match": "*"},
    ),
    Row(
        "PATCH",
        "/api/v1/organizations/{organization_id}/members/{account_id}",
        lambda i: f"/api/v1/organizations/{i['owner_org']}/members/{i['owner_member']}",
        _only(200, "owner_admin", "admin"),
        body=lambda i: {"is_org_admin": True},
    ),
    Row(
        "POST",
        "/api/v1/organizations/{organization_id}/invitations",
        lambda i: f"/api/v1/organizations/{i['owner_org']}/invitations",
        _only(201, "owner_admin", "admin"),
        body=lambda i: {"email": "matrix-invite@example.vn"},
    ),
    Row(
        "DELETE",
        "/api/v1/organizations/{organization_id}/invitations/{invitation_id}",
        lambda i: f"/api/v1/organizations/{i['owner_org']}/invitations/{i['invitation']}",
        _only(204, "owner_admin", "admin"),
    ),
    Row(
        "POST",
        "/api/v1/organizations/{organization_id}/api-keys",
        lambda i: f"/api/v1/organizations/{i['owner_org']}/api-keys",
        _only(201, "owner_admin", "admin"),
        body=lambda i: {"name": "matrix"},
    ),
    Row(
        "DELETE",
        "/api/v1/organizations/{organization_id}/api-keys/{api_key_id}",
        lambda i: f"/api/v1/organizations/{i['owner_org']}/api-keys/{i['spare_key']}",
        _only(204, "owner_admin", "admin"),
    ),
    Row(
        "PUT",
        "/api/v1/accounts/{account_id}/role",
        lambda i: f"/api/v1/accounts/{i['owner_member']}/role",
        _only(200, "admin"),
        body=lambda i: {"role": "moderator"},
    ),
    Row(
        "POST",
        "/api/v1/mandates",
        lambda i: "/api/v1/mandates",
        _only(201, "owner_admin", "owner_member"),
        body=lambda i: {
            "broker_organization_id": i["other_broker_org"],
            "client_organization_id": i["owner_org"],
        },
    ),
    Row(
        "POST",
        "/api/v1/mandates/{mandate_id}/revoke",
        lambda i: f"/api/v1/mandates/{i['mandate']}/revoke",
        {
            **_only(200, "owner_admin", "owner_member", "broker_mandated", "moderator", "admin"),
            **_only(404, "stranger", "broker_unmandated"),
        },
    ),
    Row(
        "POST",
        "/api/v1/auth/me/password",
        lambda i: "/api/v1/auth/me/password",
        _only(204, *PEOPLE),
        body=lambda i: {"current_password": PASSWORD, "new_password": "mat-khau-moi-cua-ma-tran"},
    ),
    # Reads that are not public.
    Row(
        "GET",
        "/api/v1/organizations/{organization_id}/members",
        lambda i: f"/api/v1/organizations/{i['owner_org']}/members",
        _only(200, "owner_admin", "owner_member", "owner_key", "moderator", "admin"),
    ),
    Row(
        "GET",
        "/api/v1/organizations/{organization_id}/invitations",
        lambda i: f"/api/v1/organizations/{i['owner_org']}/invitations",
        _only(200, "owner_admin", "admin"),
    ),
    Row(
        "GET",
        "/api/v1/organizations/{organization_id}/api-keys",
        lambda i: f"/api/v1/organizations/{i['owner_org']}/api-keys",
        _only(200, "owner_admin", "admin"),
    ),
    Row("GET", "/api/v1/audit", lambda i: "/api/v1/audit", _only(200, "moderator", "admin")),
    Row(
        "GET",
        "/api/v1/mandates/{mandate_id}",
        lambda i: f"/api/v1/mandates/{i['mandate']}",
        _only(200, "owner_admin", "owner_member", "owner_key", "broker_mandated", "moderator", "admin"),
        denied=404,
    ),
    Row("GET", "/api/v1/mandates", lambda i: "/api/v1/mandates", _only(200, *PEOPLE, "owner_key")),
    Row("GET", "/api/v1/auth/me", lambda i: "/api/v1/auth/me", _only(200, *PEOPLE)),
]


OWNER_SIDE = ("owner_admin", "owner_member", "owner_key", "broker_mandated")
# Every organisation's admin manages its own webhook endpoints; another's are not found.
ORG_ADMINS = tuple(p for p in PEOPLE if p != "owner_member")
_WEBHOOK = "/api/v1/webhook-endpoints/{endpoint_id}"
_OWN_ENDPOINT = {"owner_admin": 200, "owner_member": 403, "owner_key": 403}


def _webhook_path(suffix: str = "") -> Callable[[dict[str, str]], str]:
    return lambda i: f"/api/v1/webhook-endpoints/{i['webhook_endpoint']}{suffix}"


WEBHOOK_ROWS = [
    Row(
        "POST",
        "/api/v1/webhook-endpoints",
        lambda i: "/api/v1/webhook-endpoints",
        _only(201, *ORG_ADMINS),
        body=lambda i: {"url": "https://93.184.215.14/other"},
    ),
    Row("GET", "/api/v1/webhook-endpoints", lambda i: "/api/v1/webhook-endpoints", _only(200, *ORG_ADMINS)),
    Row("GET", _WEBHOOK, _webhook_path(), _OWN_ENDPOINT, denied=404),
    Row("PATCH", _WEBHOOK, _webhook_path(), _OWN_ENDPOINT, denied=404, body=lambda i: {"description": "CRM"}),
    Row("DELETE", _WEBHOOK, _webhook_path(), {**_OWN_ENDPOINT, "owner_admin": 204}, denied=404),
    Row("POST", f"{_WEBHOOK}/rotate-secret", _webhook_path("/rotate-secret"), _OWN_ENDPOINT, denied=404),
    Row("POST", f"{_WEBHOOK}/ping", _webhook_path("/ping"), {**_OWN_ENDPOINT, "owner_admin": 202}, denied=404),
    Row("GET", f"{_WEBHOOK}/deliveries", _webhook_path("/deliveries"), _OWN_ENDPOINT, denied=404),
    Row(
        "POST",
        f"{_WEBHOOK}/deliveries/{{delivery_id}}/redeliver",
        lambda i: f"/api/v1/webhook-endpoints/{i['webhook_endpoint']}/deliveries/{i['webhook_delivery']}/redeliver",
        {**_OWN_ENDPOINT, "owner_admin": 202},
        denied=404,
    ),
]
STAFF = ("moderator", "admin")


def _listing_rows(kind: str) -> list[Row]:
    """Offers and demands follow the same rules; one set of rows per kind."""
    base = f"/api/v1/{kind}s"
    item = f"{base}/{{{kind}_id}}"
    payload = offer_payload if kind == "offer" else demand_payload

    def at(status: str, action: str = "") -> Callable[[dict[str, str]], str]:
        return lambda i: f"{base}/{i[f'{kind}_{status}']}{action}"

    def if_match(status: str) -> Callable[[dict[str, str]], dict[str, str]]:
        return lambda i: {"If-Match": i[f"{kind}_{status}_etag"]}

    hidden = _only(404, "stranger", "broker_unmandated")
    return [
        Row(
            "POST",
            base,
            lambda i: base,
            _only(201, *OWNER_SIDE, *STAFF),
            body=lambda i: payload(organization_id=i["owner_org"]),
        ),
        Row(
            "PATCH",
            item,
            at("published"),
            _only(200, *OWNER_SIDE, *STAFF),
            body=lambda i: {"summary": "Tóm tắt đã được cập nhật cho ma trận quyền."},
            headers=if_match("published"),
        ),
        Row(
            "DELETE",
            item,
            at("draft"),
            {**_only(204, *OWNER_SIDE, *STAFF), **hidden},
            headers=if_match("draft"),
        ),
        Row("POST", f"{item}/submit", at("draft", "/submit"), {**_only(200, *OWNER_SIDE, *STAFF), **hidden}),
        Row("POST", f"{item}/publish", at("submitted", "/publish"), _only(200, *STAFF)),
        Row(
            "POST",
            f"{item}/reject",
            at("submitted", "/reject"),
            _only(200, *STAFF),
            body=lambda i: {"reason": "Thiếu thông tin sở hữu trí tuệ."},
        ),
        Row("POST", f"{item}/withdraw", at("published", "/withdraw"), _only(200, *OWNER_SIDE, *STAFF)),
        Row("POST", f"{item}/renew", at("published", "/renew"), _only(200, *OWNER_SIDE, *STAFF)),
        # An unpublished listing is invisible outside its owner side, signed in or not.
        Row(
            "GET",
            item,
            at("draft"),
            {**_only(200, *OWNER_SIDE, *STAFF), **hidden, "anonymous": 404},
            denied=404,
        ),
    ]


MATRIX += _listing_rows("offer") + _listing_rows("demand") + WEBHOOK_ROWS

_HIDDEN = _only(404, "stranger", "broker_unmandated")
MATRIX += [
    Row(
        "POST",
        "/api/v1/interests",
        lambda i: "/api/v1/interests",
        {
            **_only(422, "owner_admin", "owner_member", "owner_key"),
            **_only(201, "broker_mandated", "stranger", "broker_unmandated", *STAFF),
        },
        body=lambda i: {"listing_id": i["offer_published"], "message": "Chúng tôi quan tâm"},
    ),
    Row(
        "POST",
        "/api/v1/interests/{interest_id}/accept",
        lambda i: f"/api/v1/interests/{i['interest']}/accept",
        {**_only(200, *OWNER_SIDE, *STAFF), **_HIDDEN},
    ),
    Row(
        "POST",
        "/api/v1/interests/{interest_id}/decline",
        lambda i: f"/api/v1/interests/{i['interest']}/decline",
        {**_only(200, *OWNER_SIDE, *STAFF), **_HIDDEN},
        body=lambda i: {"reason": "not_relevant"},
    ),
    # Only the interested party (the buyer, not in this cast) withdraws; moderators may.
    Row(
        "POST",
        "/api/v1/interests/{interest_id}/withdraw",
        lambda i: f"/api/v1/interests/{i['interest']}/withdraw",
        {**_only(200, *STAFF), **_HIDDEN},
    ),
    # The thread is written by the two parties themselves.
    Row(
        "POST",
        "/api/v1/interests/{interest_id}/messages",
        lambda i: f"/api/v1/interests/{i['interest']}/messages",
        {**_only(201, "owner_admin", "owner_member", "owner_key"), **_HIDDEN},
        body=lambda i: {"body": "Xin chào"},
    ),
    Row(
        "GET",
        "/api/v1/interests/{interest_id}/messages",
        lambda i: f"/api/v1/interests/{i['interest']}/messages",
        {**_only(200, *OWNER_SIDE, *STAFF), **_HIDDEN},
    ),
    Row(
        "GET",
        "/api/v1/interests/{interest_id}",
        lambda i: f"/api/v1/interests/{i['interest']}",
        {**_only(200, *OWNER_SIDE, *STAFF), **_HIDDEN},
    ),
    Row(
        "POST",
        "/api/v1/deals",
        lambda i: "/api/v1/deals",
        _only(201, *OWNER_SIDE, *STAFF),
        body=lambda i: {
            "supplier_organization_id": i["owner_org"],
            "buyer_organization_id": i["buyer_org"],
            "deal_type": "licence",
            "origin": "domestic_enterprise",
        },
    ),
    Row(
        "PATCH",
        "/api/v1/deals/{deal_id}",
        lambda i: f"/api/v1/deals/{i['deal']}",
        {**_only(200, *OWNER_SIDE, *STAFF), **_HIDDEN},
        body=lambda i: {"confidential": True},
        headers=lambda i: {"If-Match": i["deal_etag"]},
    ),
    Row(
        "POST",
        "/api/v1/deals/{deal_id}/stage",
        lambda i: f"/api/v1/deals/{i['deal']}/stage",
        {**_only(200, *OWNER_SIDE, *STAFF), **_HIDDEN},
        body=lambda i: {"stage": "signed"},
    ),
    Row(
        "POST",
        "/api/v1/deals/{deal_id}/confirm",
        lambda i: f"/api/v1/deals/{i['deal']}/confirm",
        {**_only(200, *OWNER_SIDE, *STAFF), **_HIDDEN},
    ),
    Row(
        "GET",
        "/api/v1/deals/{deal_id}",
        lambda i: f"/api/v1/deals/{i['deal']}",
        {**_only(200, *OWNER_SIDE, *STAFF), **_HIDDEN},
    ),
    Row("GET", "/api/v1/stats/deals", lambda i: "/api/v1/stats/deals", _only(200, *STAFF)),
    # Follow-up after transfer: the parties (here the supplier's side), their brokers, moderators.
    Row(
        "PUT",
        "/api/v1/deals/{deal_id}/milestones/{kind}",
        lambda i: f"/api/v1/deals/{i['deal_signed']}/milestones/delivery",
        {**_only(200, *OWNER_SIDE, *STAFF), **_HIDDEN},
        body=lambda i: {"due_on": "2026-12-15"},
    ),
    Row(
        "PUT",
        "/api/v1/deals/{deal_id}/check-ins/{month}/{side}",
        lambda i: f"/api/v1/deals/{i['deal_signed']}/check-ins/3/supplier",
        {**_only(200, *OWNER_SIDE, *STAFF), **_HIDDEN},
        body=lambda i: {"status": "in_use", "jobs": 2},
    ),
    Row(
        "GET",
        "/api/v1/deals/{deal_id}/follow-up",
        lambda i: f"/api/v1/deals/{i['deal_signed']}/follow-up",
        {**_only(200, *OWNER_SIDE, *STAFF), **_HIDDEN},
    ),
    Row(
        "PUT",
        "/api/v1/offers/{offer_id}/matches/{candidate_id}",
        lambda i: f"/api/v1/offers/{i['offer_published']}/matches/{i['demand_published']}",
        _only(204, *OWNER_SIDE, *STAFF),
        body=lambda i: {"action": "dismiss"},
    ),
    Row(
        "PUT",
        "/api/v1/demands/{demand_id}/matches/{candidate_id}",
        lambda i: f"/api/v1/demands/{i['demand_published']}/matches/{i['offer_published']}",
        _only(204, *OWNER_SIDE, *STAFF),
        body=lambda i: {"action": "bookmark"},
    ),
    # Alerts need a person of the listing's owner side (or staff).
    Row(
        "POST",
        "/api/v1/match-subscriptions",
        lambda i: "/api/v1/match-subscriptions",
        _only(201, "owner_admin", "owner_member", "broker_mandated", *STAFF),
        body=lambda i: {"listing_id": i["offer_published"], "threshold": 0.4},
    ),
    # Subscriptions and notifications are private to their organisation, moderators included.
    Row(
        "DELETE",
        "/api/v1/match-subscriptions/{subscription_id}",
        lambda i: f"/api/v1/match-subscriptions/{i['subscription']}",
        _only(204, "owner_admin", "owner_member", "owner_key"),
        denied=404,
    ),
    Row(
        "POST",
        "/api/v1/notifications/{notification_id}/read",
        lambda i: f"/api/v1/notifications/{i['notification']}/read",
        _only(200, "owner_admin", "owner_member", "owner_key"),
        denied=404,
    ),
    # --- connection sessions ---
    Row(
        "POST",
        "/api/v1/events",
        lambda i: "/api/v1/events",
        _only(201, *OWNER_SIDE, *STAFF),
        body=lambda i: {"name": "Phiên mới", "organizer_organization_id": i["owner_org"]},
    ),
    Row(
        "PATCH",
        "/api/v1/events/{event_id}",
        lambda i: f"/api/v1/events/{i['event']}",
        _only(200, *OWNER_SIDE, *STAFF),
        body=lambda i: {"venue": "Hải Phòng"},
        headers=lambda i: {"If-Match": i["event_etag"]},
    ),
    Row(
        "POST",
        "/api/v1/events/{event_id}/status",
        lambda i: f"/api/v1/events/{i['event']}/status",
        _only(200, *OWNER_SIDE, *STAFF),
        body=lambda i: {"status": "running"},
    ),
    Row(  # the schedule is published: sessions are frozen, but only organisers learn that
        "POST",
        "/api/v1/events/{event_id}/sessions",
        lambda i: f"/api/v1/events/{i['event']}/sessions",
        _only(409, *OWNER_SIDE, *STAFF),
        body=lambda i: {
            "name": "Chiều",
            "starts_at": "2026-12-10T13:30:00+07:00",
            "ends_at": "2026-12-10T14:30:00+07:00",
        },
    ),
    Row(
        "DELETE",
        "/api/v1/events/{event_id}/sessions/{session_id}",
        lambda i: f"/api/v1/events/{i['event']}/sessions/{i['event_session']}",
        _only(409, *OWNER_SIDE, *STAFF),
    ),
    Row(
        "POST",
        "/api/v1/events/{event_id}/participants",
        lambda i: f"/api/v1/events/{i['event']}/participants",
        _only(201, *OWNER_SIDE, *STAFF),
        body=lambda i: {"organization_id": i["owner_org"], "representative": "Người thứ hai", "role": "supplier"},
    ),
    Row(
        "PATCH",
        "/api/v1/events/{event_id}/participants/{participant_id}",
        lambda i: f"/api/v1/events/{i['event']}/participants/{i['participant_owner']}",
        _only(200, *OWNER_SIDE, *STAFF),
        body=lambda i: {"max_meetings": 5},
    ),
    Row(
        "GET",
        "/api/v1/events/{event_id}/participants/{participant_id}/agenda",
        lambda i: f"/api/v1/events/{i['event']}/participants/{i['participant_owner']}/agenda",
        _only(200, *OWNER_SIDE, *STAFF),
    ),
    Row(
        "POST",
        "/api/v1/events/{event_id}/requests",
        lambda i: f"/api/v1/events/{i['event']}/requests",
        _only(201, *OWNER_SIDE, *STAFF),
        body=lambda i: {"requester_id": i["participant_owner"], "recipient_id": i["participant_fourth"]},
    ),
    Row(
        "GET",
        "/api/v1/events/{event_id}/requests/{request_id}",
        lambda i: f"/api/v1/events/{i['event']}/requests/{i['pending_request']}",
        {**_only(200, *OWNER_SIDE, *STAFF), **_HIDDEN},
    ),
    Row(
        "POST",
        "/api/v1/events/{event_id}/requests/{request_id}/accept",
        lambda i: f"/api/v1/events/{i['event']}/requests/{i['pending_request']}/accept",
        {**_only(200, *OWNER_SIDE, *STAFF), **_HIDDEN},
    ),
    Row(
        "POST",
        "/api/v1/events/{event_id}/requests/{request_id}/decline",
        lambda i: f"/api/v1/events/{i['event']}/requests/{i['pending_request']}/decline",
        {**_only(200, *OWNER_SIDE, *STAFF), **_HIDDEN},
        body=lambda i: {"reason": "not_relevant"},
    ),
    Row(
        "POST",
        "/api/v1/events/{event_id}/requests/{request_id}/cancel",
        lambda i: f"/api/v1/events/{i['event']}/requests/{i['pending_request']}/cancel",
        {**_only(200, *OWNER_SIDE, *STAFF), **_HIDDEN},
    ),
    Row(
        "POST",
        "/api/v1/events/{event_id}/schedule",
        lambda i: f"/api/v1/events/{i['event']}/schedule",
        _only(200, *OWNER_SIDE, *STAFF),
        body=lambda i: {"time_limit": 2},
    ),
    Row(
        "POST",
        "/api/v1/events/{event_id}/schedule/publish",
        lambda i: f"/api/v1/events/{i['event']}/schedule/publish",
        _only(200, *OWNER_SIDE, *STAFF),
        body=lambda i: {"stage": "final"},
    ),
    Row(
        "PATCH",
        "/api/v1/events/{event_id}/meetings/{meeting_id}",
        lambda i: f"/api/v1/events/{i['event']}/meetings/{i['meeting']}",
        _only(200, *OWNER_SIDE, *STAFF),
        body=lambda i: {"locked": True},
    ),
    Row(
        "PUT",
        "/api/v1/events/{event_id}/meetings/{meeting_id}/outcome",
        lambda i: f"/api/v1/events/{i['event']}/meetings/{i['meeting']}/outcome",
        {**_only(200, *OWNER_SIDE, *STAFF), **_HIDDEN},
        body=lambda i: {"participant_id": i["participant_owner"], "outcome": "negotiation"},
    ),
    Row(
        "GET",
        "/api/v1/events/{event_id}/analytics",
        lambda i: f"/api/v1/events/{i['event']}/analytics",
        _only(200, *OWNER_SIDE, *STAFF),
    ),
    Row(
        "POST",
        "/api/v1/event-proposals",
        lambda i: "/api/v1/event-proposals",
        _only(200, *OWNER_SIDE, *STAFF),
        body=lambda i: {"field": "environment", "date": "2027-03-15", "organizer_organization_id": i["owner_org"]},
    ),
]


# Bulk imports are staff work; a JSON body is no file, so staff get 422 (the upload is validated after the check).
_MISSING = "00000000-0000-4000-8000-000000000000"
MATRIX += [
    Row("POST", "/api/v1/imports", lambda i: "/api/v1/imports", _only(422, *STAFF), body=lambda i: {}),
    Row("GET", "/api/v1/imports/{import_id}", lambda i: f"/api/v1/imports/{_MISSING}", _only(404, *STAFF)),
    Row(
        "POST", "/api/v1/imports/{import_id}/commit", lambda i: f"/api/v1/imports/{_MISSING}/commit", _only(404, *STAFF)
    ),
    Row(
        "GET",
        "/api/v1/imports/{import_id}/errors.xlsx",
        lambda i: f"/api/v1/imports/{_MISSING}/errors.xlsx",
        _only(404, *STAFF),
    ),
]

_SIGNED_IN = tuple(p for p in PERSONAS if p not in UNAUTHENTICATED)
_OWNER_KEYS = ("owner_admin", "owner_member", "owner_key")
_NOT_PARTIES = _only(404, "stranger", "broker_mandated", "broker_unmandated")
MATRIX += [
    Row(
        "POST",
        "/api/v1/experts",
        lambda i: "/api/v1/experts",
        _only(201, *_SIGNED_IN),
        body=lambda i: EXPERT_BODY,
    ),
    Row(
        "POST",
        "/api/v1/experts/import-orcid",
        lambda i: "/api/v1/experts/import-orcid",
        # a wrong check digit: refused before any call to ORCID, for anyone signed in
        _only(422, *_SIGNED_IN),
        body=lambda i: {"orcid": "0000-0002-1825-0098"},
    ),
    Row(
        "PATCH",
        "/api/v1/experts/{expert_id}",
        lambda i: f"/api/v1/experts/{i['expert']}",
        _only(200, *OWNER_SIDE, *STAFF),
        body=lambda i: {"city": "Hải Phòng"},
        headers=lambda i: {"If-Match": "*"},
    ),
    Row(
        "DELETE",
        "/api/v1/experts/{expert_id}",
        lambda i: f"/api/v1/experts/{i['expert']}",
        _only(204, *OWNER_SIDE, *STAFF),
        headers=lambda i: {"If-Match": "*"},
    ),
    Row(
        "POST",
        "/api/v1/experts/{expert_id}/confirm",
        lambda i: f"/api/v1/experts/{i['expert']}/confirm",
        _only(200, *OWNER_SIDE, *STAFF),
    ),
    Row(
        "POST",
        "/api/v1/experts/{expert_id}/consultations",
        lambda i: f"/api/v1/experts/{i['expert']}/consultations",
        # the owner's own people ask their expert directly, not through a request
        {**_only(201, "stranger", "broker_mandated", "broker_unmandated", *STAFF), **_only(409, *_OWNER_KEYS)},
        body=lambda i: {"message": "Xin tư vấn về công nghệ."},
    ),
    Row(
        "GET",
        "/api/v1/consultations/{consultation_id}",
        lambda i: f"/api/v1/consultations/{i['consultation_pending']}",
        {**_only(200, *_OWNER_KEYS, *STAFF), **_NOT_PARTIES},
    ),
    *(
        Row(
            "POST",
            f"/api/v1/consultations/{{consultation_id}}/{action}",
            lambda i, action=action: f"/api/v1/consultations/{i['consultation_pending']}/{action}",
            # moderators read requests but only the expert's side answers them
            {**_only(200, *_OWNER_KEYS), **_only(403, *STAFF), **_NOT_PARTIES},
            body=lambda i: {},
        )
        for action in ("accept", "decline")
    ),
    Row(
        "PUT",
        "/api/v1/consultations/{consultation_id}/outcome",
        lambda i: f"/api/v1/consultations/{i['consultation_accepted']}/outcome",
        {**_only(200, *_OWNER_KEYS, *STAFF), **_NOT_PARTIES},
        body=lambda i: {"outcome": "advice_given"},
    ),
]


def _service_request_rows() -> list[Row]:
    """The requester side (the owner, its mandated broker, staff) asks, accepts, closes and cancels; the
    quoting intermediary (the unmandated broker's organisation) quotes, withdraws and delivers;
    intermediaries see requests taking quotes, other strangers nothing."""
    base = "/api/v1/service-requests"
    item = f"{base}/{{service_request_id}}"
    requester = (*OWNER_SIDE, *STAFF)

    def at(state: str, action: str = "") -> Callable[[dict[str, str]], str]:
        return lambda i: f"{base}/{i[f'sr_{state}']}{action}"

    seen = {"stranger": 404}
    return [
        Row(
            "POST",
            base,
            lambda i: base,
            _only(201, *requester),
            body=lambda i: {
                "service_type": "legal",
                "subject_type": "offer",
                "subject_id": i["offer_published"],
                "title": "Tư vấn pháp lý",
                "requester_organization_id": i["owner_org"],
            },
        ),
        Row(
            "GET",
            item,
            at("open"),
            _only(200, *requester, "broker_unmandated"),
            denied=404,
        ),
        Row(
            "POST",
            f"{item}/quotes",
            at("open", "/quotes"),
            {
                **_only(201, "broker_mandated", "broker_unmandated"),
                **_only(422, "owner_admin", "owner_member", "owner_key", *STAFF),
            },
            denied=404,
            body=lambda i: {"fee": "2000000", "days": 10},
        ),
        Row(
            "POST",
            f"{item}/quotes/{{quote_id}}/withdraw",
            lambda i: f"{base}/{i['sr_quoted']}/quotes/{i['sr_quoted_quote']}/withdraw",
            {**_only(200, "broker_unmandated", *STAFF), **seen},
        ),
        Row(
            "POST",
            f"{item}/accept",
            at("quoted", "/accept"),
            {**_only(200, *requester), **seen},
            body=lambda i: {"quote_id": i["sr_quoted_quote"]},
        ),
        Row(
            "POST",
            f"{item}/deliver",
            at("accepted", "/deliver"),
            {**_only(200, "broker_unmandated", *STAFF), **seen},
            body=lambda i: {"result": {"summary": "Báo cáo thẩm định"}},
        ),
        Row("POST", f"{item}/close", at("delivered", "/close"), {**_only(200, *requester), **seen}),
        Row("POST", f"{item}/cancel", at("open", "/cancel"), {**_only(200, *requester), **seen}),
        Row(
            "POST",
            f"{item}/rating",
            at("delivered", "/rating"),
            {**_only(200, *OWNER_SIDE, "broker_unmandated"), **seen},
            body=lambda i: {"score": 4},
        ),
        Row(
            "POST",
            "/api/v1/valuations",
            lambda i: "/api/v1/valuations",
            _only(201, *requester),
            body=lambda i: {
                "title": "Định giá",
                "field": "environment",
                "organization_id": i["owner_org"],
                "cost": {"items": [{"label": "R&D", "amount": "1000"}], "obsolescence_low": 0, "obsolescence_high": 0},
            },
        ),
    ]


MATRIX += _service_request_rows()
MATRIX += [
    # Documents: the owner side attaches to its listing; a document for the parties is hidden from others.
    Row(
        "POST",
        "/api/v1/documents",
        lambda i: "/api/v1/documents",
        _only(201, *OWNER_SIDE, *STAFF),
        denied=422,
        body=lambda i: {"attached_to": "offer", "attached_id": i["offer_published"]},
        files=lambda i: {"file": ("ho-so.pdf", MATRIX_PDF)},
    ),
    Row(
        "POST",
        "/api/v1/documents/{document_id}/link",
        lambda i: f"/api/v1/documents/{i['document']}/link",
        _only(200, *OWNER_SIDE, *STAFF),
        denied=404,
    ),
    Row(
        "GET",
        "/api/v1/documents/{document_id}",
        lambda i: f"/api/v1/documents/{i['document']}",
        _only(200, *OWNER_SIDE, *STAFF),
        denied=404,
    ),
    Row(
        "GET",
        "/api/v1/valuations/{valuation_id}",
        lambda i: f"/api/v1/valuations/{i['valuation']}",
        _only(200, *OWNER_SIDE, *STAFF),
        denied=404,
    ),
    Row(
        "GET",
        "/api/v1/valuations/{valuation_id}/xlsx",
        lambda i: f"/api/v1/valuations/{i['valuation']}/xlsx",
        _only(200, *OWNER_SIDE, *STAFF),
        denied=404,
    ),
    Row(
        "DELETE",
        "/api/v1/documents/{document_id}",
        lambda i: f"/api/v1/documents/{i['document']}",
        _only(204, *OWNER_SIDE, *STAFF),
        denied=404,
    ),
]


def test_matrix_covers_every_write_endpoint() -> None:
    """Every write operation the API publishes is in the matrix (or deliberately public)."""
    writes = {
        (method.upper(), path)
        for path, item in openapi_document()["paths"].items()
        for method in item
        if method in {"post", "put", "patch", "delete"}
    }
    assert len(writes) > 30, "the operations were not found"
    covered = {(row.method, row.route) for row in MATRIX} | PUBLIC_WRITES
    assert sorted(writes - covered) == [], "write endpoints missing from the permission matrix"


@pytest.mark.slow
async def test_permission_matrix(
    client: AsyncClient, session: AsyncSession, db_connection: AsyncConnection, settings: Any
) -> None:
    world = await _build_world(client, session, settings.secret_key)
    mismatches = []
    for row in MATRIX:
        path = row.path(world.ids)
        for persona in PERSONAS:
            savepoint = await db_connection.begin_nested()
            try:
                response = await client.request(
                    row.method,
                    path,
                    headers={**world.headers[persona], **(row.headers(world.ids) if row.headers else {})},
                    json=row.body(world.ids) if row.body and not row.files else None,
                    data=row.body(world.ids) if row.body and row.files else None,
                    files=row.files(world.ids) if row.files else None,
                )
            finally:
                await savepoint.rollback()
            expected = row.expected(persona)
            if response.status_code != expected:
                got = f"{response.status_code} != {expected} ({response.text[:120]})"
                mismatches.append(f"{row.method} {row.route} as {persona}: {got}")
            if response.status_code >= 400:
                assert response.headers["content-type"] == "application/problem+json"
    assert not mismatches, "\n".join(mismatches)
