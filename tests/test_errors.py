"""Every error is RFC 9457 problem+json with the right status, and leaks nothing."""

from __future__ import annotations

import json

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from pydantic import BaseModel
from sqlalchemy import text

from app.api.deps import SessionDep

PROBLEM = "application/problem+json"


class Probe(BaseModel):
    name: str
    count: int


@pytest.fixture
def probe_app(app: FastAPI) -> FastAPI:
    """Mount routes that exercise the error machinery on the real app."""

    async def echo(payload: Probe) -> Probe:
        return payload

    async def broken_query(session: SessionDep) -> dict[str, str]:
        await session.execute(text("SELECT * FROM table_that_does_not_exist"))
        return {"never": "reached"}

    app.add_api_route("/_probe/echo", echo, methods=["POST"])
    app.add_api_route("/_probe/broken", broken_query, methods=["GET"])
    return app


def assert_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"].endswith(code)
    assert body["title"]
    assert body["request_id"] == response.headers["x-request-id"]
    return body


class TestUnknownRoutes:
    async def test_unknown_route_is_404_problem(self, client: AsyncClient) -> None:
        response = await client.get("/api/v1/no-such-thing")
        body = assert_problem(response, 404, "NotFound")
        assert body["instance"] == "/api/v1/no-such-thing"

    async def test_wrong_method_is_405_problem(self, client: AsyncClient) -> None:
        response = await client.delete("/healthz")
        assert_problem(response, 405, "MethodNotAllowed")

    async def test_405_allows_every_method_of_the_path(self, client: AsyncClient) -> None:
        # GET and POST /deals are two routes; the framework named only the first one's method.
        response = await client.request("OPTIONS", "/api/v1/deals")
        assert_problem(response, 405, "MethodNotAllowed")
        assert response.headers["allow"] == "GET, POST"


class TestRequestBodies:
    async def test_malformed_json_is_400(self, probe_app: FastAPI, client: AsyncClient) -> None:
        response = await client.post(
            "/_probe/echo", content=b'{"name": "x", ', headers={"content-type": "application/json"}
        )
        body = assert_problem(response, 400, "MalformedJSON")
        assert body["errors"][0]["type"] == "json_invalid"

    async def test_wrong_types_are_422_with_field_errors(self, probe_app: FastAPI, client: AsyncClient) -> None:
        response = await client.post("/_probe/echo", json={"name": "x", "count": "many"})
        body = assert_problem(response, 422, "RequestValidationFailed")
        assert body["errors"] == [
            {
                "loc": ["body", "count"],
                "msg": "Input should be a valid integer, unable to parse string as an integer",
                "type": "int_parsing",
            }
        ]

    async def test_missing_field_is_named(self, probe_app: FastAPI, client: AsyncClient) -> None:
        response = await client.post("/_probe/echo", json={"count": 1})
        body = assert_problem(response, 422, "RequestValidationFailed")
        assert [e["loc"] for e in body["errors"]] == [["body", "name"]]
        assert body["errors"][0]["type"] == "missing"

    async def test_valid_body_passes(self, probe_app: FastAPI, client: AsyncClient) -> None:
        response = await client.post("/_probe/echo", json={"name": "x", "count": 2})
        assert response.status_code == 200
        assert response.json() == {"name": "x", "count": 2}

    async def test_oversized_body_with_length_is_413(self, probe_app: FastAPI, client: AsyncClient) -> None:
        limit = probe_app.state.settings.max_body_bytes
        payload = json.dumps({"name": "x" * limit, "count": 1}).encode()
        response = await client.post("/_probe/echo", content=payload, headers={"content-type": "application/json"})
        body = assert_problem(response, 413, "PayloadTooLarge")
        assert str(limit) in body["detail"]

    async def test_oversized_streamed_body_is_413(self, probe_app: FastAPI, client: AsyncClient) -> None:
        limit = probe_app.state.settings.max_body_bytes

        async def chunks():
            yield b'{"name": "'
            for _ in range(limit // 4096 + 2):
                yield b"x" * 4096
            yield b'", "count": 1}'

        response = await client.post("/_probe/echo", content=chunks(), headers={"content-type": "application/json"})
        assert_problem(response, 413, "PayloadTooLarge")


class TestServerErrors:
    async def test_database_error_is_500_without_internals(
        self, probe_app: FastAPI, client: AsyncClient, capsys: pytest.CaptureFixture[str]
    ) -> None:
        response = await client.get("/_probe/broken", headers={"X-Request-ID": "req-db-failure-1"})
        body = assert_problem(response, 500, "InternalServerError")
        assert body["request_id"] == "req-db-failure-1"
        assert "table_that_does_not_exist" not in response.text
        assert "Traceback" not in response.text
        logged = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
        failure = [e for e in logged if e.get("event") == "unhandled_exception"]
        assert failure, "the exception must be logged"
        assert failure[0]["request_id"] == "req-db-failure-1"
        assert "table_that_does_not_exist" in failure[0]["exception"]


class TestRequestIds:
    async def test_request_id_is_echoed(self, client: AsyncClient) -> None:
        response = await client.get("/healthz", headers={"X-Request-ID": "abc-123"})
        assert response.headers["x-request-id"] == "abc-123"

    async def test_unsafe_request_id_is_replaced(self, client: AsyncClient) -> None:
        response = await client.get("/healthz", headers={"X-Request-ID": "bad id\twith spaces"})
        assert response.headers["x-request-id"] != "bad id\twith spaces"
        assert len(response.headers["x-request-id"]) == 32

    async def test_each_request_is_logged_once_as_json(
        self, client: AsyncClient, capsys: pytest.CaptureFixture[str]
    ) -> None:
        capsys.readouterr()
        await client.get("/healthz", headers={"X-Request-ID": "log-me"})
        lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
        access = [e for e in lines if e.get("event") == "request"]
        assert len(access) == 1
        entry = access[0]
        assert entry["request_id"] == "log-me"
        assert entry["method"] == "GET"
        assert entry["path"] == "/healthz"
        assert entry["status"] == 200
        assert entry["duration_ms"] >= 0
