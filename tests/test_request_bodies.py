"""Request bodies name every field they accept: an unknown one is refused with 422, not silently dropped."""

from __future__ import annotations

from httpx import AsyncClient

from tests.helpers import PASSWORD, demand_payload, expect, organization_payload, register


def _unknown(problem: dict) -> list[list]:
    return [e["loc"] for e in problem["errors"] if e["type"] == "extra_forbidden"]


async def test_an_unknown_listing_field_is_refused_by_name(client: AsyncClient) -> None:
    owner = await register(client)
    body = demand_payload(problem="Nước thải vượt chuẩn COD", keywords=["nước thải"])
    problem = expect(await client.post("/api/v1/demands", json=body, headers=owner.headers), 422)
    assert problem["code"] == "RequestValidationFailed"
    assert sorted(_unknown(problem)) == [["body", "keywords"], ["body", "problem"]]
    listed = expect(await client.get("/api/v1/demands", headers=owner.headers), 200)
    assert listed["total"] == 0  # nothing stored


async def test_an_unknown_nested_field_is_refused_too(client: AsyncClient) -> None:
    owner = await register(client)
    body = demand_payload(translations={"en": {"title": "Seafood wastewater", "summary": "Needs", "body": "x"}})
    problem = expect(await client.post("/api/v1/demands", json=body, headers=owner.headers), 422)
    assert _unknown(problem) == [["body", "translations", "en", "body"]]


async def test_known_fields_still_work_and_are_stored(client: AsyncClient) -> None:
    owner = await register(client)
    body = demand_payload(problem_statement="Nước thải vượt chuẩn COD", requirements="500 m³/ngày")
    created = expect(await client.post("/api/v1/demands", json=body, headers=owner.headers), 201)
    assert created["problem_statement"] == "Nước thải vượt chuẩn COD"


async def test_registration_refuses_an_unknown_organisation_field(client: AsyncClient) -> None:
    body = {
        "email": "an@example.vn",
        "password": PASSWORD,
        "full_name": "Nguyễn Văn An",
        "organization": organization_payload("Công ty An", "enterprise", slogan="Nhanh"),
    }
    problem = expect(await client.post("/api/v1/auth/register", json=body), 422)
    assert _unknown(problem) == [["body", "organization", "slogan"]]
