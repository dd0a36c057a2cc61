"""The anonymity sweep: no read operation of the API tells who owns an anonymous listing.

Two worlds differ in one fact only: in the first, organisation X owns an anonymous offer and an
anonymous demand (its only listings); in the second, organisation Y owns them and X has none.
Everything else is the same: a buyer S that expressed interest in the offer and exchanged messages
with its owner, an event where X, Y and S are registered (the owner bringing its anonymous offer),
public listings of S that match the anonymous ones. Every GET operation of the OpenAPI document is
called in both worlds — its path filled with the world's ids, and once more with each query parameter
that can name an owner set to X — by a caller without an account and by S; so is every write whose
body can name a listing or an organisation, with its schema's example pointed at the anonymous
listings and at X, by S and by the organiser of another event (each rolled back). Once ids and timestamps are
normalised, every answer must be the same in both worlds.
"""

from __future__ import annotations

import itertools
import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient, Response
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.search.index_config import INDEXES
from app.search.reindex import rebuild_index
from tests.fixtures.contract import openapi_document
from tests.helpers import Registered, create_listing, expect, make_staff, register, verify
from tests.test_anonymity import SESSIONS, WATER_DEMAND, WATER_OFFER

NOWHERE = str(uuid.UUID(int=1))
# The query parameters through which a caller can name an organisation or single out its listings.
# Body fields through which a write can name a listing or an organisation.
NAMING_FIELDS = {
    "listing_id",
    "listing_ids",
    "offer_id",
    "demand_id",
    "organization_id",
    "buyer_organization_id",
    "supplier_organization_id",
    "organizer_organization_id",
}
OWNER_PARAMETERS = ("organization_id", "owner_kind", "q", "kind", "facets", "record_id", "actor_organization_id")
TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
DURATION = re.compile(r'"(\w+_(?:seconds|ms))":\s*[-+\deE.]+')
REQUEST_ID = re.compile(r'"request_id":\s*"\w+"')
# The change feed's cursors are positions in the outbox, a counter shared by every write: on PostgreSQL
# the first world's rolled-back writes still advance it, so the second world's positions are higher.
FEED_CURSOR = re.compile(r'"(cursor|next_cursor)":\s*"(eyJzIjo[\w-]*)"')
ICAL_STAMP = re.compile(r"(DTSTAMP|UID)[:;][^\r\n]*")


@dataclass
class World:
    """The ids of one world, by the name the sweep fills parameters with."""

    people: dict[str, Registered]
    values: dict[str, list[str]] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)

    def label(self, name: str, value: str) -> str:
        self.labels[str(value)] = name
        return str(value)


async def _people(client: AsyncClient, session: AsyncSession) -> dict[str, Registered]:
    """The organisations of both worlds, registered once."""
    moderator = await make_staff(client, session, "moderator")
    x = await register(client, "x@vien-x.vn", kind="institute", organization="Viện Nghiên cứu X")
    y = await register(client, "y@cong-ty-y.vn", kind="enterprise", organization="Công ty Y")
    s = await register(client, "s@thuysan.vn", organization="Công ty Thủy sản S")
    organizer = await register(client, "e@ket-noi.vn", kind="intermediary", organization="Trung tâm Kết nối E")
    # F organises an event of its own, where nobody brought anything: it may not know X's anonymous listings
    other_organizer = await register(client, "f@xuc-tien.vn", kind="intermediary", organization="Trung tâm Xúc tiến F")
    # X differs from Y in what its listings could betray: its kind and its verification
    await verify(client, moderator, x.organization_id)
    return {"X": x, "Y": y, "S": s, "E": organizer, "F": other_organizer, "M": moderator}


async def _build(app: FastAPI, client: AsyncClient, people: dict[str, Registered], owner_name: str) -> World:
    """One world: `owner_name` owns the anonymous listings."""
    world = World(people=people)
    for name, person in people.items():
        world.label(name, person.organization_id)
        world.label(f"{name}-account", person.account_id)
    x, s, organizer, moderator = people["X"], people["S"], people["E"], people["M"]
    owner = people[owner_name]

    # listing attributes that would otherwise follow the owner are given, so the two worlds differ in the owner only
    same = {"province": "Hải Phòng", "visibility": "anonymous"}
    hidden_offer = await create_listing(
        client, owner, status="published", moderator=moderator, origin_kind="enterprise", **same, **WATER_OFFER
    )
    hidden_demand = await create_listing(
        client, owner, "demand", status="published", moderator=moderator, **same, **WATER_DEMAND
    )
    s_demand = await create_listing(client, s, "demand", status="published", moderator=moderator, **WATER_DEMAND)
    s_offer = await create_listing(
        client,
        s,
        status="published",
        moderator=moderator,
        title="Cảm biến giám sát chất lượng nước thải trực tuyến",
        concepts=["wastewater-treatment"],
        transfer_types=["turnkey_equipment"],
    )
    for name, listing in (("L-offer", hidden_offer), ("L-demand", hidden_demand), ("S-demand", s_demand)):
        world.label(name, listing["id"])
    world.label("S-offer", s_offer["id"])

    interest = expect(
        await client.post(
            "/api/v1/interests", json={"listing_id": hidden_offer["id"], "message": "Quan tâm"}, headers=s.headers
        ),
        201,
    )
    world.label("interest", interest["id"])
    thread = f"/api/v1/interests/{interest['id']}/messages"
    for author, body in ((owner, "Nhà máy công suất bao nhiêu?"), (s, "500 m³/ngày.")):
        message = expect(await client.post(thread, json={"body": body}, headers=author.headers), 201)
        world.label(f"message-{body[:3]}", message["id"])

    event = expect(
        await client.post(
            "/api/v1/events",
            json={
                "name": "Kết nối công nghệ môi trường",
                "organizer_organization_id": organizer.organization_id,
                "field": "environment",
                "sessions": SESSIONS,
            },
            headers=organizer.headers,
        ),
        201,
    )
    world.label("event", event["id"])
    other_event = expect(
        await client.post(
            "/api/v1/events",
            json={
                "name": "Kết nối công nghệ xanh",
                "organizer_organization_id": people["F"].organization_id,
                "field": "environment",
                "sessions": SESSIONS,
            },
            headers=people["F"].headers,
        ),
        201,
    )
    world.label("other-event", other_event["id"])
    for number, block in enumerate(other_event["sessions"]):
        world.label(f"other-session-{number}", block["id"])
    expect(
        await client.post(
            f"/api/v1/events/{other_event['id']}/status",
            json={"status": "registration_open"},
            headers=people["F"].headers,
        ),
        200,
    )
    for number, block in enumerate(event["sessions"]):
        world.label(f"session-{number}", block["id"])
    path = f"/api/v1/events/{event['id']}"
    expect(await client.post(f"{path}/status", json={"status": "registration_open"}, headers=organizer.headers), 200)
    participants = {}
    for name in ("X", "Y", "S"):
        person = world.people[name]
        brought = {"X": [], "Y": [], "S": [s_demand["id"]]}[name]
        if person is owner:
            brought = [hidden_offer["id"]]
        body = {
            "organization_id": person.organization_id,
            "representative": f"Đại diện {name}",
            "representative_email": f"daidien@{name.lower()}.vn",
            "role": "both",
            "listing_ids": brought,
        }
        registered = expect(await client.post(f"{path}/participants", json=body, headers=person.headers), 201)
        participants[name] = world.label(f"participant-{name}", registered["id"])
    expect(await client.post(f"{path}/status", json={"status": "booking_open"}, headers=organizer.headers), 200)

    x_kind = x.organization["kind"]
    world.values = {
        "organization_id": [x.organization_id, s.organization_id],
        "offer_id": [hidden_offer["id"], s_offer["id"]],
        "demand_id": [hidden_demand["id"], s_demand["id"]],
        "interest_id": [interest["id"]],
        "event_id": [event["id"]],
        "participant_id": [participants["X"], participants["S"]],
        # writes go to F's event, whose organiser may not know who owns the anonymous listings
        "write:event_id": [other_event["id"]],
        # query parameters naming X
        "query:organization_id": [x.organization_id],
        "query:actor_organization_id": [x.organization_id],
        "query:record_id": [hidden_offer["id"]],
        "query:owner_kind": [x_kind],
        "query:kind": [x_kind],
        "query:q": [x.organization["name"]],
        "query:facets": ["owner_kind"],
    }
    for index in INDEXES:  # the search index holds this world only
        await rebuild_index(app.state.database, app.state.search, index)
    return world


def _parameters(operation: dict[str, Any], location: str) -> list[dict[str, Any]]:
    return [p for p in operation.get("parameters", []) if p["in"] == location]


def _calls(openapi: dict[str, Any], world: World) -> list[tuple[str, str, dict[str, str]]]:
    """(operation, URL, query) for every GET: each combination of the world's path values, without
    optional query parameters and with each owner parameter the operation accepts."""
    calls = []
    for route, item in openapi["paths"].items():
        operation = item.get("get")
        if operation is None:
            continue
        names = [p["name"] for p in _parameters(operation, "path")]
        choices = [world.values.get(name, [NOWHERE if "id" in name else "1"]) for name in names]
        accepted = {p["name"] for p in _parameters(operation, "query")}
        variants: list[dict[str, str]] = [{}]
        variants += [{name: world.values[f"query:{name}"][0]} for name in OWNER_PARAMETERS if name in accepted]
        for values in itertools.product(*choices):
            url = route
            for name, value in zip(names, values, strict=True):
                url = url.replace(f"{{{name}}}", value)
            calls += [(f"GET {route}", url, query) for query in variants]
    return calls


def _canonical(value: Any) -> Any:
    """Lists of records in a stable order: ties (equal scores, equal times) are ordered by id, and ids
    differ between the worlds."""
    if isinstance(value, dict):
        return {key: _canonical(item) for key, item in value.items()}
    if isinstance(value, list):
        items = [_canonical(item) for item in value]
        if all(isinstance(item, dict) for item in items):
            return sorted(items, key=lambda item: json.dumps(item, sort_keys=True, ensure_ascii=False))
        return items
    return value


def _normalised(text: str, world: World) -> str:
    text = UUID.sub(lambda m: world.labels.get(m.group(0), "<id>"), text)
    text = TIMESTAMP.sub("<time>", text)
    text = ICAL_STAMP.sub(r"\1:<stamp>", text)
    text = REQUEST_ID.sub('"request_id": "<request>"', text)
    text = FEED_CURSOR.sub(r'"\1": "<position>"', text)
    return DURATION.sub(r'"\1": 0', text)


def _answer(response: Response, world: World) -> str:
    content_type = response.headers.get("content-type", "")
    body = _normalised(response.text if "spreadsheet" not in content_type else "<binary>", world)
    if content_type.startswith(("application/json", "application/problem+json")):
        body = json.dumps(_canonical(json.loads(body)), ensure_ascii=False, sort_keys=True)
    return f"{response.status_code} {body}"


async def _answers(client: AsyncClient, openapi: dict[str, Any], world: World) -> dict[tuple[str, ...], str]:
    callers = {"nobody": {}, "S": world.people["S"].headers}
    answers = {}
    for operation, url, query in _calls(openapi, world):
        for caller, headers in callers.items():
            response = await client.get(url, params=query, headers=headers)
            key = (operation, _normalised(url, world), _normalised(str(sorted(query.items())), world), caller)
            answers[key] = _answer(response, world)
    return answers


def _schema(openapi: dict[str, Any], operation: dict[str, Any]) -> dict[str, Any]:
    content = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
    reference = content.get("schema", {}).get("$ref", "")
    return openapi["components"]["schemas"].get(reference.rsplit("/", 1)[-1], {}) if reference else {}


def _body(value: Any, world: World, caller: Registered) -> Any:
    """The schema's example with every field that names a listing or an organisation pointing at the
    anonymous listings, at X (the suspected owner) or at the caller; other references are left out, and
    so is the supplier, which the server takes from the offer's owner."""
    if isinstance(value, list):
        return [_body(item, world, caller) for item in value]
    if not isinstance(value, dict):
        return value
    named = {
        "listing_id": world.values["offer_id"][0],
        "offer_id": world.values["offer_id"][0],
        "demand_id": world.values["demand_id"][0],
        "listing_ids": [world.values["offer_id"][0]],
        "organization_id": world.values["organization_id"][0],
        "buyer_organization_id": caller.organization_id,
        "organizer_organization_id": caller.organization_id,
    }
    body = {}
    for key, item in value.items():
        if key in named:
            body[key] = named[key]
        elif not key.endswith(("_id", "_ids")):
            body[key] = _body(item, world, caller)
    return body


async def _write_answers(
    client: AsyncClient, connection: AsyncConnection, openapi: dict[str, Any], world: World
) -> dict[tuple[str, ...], str]:
    """Each write whose body can name a listing or an organisation, with the schema's example pointed at
    the anonymous listings and at X, by S and by F (an organiser who may not know the owner); each in a
    savepoint rolled back."""
    answers = {}
    for route, item in openapi["paths"].items():
        for method in ("post", "put", "patch"):
            schema = _schema(openapi, item.get(method, {}))
            if not set(schema.get("properties", {})) & NAMING_FIELDS or not schema.get("examples"):
                continue
            names = [p["name"] for p in _parameters(item[method], "path")]
            choices = [world.values.get(f"write:{name}", world.values.get(name, [NOWHERE])) for name in names]
            for values, caller in itertools.product(itertools.product(*choices), ("S", "F")):
                url = route
                for name, value in zip(names, values, strict=True):
                    url = url.replace(f"{{{name}}}", value)
                person = world.people[caller]
                body = _body(schema["examples"][0], world, person)
                savepoint = await connection.begin_nested()
                try:
                    response = await client.request(method.upper(), url, json=body, headers=person.headers)
                finally:
                    await savepoint.rollback()
                key = (f"{method.upper()} {route}", _normalised(url, world), caller)
                answers[key] = _answer(response, world)
    return answers


@pytest.mark.slow
async def test_no_read_operation_tells_who_owns_an_anonymous_listing(
    app: FastAPI, client: AsyncClient, session: AsyncSession, db_connection: AsyncConnection
) -> None:
    openapi = openapi_document()  # the app's document, generated once per test process
    people = await _people(client, session)
    answers = []
    for owner in ("X", "Y"):
        savepoint = await db_connection.begin_nested()
        try:
            world = await _build(app, client, people, owner)
            answers.append(
                await _answers(client, openapi, world) | await _write_answers(client, db_connection, openapi, world)
            )
        finally:
            await savepoint.rollback()
    owned_by_x, owned_by_y = answers
    assert owned_by_x.keys() == owned_by_y.keys()
    differences = [
        f"{' '.join(key)}:\n  X owns: {owned_by_x[key][:400]}\n  Y owns: {owned_by_y[key][:400]}"
        for key in owned_by_x
        if owned_by_x[key] != owned_by_y[key]
    ]
    assert not differences, f"{len(differences)} answers tell the owner apart:\n" + "\n".join(differences)

    # the sweep reached what matters: the owner-filtered lists, the matches, the thread, the event
    succeeded = {key[0] for key, answer in owned_by_x.items() if answer.startswith("200")}
    for operation in (
        "GET /api/v1/offers",
        "GET /api/v1/search/offers",
        "GET /api/v1/organizations/{organization_id}/matches",
        "GET /api/v1/demands/{demand_id}/matches",
        "GET /api/v1/interests/{interest_id}/messages",
        "GET /api/v1/events/{event_id}/participants",
        "GET /api/v1/events/{event_id}/participants/{participant_id}/suggestions",
        "GET /api/v1/stats/listings",
    ):
        assert operation in succeeded, operation
    every_read = {f"GET {route}" for route, item in openapi["paths"].items() if "get" in item}
    assert {key[0] for key in owned_by_x if key[0].startswith("GET ")} == every_read
    writes = {key[0] for key in owned_by_x if not key[0].startswith("GET ")}
    assert {
        "POST /api/v1/deals",
        "POST /api/v1/interests",
        "POST /api/v1/event-proposals",
        "POST /api/v1/events/{event_id}/participants",
        "PATCH /api/v1/events/{event_id}/participants/{participant_id}",
    } <= writes
