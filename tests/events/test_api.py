"""Connection sessions through HTTP: the whole flow from event to outcomes, on both databases."""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import icalendar
import pytest
from httpx import AsyncClient
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import MeetingRequest
from app.models.base import utcnow
from tests.helpers import Registered, create_listing, expect, make_staff, register

DAY = "2026-12-10"
SESSIONS = [
    {
        "name": "Sáng",
        "starts_at": f"{DAY}T08:30:00+07:00",
        "ends_at": f"{DAY}T10:30:00+07:00",
        "meeting_minutes": 20,
        "tables": 2,
        "breaks": [{"starts_at": f"{DAY}T09:30:00+07:00", "ends_at": f"{DAY}T09:50:00+07:00"}],
    },
    {
        "name": "Chiều",
        "starts_at": f"{DAY}T13:30:00+07:00",
        "ends_at": f"{DAY}T14:30:00+07:00",
        "meeting_minutes": 30,
        "tables": 2,
    },
]


@dataclass
class Fair:
    organizer: Registered
    suppliers: list[Registered]
    seekers: list[Registered]
    event: dict[str, Any]
    participants: dict[str, dict[str, Any]]  # organisation name → participant

    @property
    def path(self) -> str:
        return f"/api/v1/events/{self.event['id']}"


@pytest.fixture
async def moderator(client: AsyncClient, session: AsyncSession) -> Registered:
    return await make_staff(client, session, "moderator")


async def open_event(client: AsyncClient, organizer: Registered, **extra: Any) -> dict[str, Any]:
    body = {
        "name": "Kết nối cung cầu Việt Nam – Nhật Bản",
        "organizer_organization_id": organizer.organization_id,
        "field": "environment",
        "venue": "Hải Phòng",
        "sessions": SESSIONS,
        **extra,
    }
    event = expect(await client.post("/api/v1/events", json=body, headers=organizer.headers), 201)
    expect(
        await client.post(
            f"/api/v1/events/{event['id']}/status", json={"status": "registration_open"}, headers=organizer.headers
        ),
        200,
    )
    return event


@pytest.fixture
async def fair(client: AsyncClient, moderator: Registered) -> Fair:
    return await make_fair(client, moderator)


async def make_fair(client: AsyncClient, moderator: Registered, **event_fields: Any) -> Fair:
    """Two suppliers with water-treatment offers, two seekers with needs, registered, booking open."""
    organizer = await register(client, kind="intermediary", organization="Trung tâm Ứng dụng Tiến bộ KH&CN")
    suppliers = [
        await register(client, kind="institute", organization="Viện Công nghệ Môi trường"),
        await register(client, organization="北九州エコウォーター", country="JP"),
    ]
    seekers = [
        await register(client, organization="Công ty Thủy sản Cát Hải"),
        await register(client, organization="Công ty Chế biến Hải sản Đồ Sơn"),
    ]
    for supplier in suppliers:
        await create_listing(
            client,
            supplier,
            status="published",
            moderator=moderator,
            title="Hệ thống xử lý nước thải thủy sản bằng màng sinh học",
            concepts=["wastewater-treatment"],
        )
    for seeker in seekers:
        await create_listing(client, seeker, "demand", status="published", moderator=moderator)
    event = await open_event(client, organizer, **event_fields)
    participants = {}
    for person, role in [*((s, "supplier") for s in suppliers), *((s, "seeker") for s in seekers)]:
        body = {
            "organization_id": person.organization_id,
            "representative": "Đại diện",
            "role": role,
            "languages": ["vi"],
        }
        participants[person.organization["name"]] = expect(
            await client.post(f"/api/v1/events/{event['id']}/participants", json=body, headers=person.headers), 201
        )
    expect(
        await client.post(
            f"/api/v1/events/{event['id']}/status", json={"status": "booking_open"}, headers=organizer.headers
        ),
        200,
    )
    return Fair(organizer, suppliers, seekers, event, participants)


def pid(fair: Fair, person: Registered) -> str:
    return str(fair.participants[person.organization["name"]]["id"])


async def ask(
    client: AsyncClient, fair: Fair, sender: Registered, recipient: Registered, status: int = 201, **extra: Any
) -> dict[str, Any]:
    body = {"requester_id": pid(fair, sender), "recipient_id": pid(fair, recipient), **extra}
    return expect(await client.post(f"{fair.path}/requests", json=body, headers=sender.headers), status)


async def test_slots_come_from_sessions_and_skip_breaks(client: AsyncClient, fair: Fair) -> None:
    slots = expect(await client.get(f"{fair.path}/slots"), 200)["items"]
    starts = [s["starts_at"][11:16] for s in slots]
    # 08:30, 08:50, 09:10, (break 09:30–09:50), 09:50, 10:10; then 13:30, 14:00 in UTC+7 → shown in UTC
    assert starts == ["01:30", "01:50", "02:10", "02:50", "03:10", "06:30", "07:00"]
    assert [s["number"] for s in slots] == list(range(7))
    detail = expect(await client.get(fair.path), 200)
    assert len(detail["sessions"]) == 2
    assert detail["starts_at"].startswith("2026-12-10T01:30")


async def test_drafts_are_visible_to_their_organisers_only(client: AsyncClient) -> None:
    organizer = await register(client)
    stranger = await register(client)
    body = {"name": "Bản nháp", "organizer_organization_id": organizer.organization_id}
    event = expect(await client.post("/api/v1/events", json=body, headers=organizer.headers), 201)
    expect(await client.get(f"/api/v1/events/{event['id']}", headers=organizer.headers), 200)
    expect(await client.get(f"/api/v1/events/{event['id']}", headers=stranger.headers), 404)
    listed = expect(await client.get("/api/v1/events", headers=stranger.headers), 200)
    assert event["id"] not in {e["id"] for e in listed["items"]}
    # registration needs at least one session
    problem = expect(
        await client.post(
            f"/api/v1/events/{event['id']}/status", json={"status": "registration_open"}, headers=organizer.headers
        ),
        409,
    )
    assert problem["code"] == "EventState"


async def test_bad_sessions_are_refused_with_the_field(client: AsyncClient) -> None:
    organizer = await register(client)
    bad = {**SESSIONS[0], "meeting_minutes": 25}
    body = {"name": "Sai", "organizer_organization_id": organizer.organization_id, "sessions": [bad]}
    problem = expect(await client.post("/api/v1/events", json=body, headers=organizer.headers), 422)
    assert problem["errors"][0]["loc"][:3] == ["body", "sessions", 0]
    assert "15, 20 or 30" in problem["errors"][0]["msg"]


async def test_suggestions_rank_counterparts_reciprocally_with_reasons(client: AsyncClient, fair: Fair) -> None:
    seeker = fair.seekers[0]
    found = expect(
        await client.get(
            f"{fair.path}/participants/{pid(fair, seeker)}/suggestions",
            headers={**seeker.headers, "Accept-Language": "en"},
        ),
        200,
    )["items"]
    # the rules let a seeker meet suppliers only; both offer wastewater treatment
    assert {s["participant_id"] for s in found} == {pid(fair, s) for s in fair.suppliers}
    assert all(0 < s["score"] <= min(s["score_for_us"], s["score_for_them"]) * 2 for s in found)
    assert found == sorted(found, key=lambda s: -s["score"])
    assert any("wastewater" in r["text"].lower() or "field" in r["text"].lower() for r in found[0]["reasons"])
    # someone else's suggestions are not yours to read
    expect(
        await client.get(f"{fair.path}/participants/{pid(fair, seeker)}/suggestions", headers=fair.seekers[1].headers),
        403,
    )


async def test_requests_follow_the_rules(client: AsyncClient, fair: Fair, session: AsyncSession) -> None:
    supplier, japan = fair.suppliers
    seeker, other_seeker = fair.seekers
    request = await ask(client, fair, seeker, supplier, message="Xin gặp để trao đổi")
    assert request["status"] == "pending"
    assert request["score"] > 0
    # the same pair again, either way round: refused
    assert (await ask(client, fair, supplier, seeker, 409))["code"] == "DuplicateRequest"
    # seekers may not meet seekers under the default rules
    problem = await ask(client, fair, seeker, other_seeker, 422)
    assert problem["errors"][0]["loc"] == ["body", "recipient_id"]
    # only the recipient's side answers
    expect(await client.post(f"{fair.path}/requests/{request['id']}/accept", headers=seeker.headers), 403)
    expect(await client.post(f"{fair.path}/requests/{request['id']}/accept", headers=fair.seekers[1].headers), 404)
    accepted = expect(await client.post(f"{fair.path}/requests/{request['id']}/accept", headers=supplier.headers), 200)
    assert accepted["status"] == "accepted"
    declined = await ask(client, fair, other_seeker, japan)
    answer = expect(
        await client.post(
            f"{fair.path}/requests/{declined['id']}/decline", json={"reason": "no_time"}, headers=japan.headers
        ),
        200,
    )
    assert answer["status"] == "declined"
    assert answer["decline_reason"] == "no_time"
    # a pending request past its expiry is expired and can no longer be accepted
    late = await ask(client, fair, japan, seeker)
    await session.execute(
        update(MeetingRequest)
        .where(MeetingRequest.id == uuid.UUID(late["id"]))
        .values(expires_at=utcnow() - timedelta(minutes=1))
    )
    await session.commit()
    assert expect(await client.get(f"{fair.path}/requests/{late['id']}", headers=seeker.headers), 200)["status"] == (
        "expired"
    )
    expect(await client.post(f"{fair.path}/requests/{late['id']}/accept", headers=seeker.headers), 409)
    # each side sees its own requests; the organiser sees all
    mine = expect(await client.get(f"{fair.path}/requests", headers=other_seeker.headers), 200)["items"]
    assert {r["id"] for r in mine} == {declined["id"]}
    everything = expect(await client.get(f"{fair.path}/requests", headers=fair.organizer.headers), 200)["items"]
    assert len(everything) == 3
    # notifications: the recipient heard of the request, the requester of the answer
    notes = expect(await client.get("/api/v1/notifications", headers=seeker.headers), 200)
    assert "meeting_request_answered" in {n["kind"] for n in notes["items"]}


async def test_caps_and_auto_accept(client: AsyncClient, moderator: Registered) -> None:
    organizer = await register(client, kind="intermediary")
    supplier = await register(client, kind="institute")
    seekers = [await register(client) for _ in range(3)]
    event = await open_event(client, organizer, request_mode="auto_accept", max_requests_per_participant=2)
    path = f"/api/v1/events/{event['id']}"
    ids = []
    for person, role in [(supplier, "supplier"), *((s, "seeker") for s in seekers)]:
        body = {"organization_id": person.organization_id, "representative": "A", "role": role}
        ids.append(expect(await client.post(f"{path}/participants", json=body, headers=person.headers), 201)["id"])
    expect(await client.post(f"{path}/status", json={"status": "booking_open"}, headers=organizer.headers), 200)
    for recipient in ids[1:3]:
        sent = expect(
            await client.post(
                f"{path}/requests", json={"requester_id": ids[0], "recipient_id": recipient}, headers=supplier.headers
            ),
            201,
        )
        assert sent["status"] == "accepted"
    capped = await client.post(
        f"{path}/requests", json={"requester_id": ids[0], "recipient_id": ids[3]}, headers=supplier.headers
    )
    assert expect(capped, 409)["code"] == "RequestCapReached"


async def schedule_fair(client: AsyncClient, fair: Fair) -> list[dict[str, Any]]:
    """Every supplier meets every seeker (4 meetings), accepted."""
    meetings = []
    for seeker in fair.seekers:
        for supplier in fair.suppliers:
            request = await ask(client, fair, seeker, supplier)
            meetings.append(
                expect(await client.post(f"{fair.path}/requests/{request['id']}/accept", headers=supplier.headers), 200)
            )
    return meetings


async def test_schedule_publish_and_agendas(client: AsyncClient, fair: Fair) -> None:
    seeker = fair.seekers[0]
    # the seeker cannot come to the first two slots
    expect(
        await client.patch(
            f"{fair.path}/participants/{pid(fair, seeker)}", json={"unavailable_slots": [0, 1]}, headers=seeker.headers
        ),
        200,
    )
    meetings = await schedule_fair(client, fair)
    expect(await client.post(f"{fair.path}/schedule", json={"time_limit": 5}, headers=seeker.headers), 403)
    report = expect(
        await client.post(f"{fair.path}/schedule", json={"time_limit": 5}, headers=fair.organizer.headers), 200
    )
    assert report["placed"] == report["meetings"] == 4
    assert report["unplaced"] == {}
    assert report["priority"]["optimal"]
    assert report["breaks"]["optimal"]
    assert report["breaks"]["value"] == 0
    assert report["status"] == "draft"
    # before publication a participant's agenda is empty; the organiser sees the draft
    agenda_path = f"{fair.path}/participants/{pid(fair, seeker)}/agenda"
    assert expect(await client.get(agenda_path, headers=seeker.headers), 200)["items"] == []
    draft = expect(await client.get(agenda_path, headers=fair.organizer.headers), 200)
    assert len(draft["items"]) == 2
    published = expect(
        await client.post(f"{fair.path}/schedule/publish", json={"stage": "final"}, headers=fair.organizer.headers), 200
    )
    assert published["status"] == "scheduled"
    assert published["schedule_status"] == "final"
    agenda = expect(await client.get(agenda_path, headers=seeker.headers), 200)
    slots = [item["slot"] for item in agenda["items"]]
    assert len(slots) == 2
    assert not {0, 1} & set(slots)
    assert slots == sorted(slots)
    assert slots[1] == slots[0] + 1
    assert {item["counterpart_id"] for item in agenda["items"]} == {pid(fair, s) for s in fair.suppliers}
    # iCalendar: one VEVENT per meeting, at the meeting's time
    ics = await client.get(agenda_path, params={"format": "ics"}, headers=seeker.headers)
    assert ics.headers["content-type"].startswith("text/calendar")
    calendar = icalendar.Calendar.from_ical(ics.content)
    events = list(calendar.walk("VEVENT"))
    assert len(events) == 2
    assert {str(e["UID"]) for e in events} == {f"{i['meeting_id']}@techex" for i in agenda["items"]}
    assert sorted(e.decoded("DTSTART").isoformat() for e in events) == sorted(
        i["starts_at"].replace("Z", "+00:00") for i in agenda["items"]
    )
    assert all(str(e["STATUS"]) == "CONFIRMED" for e in events)
    # printable CSV in the event's local time
    sheet = await client.get(agenda_path, params={"format": "csv"}, headers=seeker.headers)
    assert sheet.content.startswith(b"\xef\xbb\xbf"), "Excel on Windows needs the byte order mark to read UTF-8"
    rows = list(csv.reader(io.StringIO(sheet.content.decode("utf-8-sig"))))
    assert rows[0] == ["slot", "date", "start", "end", "place", "with"]
    assert len(rows) == 3
    assert rows[1][1] == DAY
    assert rows[1][2] >= "09:10"
    # table agendas for the floor staff
    table = agenda["items"][0]["table_number"]
    floor = expect(await client.get(f"{fair.path}/tables/{table}/agenda", headers=fair.organizer.headers), 200)
    assert agenda["items"][0]["meeting_id"] in {i["meeting_id"] for i in floor["items"]}
    expect(await client.get(f"{fair.path}/tables/99/agenda", headers=fair.organizer.headers), 404)
    # everyone was told
    notes = expect(await client.get("/api/v1/notifications", headers=fair.suppliers[1].headers), 200)
    assert "schedule_published" in {n["kind"] for n in notes["items"]}
    assert len(meetings) == 4


async def test_an_unfair_schedule_is_only_a_draft_until_accepted(client: AsyncClient, moderator: Registered) -> None:
    fair = await make_fair(client, moderator, fairness=0)
    seeker = fair.seekers[0]
    # free only in slots 0 and 2, the seeker's two meetings leave it one break; the other seeker has one
    # meeting and so no break: no schedule of all three keeps the spread at 0
    expect(
        await client.patch(
            f"{fair.path}/participants/{pid(fair, seeker)}",
            json={"unavailable_slots": [1, 3, 4, 5, 6]},
            headers=seeker.headers,
        ),
        200,
    )
    for sender, recipient in [
        (seeker, fair.suppliers[0]),
        (seeker, fair.suppliers[1]),
        (fair.seekers[1], fair.suppliers[0]),
    ]:
        request = await ask(client, fair, sender, recipient)
        expect(await client.post(f"{fair.path}/requests/{request['id']}/accept", headers=recipient.headers), 200)
    organizer = fair.organizer.headers
    problem = expect(await client.post(f"{fair.path}/schedule", json={"time_limit": 5}, headers=organizer), 409)
    assert problem["code"] == "FairScheduleNotFound"
    assert (problem["fairness_bound"], problem["fairness_spread"]) == (0, 1)
    assert problem["schedule"]["placed"] == 3
    assert problem["accept"]["body"]["accept_unfair"] is True
    assert "accept_unfair" in problem["detail"]
    # kept as a draft marked unfair; nobody sees it yet
    report = expect(await client.get(f"{fair.path}/schedule", headers=organizer), 200)
    assert report["status"] == "draft"
    assert (report["fairness_met"], report["fairness_spread"], report["unfair_accepted"]) == (False, 1, False)
    agenda_path = f"{fair.path}/participants/{pid(fair, seeker)}/agenda"
    assert expect(await client.get(agenda_path, headers=seeker.headers), 200)["items"] == []
    # publishing it needs the organiser's explicit acceptance
    refused = expect(
        await client.post(f"{fair.path}/schedule/publish", json={"stage": "final"}, headers=organizer), 409
    )
    assert refused["code"] == "UnfairScheduleNotAccepted"
    assert (refused["fairness_bound"], refused["fairness_spread"]) == (0, 1)
    assert expect(await client.get(agenda_path, headers=seeker.headers), 200)["items"] == []
    published = expect(
        await client.post(
            f"{fair.path}/schedule/publish",
            json={"stage": "preliminary", "accept_unfair": True},
            headers=organizer,
        ),
        200,
    )
    assert published["schedule_status"] == "preliminary"
    assert expect(await client.get(f"{fair.path}/schedule", headers=organizer), 200)["unfair_accepted"] is True
    assert [i["slot"] for i in expect(await client.get(agenda_path, headers=seeker.headers), 200)["items"]] == [0, 2]
    # with a bound the schedule can keep, computing succeeds and says so
    etag = (await client.get(fair.path, headers=organizer)).headers["etag"]
    expect(await client.patch(fair.path, json={"fairness": 1}, headers={**organizer, "If-Match": etag}), 200)
    report = expect(await client.post(f"{fair.path}/schedule", json={"time_limit": 5}, headers=organizer), 200)
    assert (report["fairness_met"], report["fairness_bound"], report["fairness_spread"]) == (True, 1, 1)


async def test_locked_meetings_stay_and_republishing_moves_little(client: AsyncClient, fair: Fair) -> None:
    meetings = await schedule_fair(client, fair)
    expect(await client.post(f"{fair.path}/schedule", json={"time_limit": 5}, headers=fair.organizer.headers), 200)
    expect(
        await client.post(
            f"{fair.path}/schedule/publish", json={"stage": "preliminary"}, headers=fair.organizer.headers
        ),
        200,
    )
    target = meetings[0]
    current = expect(await client.get(f"{fair.path}/requests", headers=fair.organizer.headers), 200)["items"]
    sides = {target["requester_id"], target["recipient_id"]}
    busy = {r["slot"] for r in current if sides & {r["requester_id"], r["recipient_id"]}}
    free = next(s for s in range(7) if s not in busy)
    moved = expect(
        await client.patch(
            f"{fair.path}/meetings/{target['id']}", json={"slot": free, "locked": True}, headers=fair.organizer.headers
        ),
        200,
    )
    assert moved["slot"] == free
    assert moved["locked"]
    # moving another meeting of the same participant into that slot is refused
    same_side = next(m for m in meetings[1:] if m["requester_id"] == target["requester_id"])
    problem = expect(
        await client.patch(
            f"{fair.path}/meetings/{same_side['id']}", json={"slot": free}, headers=fair.organizer.headers
        ),
        422,
    )
    assert problem["errors"][0]["type"] == "double_booked"
    report = expect(
        await client.post(f"{fair.path}/schedule", json={"time_limit": 5}, headers=fair.organizer.headers), 200
    )
    assert report["placed"] == 4
    assert report["moved"] is not None
    again = expect(await client.get(f"{fair.path}/requests/{target['id']}", headers=fair.organizer.headers), 200)
    assert again["slot"] == free


async def test_withdrawal_cancels_requests(client: AsyncClient, fair: Fair) -> None:
    await schedule_fair(client, fair)
    japan = fair.suppliers[1]
    expect(
        await client.patch(
            f"{fair.path}/participants/{pid(fair, japan)}", json={"status": "withdrawn"}, headers=japan.headers
        ),
        200,
    )
    requests = expect(await client.get(f"{fair.path}/requests", headers=fair.organizer.headers), 200)["items"]
    theirs = [r for r in requests if pid(fair, japan) in (r["requester_id"], r["recipient_id"])]
    assert theirs
    assert all(r["status"] == "cancelled" for r in theirs)
    report = expect(
        await client.post(f"{fair.path}/schedule", json={"time_limit": 5}, headers=fair.organizer.headers), 200
    )
    assert report["meetings"] == report["placed"] == 2


async def test_outcomes_and_analytics(client: AsyncClient, fair: Fair) -> None:
    meetings = await schedule_fair(client, fair)
    meeting = meetings[0]
    body = {"participant_id": meeting["recipient_id"], "outcome": "negotiation"}
    # no outcome before the schedule is out
    expect(
        await client.put(f"{fair.path}/meetings/{meeting['id']}/outcome", json=body, headers=fair.suppliers[0].headers),
        409,
    )
    expect(await client.post(f"{fair.path}/schedule", json={"time_limit": 5}, headers=fair.organizer.headers), 200)
    expect(
        await client.post(f"{fair.path}/schedule/publish", json={"stage": "final"}, headers=fair.organizer.headers), 200
    )
    recipient = next(s for s in fair.suppliers if pid(fair, s) == meeting["recipient_id"])
    requester = next(s for s in fair.seekers if pid(fair, s) == meeting["requester_id"])
    expect(await client.put(f"{fair.path}/meetings/{meeting['id']}/outcome", json=body, headers=recipient.headers), 200)
    # one side cannot speak for the other
    expect(await client.put(f"{fair.path}/meetings/{meeting['id']}/outcome", json=body, headers=requester.headers), 403)
    mine = {"participant_id": meeting["requester_id"], "outcome": "agreement_reached", "note": "Ký MoU"}
    expect(await client.put(f"{fair.path}/meetings/{meeting['id']}/outcome", json=mine, headers=requester.headers), 200)
    outcomes = expect(
        await client.get(f"{fair.path}/meetings/{meeting['id']}/outcomes", headers=requester.headers), 200
    )["items"]
    assert {o["outcome"] for o in outcomes} == {"negotiation", "agreement_reached"}
    declined = await ask(client, fair, fair.seekers[0], fair.seekers[1], 422)  # rules
    assert declined["code"] == "InvalidInput"
    stats = expect(await client.get(f"{fair.path}/analytics", headers=fair.organizer.headers), 200)
    assert stats["requests"]["accepted"] == 4
    assert stats["meetings_scheduled"] == 4
    assert stats["outcomes"]["agreement_reached"] == 1
    assert stats["outcomes"]["negotiation"] == 1
    assert stats["table_utilisation"] == round(4 / (7 * 2), 4)
    per = {p["participant_id"]: p for p in stats["participants"]}
    assert per[pid(fair, fair.suppliers[0])]["meetings"] == 2
    expect(await client.get(f"{fair.path}/analytics", headers=requester.headers), 403)
    # the city's funnel counts the published meetings in the year the event takes place
    assert expect(await client.get("/api/v1/stats/funnel", params={"year": DAY[:4]}), 200)["meetings"] == 4
    next_year = str(int(DAY[:4]) + 1)
    assert expect(await client.get("/api/v1/stats/funnel", params={"year": next_year}), 200)["meetings"] == 0


async def test_a_proposal_becomes_an_event_in_one_call(client: AsyncClient, fair: Fair) -> None:
    organizer = fair.organizer
    body = {
        "field": "environment",
        "date": "2027-03-15",
        "capacity": 10,
        "tables": 5,
        "organizer_organization_id": organizer.organization_id,
        "strong_match": 0.3,
    }
    proposal = expect(await client.post("/api/v1/event-proposals", json=body, headers=organizer.headers), 200)
    invited = {p["organization_id"] for p in proposal["participants"]}
    assert {s.organization_id for s in [*fair.suppliers, *fair.seekers]} <= invited
    assert proposal["candidate_meetings"]
    assert proposal["expected_strong_matches"] >= 1
    roles = {p["organization_id"]: p["role"] for p in proposal["participants"]}
    assert roles[fair.suppliers[0].organization_id] == "supplier"
    assert roles[fair.seekers[0].organization_id] == "seeker"
    event = expect(await client.post("/api/v1/events", json=proposal["event"], headers=organizer.headers), 201)
    assert len(event["sessions"]) == 2
    participants = expect(
        await client.get(f"/api/v1/events/{event['id']}/participants", headers=organizer.headers), 200
    )["items"]
    assert {p["organization_id"] for p in participants} == invited
    assert {p["status"] for p in participants} == {"invited"}


async def test_participants_bring_only_their_own_published_listings(
    client: AsyncClient, fair: Fair, moderator: Registered
) -> None:
    seeker, supplier = fair.seekers[0], fair.suppliers[0]
    theirs = await create_listing(client, supplier, status="published", moderator=moderator)
    mine = await create_listing(client, seeker, "demand", status="published", moderator=moderator)
    path = f"{fair.path}/participants/{pid(fair, seeker)}"
    problem = expect(await client.patch(path, json={"listing_ids": [theirs["id"]]}, headers=seeker.headers), 422)
    assert problem["errors"][0]["loc"] == ["body", "listing_ids"]
    assert problem["errors"][0]["type"] == "foreign_listing"
    updated = expect(await client.patch(path, json={"listing_ids": [mine["id"]]}, headers=seeker.headers), 200)
    assert updated["listing_ids"] == [mine["id"]]
