"""Structured logs: one JSON object per line, with the request id and the trace context bound in."""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog

from app.request_context import current_request_id
from app.tracing import add_trace_context


def _add_request_id(_logger: Any, _method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    request_id = current_request_id()
    if request_id is not None:
        event_dict.setdefault("request_id", request_id)
    return event_dict


class _StdoutHandler(logging.StreamHandler):
    """Writes to the current `sys.stdout`, even when it was replaced after start-up."""

    @property
    def stream(self) -> Any:
        return sys.stdout

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


def configure_logging(level: str = "INFO", *, json: bool = True) -> None:
    """Route structlog and the standard library (uvicorn, SQLAlchemy) through one formatter."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        _add_request_id,
        add_trace_context,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    renderer: Any = structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ],
    )
    handler = _StdoutHandler()
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level.upper())
    # Requests are logged once, by RequestContextMiddleware, with the request id.
    logging.getLogger("uvicorn.access").disabled = True
    # Outgoing HTTP calls (search backend) are not worth a line each.
    logging.getLogger("httpx").setLevel(logging.WARNING)
