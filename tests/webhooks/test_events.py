"""Each event type raised by the flow that causes it, delivered, and valid against its schema in the
OpenAPI document's `webhooks` (checked with jsonschema-rs, independent of the models that built it)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from httpx import AsyncClient
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from app.listings.service import listing_service
from app.models import Listing
from app.models.base import utcnow
from app.webhooks.delivery import WebhookWorker
from app.webhooks.events import CATALOGUE
from tests.events.test_api import make_fair, pid
from tests.fixtures.contract import openapi_document, schema_validator
from tests.helpers import Registered, create_listing, expect, register
from tests.webhooks.conftest import PUBLIC_BASE_URL, register_endpoint
from tests.webhooks.receiver import Receiver

DOCUMENT = openapi_document()


def assert_documented(payload: dict[str, Any]) -> None:
    schema = DOCUMENT["webhooks"][payload["type"]]["post"]["requestBody"]["content"]["application/json"]["schema"]
    errors = [e.message for e in schema_validator(schema).iter_errors(payload)]
    assert errors == [], (payload["type"], errors)


def test_every_event_type_is_documented() -> None:
    assert sorted(DOCUMENT["webhooks"]) == sorted(e.name for e in CATALOGUE)


def received(receiver: Receiver, event_type: str) -> list[dict[str, Any]]:
    found = [r for r in receiver.received if r.payload["type"] == event_type]
    for item in found:
        assert item.verified_with, "a delivery the library does not verify"
        assert_documented(item.payload)
    return [r.payload["data"] for r in found]


async def test_interest_and_deal_events_reach_the_side_they_concern(
    client: AsyncClient, session: AsyncSession, moderator: Registered, worker: WebhookWorker
) -> None:
    owner = await register(client, kind="institute")
    buyer = await register(client)
    owner_hooks, buyer_hooks = Receiver().start(), Receiver().start()
    try:
        await register_endpoint(client, owner, owner_hooks)
        await register_endpoint(client, buyer, buyer_hooks)
        offer = await create_listing(client, owner, status="published", moderator=moderator)
        interest = expect(
            await client.post(
                "/api/v1/interests", json={"listing_id": offer["id"], "message": "Quan tâm"}, headers=buyer.headers
            ),
            201,
        )
        path = f"/api/v1/interests/{interest['id']}"
        expect(await client.post(f"{path}/accept", headers=owner.headers), 200)
        message = expect(await client.post(f"{path}/messages", json={"body": "Xin chào"}, headers=owner.headers), 201)
        deal_body = {
            "supplier_organization_id": owner.organization_id,
            "buyer_organization_id": buyer.organization_id,
            "deal_type": "licence",
            "origin": "domestic_institute_university",
        }
        deal = expect(await client.post("/api/v1/deals", json=deal_body, headers=owner.headers), 201)
        expect(
            await client.post(f"/api/v1/deals/{deal['id']}/stage", json={"stage": "signed"}, headers=owner.headers), 200
        )
        await session.execute(
            update(Listing).where(Listing.id == uuid.UUID(offer["id"])).values(expires_at=utcnow() - timedelta(days=1))
        )
        assert await listing_service.expire_due(session) == 1
        await session.commit()
        await worker.drain()

        assert received(owner_hooks, "listing.published") == [
            {"id": offer["id"], "kind": "offer", "url": f"{PUBLIC_BASE_URL}/api/v1/offers/{offer['id']}"}
        ]
        assert [d["id"] for d in received(owner_hooks, "listing.expired")] == [offer["id"]]
        assert received(owner_hooks, "interest.received") == [
            {"id": interest["id"], "listing_id": offer["id"], "url": f"{PUBLIC_BASE_URL}{path}"}
        ]
        assert received(buyer_hooks, "interest.accepted") == [
            {"id": interest["id"], "listing_id": offer["id"], "url": f"{PUBLIC_BASE_URL}{path}"}
        ]
        assert received(buyer_hooks, "interest.message") == [
            {"id": interest["id"], "message_id": message["id"], "url": f"{PUBLIC_BASE_URL}{path}/messages"}
        ]
        assert received(owner_hooks, "interest.message") == []  # not told of its own message
        for hooks in (owner_hooks, buyer_hooks):
            assert [d["id"] for d in received(hooks, "deal.created")] == [deal["id"]]
            assert [d["id"] for d in received(hooks, "deal.stage_changed")] == [deal["id"]]
        # each side gets what concerns it, nothing of the other's
        assert received(buyer_hooks, "interest.received") == received(buyer_hooks, "listing.published") == []
    finally:
        owner_hooks.stop()
        buyer_hooks.stop()


async def test_meeting_and_schedule_events_reach_the_participants(
    client: AsyncClient, moderator: Registered, worker: WebhookWorker
) -> None:
    fair = await make_fair(client, moderator)
    supplier, seeker = fair.suppliers[0], fair.seekers[0]
    supplier_hooks, seeker_hooks = Receiver().start(), Receiver().start()
    try:
        await register_endpoint(client, supplier, supplier_hooks)
        await register_endpoint(client, seeker, seeker_hooks)
        body = {"requester_id": pid(fair, seeker), "recipient_id": pid(fair, supplier)}
        request = expect(await client.post(f"{fair.path}/requests", json=body, headers=seeker.headers), 201)
        expect(await client.post(f"{fair.path}/requests/{request['id']}/accept", headers=supplier.headers), 200)
        organizer = fair.organizer.headers
        expect(await client.post(f"{fair.path}/schedule", json={"time_limit": 5}, headers=organizer), 200)
        expect(await client.post(f"{fair.path}/schedule/publish", json={"stage": "final"}, headers=organizer), 200)
        await worker.drain()

        request_url = f"{PUBLIC_BASE_URL}{fair.path}/requests/{request['id']}"
        event_id = fair.event["id"]
        assert received(supplier_hooks, "meeting.requested") == [
            {"id": request["id"], "event_id": event_id, "url": request_url}
        ]
        assert received(seeker_hooks, "meeting.accepted") == [
            {"id": request["id"], "event_id": event_id, "url": request_url}
        ]
        for person, hooks in ((supplier, supplier_hooks), (seeker, seeker_hooks)):
            agenda = f"{PUBLIC_BASE_URL}{fair.path}/participants/{pid(fair, person)}/agenda"
            assert received(hooks, "schedule.published") == [
                {"id": event_id, "participant_id": pid(fair, person), "url": agenda}
            ]
            # the URL answers the participant's organisation
            expect(await client.get(agenda.removeprefix(PUBLIC_BASE_URL), headers=person.headers), 200)
        assert received(supplier_hooks, "meeting.accepted") == received(seeker_hooks, "meeting.requested") == []
    finally:
        supplier_hooks.stop()
        seeker_hooks.stop()


async def test_a_finished_import_reaches_the_importing_staff_members_organisation(
    client: AsyncClient, moderator: Registered, worker: WebhookWorker, receiver: Receiver
) -> None:
    await register_endpoint(client, moderator, receiver, event_types=["import.finished"])
    survey = (
        "Tổ chức,Tên công nghệ,Tóm tắt,Lĩnh vực,TRL\nViện A,Lọc nước,Vật liệu lọc nước cho nông thôn.,môi trường,7\n"
    )
    job = expect(
        await client.post(
            "/api/v1/imports",
            files={"file": ("survey.csv", survey.encode(), "text/csv")},
            data={"kind": "offer"},
            headers=moderator.headers,
        ),
        201,
    )
    await worker.drain()
    assert received(receiver, "import.finished") == [
        {"id": job["id"], "url": f"{PUBLIC_BASE_URL}/api/v1/imports/{job['id']}"}
    ]


async def test_a_consultation_request_reaches_the_experts_organisation(
    client: AsyncClient, worker: WebhookWorker, receiver: Receiver
) -> None:
    university = await register(client, kind="university")
    await register_endpoint(client, university, receiver, event_types=["expert.consultation_requested"])
    body = {
        "name": "Nguyễn Thị Minh Hạnh",
        "country": "JP",
        "headline": "Đánh giá xử lý nước thải",
        "offers": ["assessment"],
        "contact": {"email": "hanh@example.jp"},
    }
    expert = expect(await client.post("/api/v1/experts", json=body, headers=university.headers), 201)
    asker = await register(client)
    consultation = expect(
        await client.post(
            f"/api/v1/experts/{expert['id']}/consultations",
            json={"message": "Xin tư vấn phương án cải tạo."},
            headers=asker.headers,
        ),
        201,
    )
    await worker.drain()
    assert received(receiver, "expert.consultation_requested") == [
        {
            "id": consultation["id"],
            "expert_id": expert["id"],
            "url": f"{PUBLIC_BASE_URL}/api/v1/consultations/{consultation['id']}",
        }
    ]


async def test_a_quote_reaches_the_requesting_organisation(
    client: AsyncClient, moderator: Registered, worker: WebhookWorker, receiver: Receiver
) -> None:
    owner = await register(client, kind="institute")
    await register_endpoint(client, owner, receiver, event_types=["service.quoted"])
    offer = await create_listing(client, owner, status="published", moderator=moderator)
    body = {"service_type": "valuation", "subject_type": "offer", "subject_id": offer["id"], "title": "Định giá"}
    request = expect(await client.post("/api/v1/service-requests", json=body, headers=owner.headers), 201)
    appraiser = await register(client, kind="intermediary", organization="Công ty Thẩm định Giá A")
    quote = expect(
        await client.post(
            f"/api/v1/service-requests/{request['id']}/quotes",
            json={"fee": "15000000", "days": 10},
            headers=appraiser.headers,
        ),
        201,
    )
    await worker.drain()
    assert received(receiver, "service.quoted") == [
        {
            "id": request["id"],
            "quote_id": quote["id"],
            "url": f"{PUBLIC_BASE_URL}/api/v1/service-requests/{request['id']}",
        }
    ]


async def test_an_owner_is_warned_once_before_a_listing_expires_and_again_after_a_renewal(
    client: AsyncClient, session: AsyncSession, moderator: Registered, worker: WebhookWorker, receiver: Receiver
) -> None:
    owner = await register(client, kind="institute")
    await register_endpoint(client, owner, receiver, event_types=["listing.expiring", "listing.expired"])
    offer = await create_listing(client, owner, status="published", moderator=moderator)
    listing_id = uuid.UUID(offer["id"])

    async def ends_in(days: int) -> None:
        await session.execute(
            update(Listing).where(Listing.id == listing_id).values(expires_at=utcnow() + timedelta(days=days))
        )

    await ends_in(30)  # not yet within the warning
    assert await listing_service.expire_due(session) == 0
    await ends_in(10)
    for _ in range(2):  # the sweep runs again: one warning
        assert await listing_service.expire_due(session) == 0
    await session.commit()
    await worker.drain()
    assert received(receiver, "listing.expiring") == [
        {"id": offer["id"], "kind": "offer", "url": f"{PUBLIC_BASE_URL}/api/v1/offers/{offer['id']}"}
    ]

    await ends_in(12)  # renewed (a new end of validity), and it approaches again
    assert await listing_service.expire_due(session) == 0
    await session.commit()
    await worker.drain()
    assert len(received(receiver, "listing.expiring")) == 2
    assert received(receiver, "listing.expired") == []
