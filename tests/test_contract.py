"""The OpenAPI document holds for clients: its examples fit their schemas, every live answer of
every GET fits its schema, and an answer the document does not describe is caught.

Schemas are checked with an independent JSON Schema 2020-12 validator (`jsonschema_rs`), not
with the Pydantic models they were generated from.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import PROBLEM_MEDIA_TYPE
from app.seed import load_demo_data
from app.webhooks.delivery import WebhookWorker
from tests.events.test_api import make_fair, pid
from tests.fixtures.contract import Exchange, find_operation, openapi_document, schema_validator, undocumented
from tests.helpers import Registered, expect, grant_mandate, make_staff, register

DOCUMENT = openapi_document()
COMPONENTS = DOCUMENT["components"]


def _errors(schema: dict[str, Any], instance: Any) -> list[str]:
    # thousands of examples share a few hundred schemas: one validator each
    validator = schema_validator(schema)
    return [f"{'/'.join(map(str, e.instance_path))}: {e.message}" for e in validator.iter_errors(instance)]


def _resolve_example(example: dict[str, Any]) -> dict[str, Any]:
    ref = example.get("$ref")
    return COMPONENTS["examples"][ref.rsplit("/", 1)[-1]] if ref else example


def _examples() -> Iterator[tuple[str, dict[str, Any], Any]]:
    """(where, schema, example) for every example the document gives."""

    def walk(node: Any, where: str) -> Iterator[tuple[str, dict[str, Any], Any]]:
        if isinstance(node, dict):
            if "examples" in node and isinstance(node["examples"], list) and ("type" in node or "properties" in node):
                schema = {k: v for k, v in node.items() if k != "examples"}
                for i, example in enumerate(node["examples"]):
                    yield f"{where}.examples[{i}]", schema, example
            for key, value in node.items():
                yield from walk(value, f"{where}.{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                yield from walk(value, f"{where}[{i}]")

    yield from walk(COMPONENTS["schemas"], "components.schemas")
    for path, item in DOCUMENT["paths"].items():
        for method, operation in item.items():
            where = f"{method.upper()} {path}"
            for parameter in operation.get("parameters", []):
                yield from walk(parameter.get("schema", {}), f"{where} parameter {parameter.get('name')}")
            bodies = [("request", operation.get("requestBody", {}))]
            bodies += [(status, r) for status, r in operation["responses"].items()]
            for which, body in bodies:
                for media_type, media in body.get("content", {}).items():
                    schema = media.get("schema", {})
                    if "example" in media:
                        yield f"{where} {which} {media_type} example", schema, media["example"]
                    for name, example in media.get("examples", {}).items():
                        value = _resolve_example(example)["value"]
                        yield f"{where} {which} {media_type} examples.{name}", schema, value


def test_every_example_fits_its_schema() -> None:
    checked, failures = 0, []
    for where, schema, example in _examples():
        checked += 1
        failures += [f"{where}: {error}" for error in _errors(schema, example)]
    assert checked > 500
    assert not failures, f"{len(failures)} examples do not fit their schema:\n" + "\n".join(failures[:50])


def test_a_value_that_does_not_fit_is_caught_down_to_the_components_it_refers_to() -> None:
    offer = {"$ref": "#/components/schemas/OfferRead"}
    example = COMPONENTS["schemas"]["OfferRead"]["examples"][0]
    assert _errors(offer, example) == []
    wrong = {**example, "trl": "seven", "organization": {**example["organization"], "kind": "guild"}}
    errors = _errors(offer, wrong)
    assert any(error.startswith("trl: ") for error in errors), errors
    assert any(error.startswith("organization: ") for error in errors), errors  # in OwnerSummary, or null


def test_every_problem_example_has_the_status_and_a_code_of_its_response() -> None:
    for path, item in DOCUMENT["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                media = response.get("content", {}).get(PROBLEM_MEDIA_TYPE)
                if not int(status) >= 400:
                    continue
                assert media, f"{method.upper()} {path} {status} is not problem+json"
                codes = media["schema"]["properties"]["code"]["enum"]
                assert sorted(media["examples"]) == sorted(codes), f"{method.upper()} {path} {status}"
                for example in media["examples"].values():
                    value = _resolve_example(example)["value"]
                    assert value["status"] == int(status), f"{method.upper()} {path} {status}"
                    assert value["code"] in codes


def test_operation_ids_are_unique_and_read_as_tag_dot_endpoint() -> None:
    ids = [op["operationId"] for item in DOCUMENT["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))
    for operation_id in ids:
        assert re.fullmatch(r"[a-z][A-Za-z]*\.[a-z][A-Za-z]*", operation_id), operation_id
    assert "events.getParticipantAgenda" in ids
    for name in COMPONENTS["schemas"]:
        assert re.fullmatch(r"[A-Z][A-Za-z0-9]*(-Input|-Output)?", name), name


def test_if_match_is_required_where_its_absence_is_refused() -> None:
    for path, item in DOCUMENT["paths"].items():
        for method, operation in item.items():
            if "428" in operation["responses"]:
                names = {p.get("name", "").lower(): p for p in operation.get("parameters", [])}
                assert names.get("if-match", {}).get("required") is True, f"{method.upper()} {path}"


def test_an_undocumented_code_status_or_header_is_caught() -> None:
    get_offer = "/api/v1/offers/3d9f7a1e-5b2c-4e8d-9a6f-1c2b3d4e5f60"
    documented = {
        Exchange("GET", get_offer, 404, "ListingNotFound", frozenset()),
        Exchange("GET", get_offer, 200, None, frozenset({"etag"})),
        Exchange("GET", "/api/v1/nowhere", 404, "NotFound", frozenset()),  # no operation: nothing to say
    }
    assert undocumented(DOCUMENT, documented) == []
    found = undocumented(
        DOCUMENT,
        {
            Exchange("GET", get_offer, 404, "EventNotFound", frozenset()),
            Exchange("GET", get_offer, 418, "Teapot", frozenset()),
            Exchange("GET", get_offer, 200, None, frozenset({"location"})),
        },
    )
    assert len(found) == 3, found


# The crawler: every GET of the document, on an exchange with data in every corner.


async def _world(app: FastAPI, client: AsyncClient, session: AsyncSession) -> tuple[Registered, dict[str, str]]:
    """Demo catalogue and deals, a matchmaking event with a scheduled meeting, a mandate; an admin."""
    await load_demo_data(app.state.database)
    admin = await make_staff(client, session, "admin")
    moderator = await make_staff(client, session, "moderator")
    fair = await make_fair(client, moderator)
    supplier, seeker = fair.suppliers[0], fair.seekers[0]
    request = expect(
        await client.post(
            f"{fair.path}/requests",
            json={"requester_id": pid(fair, seeker), "recipient_id": pid(fair, supplier)},
            headers=seeker.headers,
        ),
        201,
    )
    expect(await client.post(f"{fair.path}/requests/{request['id']}/accept", headers=supplier.headers), 200)
    organizer = fair.organizer.headers
    expect(await client.post(f"{fair.path}/schedule", json={"time_limit": 5}, headers=organizer), 200)
    expect(await client.post(f"{fair.path}/schedule/publish", json={"stage": "final"}, headers=organizer), 200)
    broker = await register(client, kind="intermediary")
    mandate = await grant_mandate(client, seeker, broker)

    endpoint = expect(
        await client.post(
            "/api/v1/webhook-endpoints", json={"url": "https://93.184.215.14/hooks"}, headers=admin.headers
        ),
        201,
    )
    expect(await client.post(f"/api/v1/webhook-endpoints/{endpoint['id']}/ping", headers=admin.headers), 202)
    worker = WebhookWorker(app.state.database, app.state.settings)
    await worker.dispatch()  # a delivery to list; none is posted
    await worker.close()

    survey = (
        "Tổ chức,Tên công nghệ,Tóm tắt,Lĩnh vực,TRL\n"
        + "Viện A,Lọc nước,Vật liệu lọc nước cho nông thôn.,môi trường,7\n" * 2
    )
    checked = await client.post(
        "/api/v1/imports",
        files={"file": ("survey.csv", survey.encode(), "text/csv")},
        data={"kind": "offer"},
        headers=admin.headers,
    )
    first = {}
    for resource in ("offers", "demands", "deals", "interests", "experts", "consultations"):
        page = expect(await client.get(f"/api/v1/{resource}", headers=admin.headers), 200)
        first[resource] = str(page["items"][0]["id"])
    values = {
        "offer_id": first["offers"],
        "demand_id": first["demands"],
        "deal_id": first["deals"],
        "interest_id": first["interests"],
        "organization_id": admin.organization_id,
        "mandate_id": str(mandate["id"]),
        "event_id": str(fair.event["id"]),
        "participant_id": pid(fair, seeker),
        "request_id": str(request["id"]),
        "meeting_id": str(request["id"]),
        "table": "1",
        "concept_id": "arsenic-removal",
        "endpoint_id": str(endpoint["id"]),
        "import_id": expect(checked, 201)["id"],  # its second row repeats the first: an error file
        "dataset": "offers",
        "expert_id": first["experts"],
        "consultation_id": first["consultations"],
        **await _services_world(client, admin, first["deals"]),
    }
    return admin, values


async def _services_world(client: AsyncClient, admin: Registered, deal_id: str) -> dict[str, str]:
    """A service request of the demo data, a valuation worksheet, a document on a deal and its download link."""
    requests = expect(await client.get("/api/v1/service-requests", headers=admin.headers), 200)
    valuation = expect(
        await client.post(
            "/api/v1/valuations",
            json={"title": "Định giá", "field": "environment", "market": {}, "organization_id": admin.organization_id},
            headers=admin.headers,
        ),
        201,
    )
    pdf = b"%PDF-1.7\n1 0 obj\n<< >>\nendobj\n%%EOF\n"
    document = expect(
        await client.post(
            "/api/v1/documents",
            data={"attached_to": "deal", "attached_id": deal_id, "kind": "contract"},
            files={"file": ("hop-dong.pdf", pdf)},
            headers=admin.headers,
        ),
        201,
    )
    link = expect(await client.post(f"/api/v1/documents/{document['id']}/link", headers=admin.headers), 200)
    return {
        "service_request_id": str(requests["items"][0]["id"]),
        "valuation_id": str(valuation["id"]),
        "document_id": str(document["id"]),
        "token": link["url"].rsplit("/", 1)[-1],
    }


async def test_every_get_answers_as_documented(app: FastAPI, client: AsyncClient, session: AsyncSession) -> None:
    admin, values = await _world(app, client, session)
    failures, crawled = [], 0
    for template, item in DOCUMENT["paths"].items():
        if "get" not in item:
            continue
        path = re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], template)
        response = await client.get(path, headers=admin.headers)
        operation = item["get"]
        documented = operation["responses"].get(str(response.status_code))
        where = f"GET {template} → {response.status_code}"
        assert find_operation(DOCUMENT, "GET", path) is not None
        if documented is None:
            failures.append(f"{where}: status not documented ({response.text[:200]})")
            continue
        if response.status_code >= 400:
            failures.append(f"{where}: the crawl expects success ({response.text[:200]})")
        media_type = response.headers.get("content-type", "").split(";")[0]
        media = documented.get("content", {}).get(media_type)
        if media is None:
            failures.append(f"{where}: {media_type} not documented")
            continue
        if media_type.endswith("json"):
            crawled += 1
            failures += [f"{where}: {error}" for error in _errors(media["schema"], response.json())]
    assert not failures, "\n".join(failures)
    assert crawled >= 40
