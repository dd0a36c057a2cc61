"""Every POST that creates something honours `Idempotency-Key`, generated over the OpenAPI operations.

A client that retries a creation (a timeout, a flaky mobile network) sends the same key again and
must get the first answer back — same status, same body, `Idempotent-Replayed: true` — with nothing
created twice; the same key with another body is refused with a code. A creation whose answer holds
a secret shown once (an API key, an invitation, sign-in tokens) is not replayed: the retry is told
that it already happened (409), and the secret is not kept in the database to replay it.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Base, IdempotencyRecord
from tests.events.test_api import SESSIONS, make_fair, pid
from tests.fixtures.contract import openapi_document
from tests.helpers import (
    PASSWORD,
    Registered,
    create_listing,
    demand_payload,
    expect,
    make_staff,
    offer_payload,
    organization_payload,
    register,
)

KEY_HEADER = "Idempotency-Key"
SECRET_BEARING = {
    "/api/v1/auth/register",
    "/api/v1/organizations/{organization_id}/invitations",
    "/api/v1/organizations/{organization_id}/api-keys",
    "/api/v1/webhook-endpoints",
}


def creating_posts() -> list[str]:
    """The spec's POST operations that answer 201 Created."""
    spec = openapi_document()
    return sorted(path for path, ops in spec["paths"].items() if "201" in ops.get("post", {}).get("responses", {}))


@dataclass
class Call:
    path: str
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    files: dict[str, Any] | None = None  # a multipart upload: `body` are its form fields

    async def post(self, client: AsyncClient, body: dict[str, Any], headers: dict[str, str]) -> Any:
        if self.files is not None:
            return await client.post(self.path, data=body, files=self.files, headers=headers)
        return await client.post(self.path, json=body, headers=headers)


@dataclass
class World:
    client: AsyncClient
    session: AsyncSession
    _moderator: Registered | None = None

    async def moderator(self) -> Registered:
        if self._moderator is None:
            self._moderator = await make_staff(self.client, self.session, "moderator")
        return self._moderator


Scenario = Callable[[World], Awaitable[Call]]
SCENARIOS: dict[str, Scenario] = {}


def scenario(path: str) -> Callable[[Scenario], Scenario]:
    def add(build: Scenario) -> Scenario:
        SCENARIOS[path] = build
        return build

    return add


@scenario("/api/v1/auth/register")
async def _register(world: World) -> Call:
    body = {
        "email": f"retry-{uuid.uuid4().hex[:8]}@example.vn",
        "password": PASSWORD,
        "full_name": "Lê Văn Cường",
        "organization": organization_payload("Công ty Mạng Chập Chờn"),
    }
    return Call("/api/v1/auth/register", body)


@scenario("/api/v1/organizations")
async def _organization(world: World) -> Call:
    return Call("/api/v1/organizations", organization_payload("Viện Thử Lại"), (await world.moderator()).headers)


@scenario("/api/v1/organizations/{organization_id}/invitations")
async def _invitation(world: World) -> Call:
    admin = await register(world.client)
    path = f"/api/v1/organizations/{admin.organization_id}/invitations"
    return Call(path, {"email": "moi@example.vn"}, admin.headers)


@scenario("/api/v1/organizations/{organization_id}/api-keys")
async def _api_key(world: World) -> Call:
    admin = await register(world.client)
    return Call(f"/api/v1/organizations/{admin.organization_id}/api-keys", {"name": "ERP"}, admin.headers)


@scenario("/api/v1/webhook-endpoints")
async def _webhook_endpoint(world: World) -> Call:
    admin = await register(world.client)
    return Call("/api/v1/webhook-endpoints", {"url": "https://93.184.215.14/hooks"}, admin.headers)


@scenario("/api/v1/mandates")
async def _mandate(world: World) -> Call:
    principal, broker = await register(world.client), await register(world.client, kind="intermediary")
    return Call("/api/v1/mandates", {"broker_organization_id": broker.organization_id}, principal.headers)


@scenario("/api/v1/offers")
async def _offer(world: World) -> Call:
    return Call("/api/v1/offers", offer_payload(), (await register(world.client)).headers)


@scenario("/api/v1/demands")
async def _demand(world: World) -> Call:
    return Call("/api/v1/demands", demand_payload(), (await register(world.client)).headers)


async def _published_offer(world: World) -> dict[str, Any]:
    owner = await register(world.client, kind="institute")
    return await create_listing(world.client, owner, status="published", moderator=await world.moderator())


@scenario("/api/v1/interests")
async def _interest(world: World) -> Call:
    offer = await _published_offer(world)
    buyer = await register(world.client)
    return Call("/api/v1/interests", {"listing_id": offer["id"], "message": "Chúng tôi quan tâm."}, buyer.headers)


@scenario("/api/v1/interests/{interest_id}/messages")
async def _message(world: World) -> Call:
    call = await _interest(world)
    interest = expect(await world.client.post(call.path, json=call.body, headers=call.headers), 201)
    return Call(f"/api/v1/interests/{interest['id']}/messages", {"body": "Xin báo giá."}, call.headers)


@scenario("/api/v1/deals")
async def _deal(world: World) -> Call:
    supplier, buyer = await register(world.client, kind="institute"), await register(world.client)
    body = {
        "supplier_organization_id": supplier.organization_id,
        "buyer_organization_id": buyer.organization_id,
        "deal_type": "licence",
        "origin": "domestic_institute_university",
        "value": "500000000",
    }
    return Call("/api/v1/deals", body, buyer.headers)


async def _service_request_of(world: World) -> tuple[Registered, dict[str, Any]]:
    owner = await register(world.client, kind="institute")
    mine = await create_listing(world.client, owner, status="published", moderator=await world.moderator())
    body = {"service_type": "valuation", "subject_type": "offer", "subject_id": mine["id"], "title": "Định giá"}
    return owner, body


@scenario("/api/v1/service-requests")
async def _service_request(world: World) -> Call:
    owner, body = await _service_request_of(world)
    return Call("/api/v1/service-requests", body, owner.headers)


@scenario("/api/v1/service-requests/{service_request_id}/quotes")
async def _quote(world: World) -> Call:
    owner, body = await _service_request_of(world)
    request = expect(await world.client.post("/api/v1/service-requests", json=body, headers=owner.headers), 201)
    provider = await register(world.client, kind="intermediary")
    path = f"/api/v1/service-requests/{request['id']}/quotes"
    return Call(path, {"fee": "25000000", "days": 15}, provider.headers)


@scenario("/api/v1/valuations")
async def _valuation(world: World) -> Call:
    body = {"title": "Định giá", "field": "environment", "market": {}}
    return Call("/api/v1/valuations", body, (await register(world.client)).headers)


@scenario("/api/v1/documents")
async def _document(world: World) -> Call:
    owner = await register(world.client)
    offer = await create_listing(world.client, owner)
    pdf = b"%PDF-1.7\n1 0 obj\n<< >>\nendobj\n%%EOF\n"
    form = {"attached_to": "offer", "attached_id": offer["id"]}
    return Call("/api/v1/documents", form, owner.headers, files={"file": ("ho-so.pdf", pdf)})


@scenario("/api/v1/match-subscriptions")
async def _subscription(world: World) -> Call:
    person = await register(world.client)
    return Call("/api/v1/match-subscriptions", {"kind": "offer", "query": "loc asen"}, person.headers)


@scenario("/api/v1/events")
async def _event(world: World) -> Call:
    organizer = await register(world.client, kind="intermediary")
    body = {"name": "Chợ công nghệ", "organizer_organization_id": organizer.organization_id, "sessions": SESSIONS}
    return Call("/api/v1/events", body, organizer.headers)


@scenario("/api/v1/events/{event_id}/sessions")
async def _session(world: World) -> Call:
    call = await _event(world)
    event = expect(await world.client.post(call.path, json={**call.body, "sessions": []}, headers=call.headers), 201)
    return Call(f"/api/v1/events/{event['id']}/sessions", SESSIONS[0], call.headers)


@scenario("/api/v1/events/{event_id}/participants")
async def _participant(world: World) -> Call:
    fair = await make_fair(world.client, await world.moderator())
    newcomer = await register(world.client)
    body = {"organization_id": newcomer.organization_id, "representative": "Đại diện", "role": "seeker"}
    return Call(f"{fair.path}/participants", body, newcomer.headers)


@scenario("/api/v1/events/{event_id}/requests")
async def _meeting_request(world: World) -> Call:
    fair = await make_fair(world.client, await world.moderator())
    seeker, supplier = fair.seekers[0], fair.suppliers[0]
    body = {"requester_id": pid(fair, seeker), "recipient_id": pid(fair, supplier)}
    return Call(f"{fair.path}/requests", body, seeker.headers)


@scenario("/api/v1/imports")
async def _import(world: World) -> Call:
    template = await world.client.get("/api/v1/imports/template", params={"kind": "offer"})
    files = {"file": ("survey.xlsx", template.content, template.headers["content-type"])}
    moderator = await world.moderator()
    return Call("/api/v1/imports", {"kind": "offer", "dry_run": "false"}, moderator.headers, files)


EXPERT = {
    "name": "Nguyễn Thị Minh Hạnh",
    "country": "JP",
    "overseas_vietnamese": True,
    "headline": "Đánh giá hệ thống xử lý nước thải",
    "offers": ["assessment"],
    "contact": {"email": "hanh@example.jp"},
}


@scenario("/api/v1/experts")
async def _expert(world: World) -> Call:
    return Call("/api/v1/experts", EXPERT, (await register(world.client, kind="university")).headers)


@scenario("/api/v1/experts/{expert_id}/consultations")
async def _consultation(world: World) -> Call:
    call = await _expert(world)
    expert = expect(await world.client.post(call.path, json=call.body, headers=call.headers), 201)
    asker = await register(world.client)
    body = {"message": "Xin tư vấn phương án cải tạo."}
    return Call(f"/api/v1/experts/{expert['id']}/consultations", body, asker.headers)


async def row_counts(session: AsyncSession) -> dict[str, int]:
    await session.rollback()  # a fresh snapshot: see what the requests committed since
    return {
        table.name: int(await session.scalar(select(func.count()).select_from(table)) or 0)
        for table in Base.metadata.sorted_tables
    }


@pytest.mark.parametrize("operation", creating_posts())
async def test_a_creating_post_honours_the_idempotency_key(
    operation: str, client: AsyncClient, session: AsyncSession
) -> None:
    if operation not in SCENARIOS:
        pytest.fail(f"POST {operation} creates something: add a scenario so its Idempotency-Key is tested")
    call = await SCENARIOS[operation](World(client, session))
    headers = {**call.headers, KEY_HEADER: f"retry-{uuid.uuid4()}"}

    first = await call.post(client, call.body, headers)
    assert first.status_code == 201, first.text
    assert "idempotent-replayed" not in first.headers
    before = await row_counts(session)

    retry = await call.post(client, call.body, headers)
    if operation in SECRET_BEARING:
        assert expect(retry, 409)["code"] == "IdempotentSecretNotReplayed"
        kept = await session.scalar(select(IdempotencyRecord.body).where(IdempotencyRecord.key == headers[KEY_HEADER]))
        assert kept is None, "a secret shown once must not be kept to replay it"
    else:
        assert retry.status_code == first.status_code, retry.text
        assert retry.json() == first.json()
        assert retry.headers["idempotent-replayed"] == "true"
        for name in ("etag", "location"):
            assert retry.headers.get(name) == first.headers.get(name)
    assert await row_counts(session) == before, "the retry created something"

    changed = await call.post(client, {**call.body, "notes": "khác"}, headers)
    problem = expect(changed, 422)
    assert problem["code"] == "IdempotencyKeyReused"
    assert problem["errors"][0]["loc"] == ["header", KEY_HEADER]


def test_every_creating_post_documents_the_header() -> None:
    spec = openapi_document()
    for path in creating_posts():
        names = {p["name"] for p in spec["paths"][path]["post"].get("parameters", []) if p.get("in") == "header"}
        assert KEY_HEADER in names, path


async def test_keys_belong_to_their_caller(client: AsyncClient) -> None:
    first, second = await register(client), await register(client)
    key = {KEY_HEADER: "shared-by-chance"}
    one = expect(await client.post("/api/v1/offers", json=offer_payload(), headers={**first.headers, **key}), 201)
    other = await client.post("/api/v1/offers", json=offer_payload(), headers={**second.headers, **key})
    assert expect(other, 201)["id"] != one["id"]
    assert "idempotent-replayed" not in other.headers
