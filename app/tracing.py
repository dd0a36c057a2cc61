"""OpenTelemetry traces: FastAPI, SQLAlchemy and httpx, exported over OTLP/HTTP.

Off (and nothing instrumented) unless OTEL_EXPORTER_OTLP_ENDPOINT is set or a test hands in its
own tracer provider. When on, an incoming `traceparent` continues the caller's trace, outgoing
httpx calls carry it on, and every log line written inside a request has `trace_id`, `span_id`
and the `traceparent` to find the trace from the log.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from sqlalchemy.ext.asyncio import AsyncEngine

from app import __version__
from app.config import Settings

# Probes and scrapes every few seconds would drown the traces that matter.
EXCLUDED_URLS = "healthz,readyz,metrics"


def provider_from_settings(settings: Settings) -> TracerProvider | None:
    """A provider exporting to the configured collector, or None when tracing is off."""
    endpoint = settings.otel_exporter_otlp_endpoint
    if not endpoint:
        return None
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    resource = Resource.create({"service.name": settings.otel_service_name, "service.version": __version__})
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{endpoint.rstrip('/')}/v1/traces")))
    return provider


def instrument_app(app: FastAPI, provider: TracerProvider) -> None:
    """Server spans for every request (outermost, so the request's own log lines carry the trace)."""
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    FastAPIInstrumentor.instrument_app(
        app, tracer_provider=provider, excluded_urls=EXCLUDED_URLS, exclude_spans=["receive", "send"]
    )


def instrument_clients(engine: AsyncEngine, provider: TracerProvider) -> None:
    """Client spans for SQL statements on `engine` and for every httpx request (with `traceparent`)."""
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

    # Its declared range stops below SQLAlchemy 2.1, whose engine events it uses are unchanged
    # (tests/ops/test_tracing.py sees the statements' spans).
    SQLAlchemyInstrumentor().instrument(engine=engine.sync_engine, tracer_provider=provider, skip_dep_check=True)
    HTTPXClientInstrumentor().instrument(tracer_provider=provider)


def uninstrument_clients(provider: TracerProvider) -> None:
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

    SQLAlchemyInstrumentor().uninstrument()
    HTTPXClientInstrumentor().uninstrument()
    provider.force_flush()


def add_trace_context(_logger: Any, _method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """structlog processor: the current span's ids and W3C `traceparent`, when a span is recording."""
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        trace_id, span_id = f"{context.trace_id:032x}", f"{context.span_id:016x}"
        event_dict.setdefault("trace_id", trace_id)
        event_dict.setdefault("span_id", span_id)
        event_dict.setdefault("traceparent", f"00-{trace_id}-{span_id}-{int(context.trace_flags):02x}")
    return event_dict
