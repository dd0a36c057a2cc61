"""Traces: one request is one trace from the HTTP server span down to its SQL statements."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from httpx import ASGITransport, AsyncClient
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from app.main import create_app
from app.search.embedded import EmbeddedBackend
from tests.conftest import BASE_URL, make_settings

CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"


@pytest.fixture
async def traced(live_database_url: str, tmp_path: Path) -> AsyncIterator[tuple[AsyncClient, InMemorySpanExporter]]:
    """The app with a tracer provider that keeps finished spans in memory, on a fresh migrated database."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    search = EmbeddedBackend(tmp_path / "index")
    app = create_app(make_settings(live_database_url), search=search, tracer_provider=provider)
    try:
        async with (
            app.router.lifespan_context(app),
            AsyncClient(transport=ASGITransport(app=app), base_url=BASE_URL) as http,
        ):
            yield http, exporter
    finally:
        await search.close()  # the lifespan closes only a backend it created


async def test_one_trace_from_the_api_to_the_database(
    traced: tuple[AsyncClient, InMemorySpanExporter], capsys: pytest.CaptureFixture[str]
) -> None:
    http, exporter = traced
    exporter.clear()
    response = await http.get("/api/v1/offers", headers={"traceparent": f"00-{CALLER_TRACE}-{CALLER_SPAN}-01"})
    assert response.status_code == 200
    spans = exporter.get_finished_spans()
    server = [s for s in spans if s.kind is SpanKind.SERVER]
    database = [
        s for s in spans if s.kind is SpanKind.CLIENT and {"db.system", "db.system.name"} & set(s.attributes or {})
    ]
    assert len(server) == 1
    assert (server[0].attributes or {}).get("http.route") == "/api/v1/offers"
    assert database, [s.name for s in spans]
    # The caller's trace continues: the server span's parent is the caller's span.
    assert {f"{s.context.trace_id:032x}" for s in spans} == {CALLER_TRACE}
    assert server[0].parent is not None
    assert f"{server[0].parent.span_id:016x}" == CALLER_SPAN
    by_id = {s.context.span_id: s for s in spans}
    for statement in database:
        ancestor = statement
        while ancestor.parent is not None and ancestor.parent.span_id in by_id:
            ancestor = by_id[ancestor.parent.span_id]
        assert ancestor is server[0], f"{statement.name} is not under the request's span"

    access = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"techex.access"' in line]
    assert access
    assert access[-1]["trace_id"] == CALLER_TRACE
    assert access[-1]["traceparent"].startswith(f"00-{CALLER_TRACE}-")


async def test_nothing_is_traced_when_no_collector_is_configured(live_client: AsyncClient) -> None:
    from opentelemetry import trace

    assert isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)
    assert (await live_client.get("/api/v1/offers")).status_code == 200
