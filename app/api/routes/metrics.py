"""Prometheus exposition for operators (not part of the public API contract, so not in the OpenAPI)."""

from __future__ import annotations

import hmac

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.config import Environment, Settings
from app.errors import AuthenticationError, NotFoundError
from app.health import outbox_lag
from app.metrics import OUTBOX_OLDEST, OUTBOX_PENDING, exposition

log = structlog.get_logger(__name__)
router = APIRouter(include_in_schema=False)


def _allowed(settings: Settings, authorization: str | None) -> None:
    """With METRICS_TOKEN set, only its bearer scrapes; production without one does not expose metrics."""
    if settings.metrics_token is None:
        if settings.environment is Environment.PRODUCTION:
            raise NotFoundError("Metrics are served in production only with METRICS_TOKEN set.")
        return
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.encode(), settings.metrics_token.encode()):
        raise AuthenticationError("Send the metrics token as `Authorization: Bearer <METRICS_TOKEN>`.")


@router.get("/metrics", summary="Prometheus metrics")
async def get_metrics(request: Request) -> Response:
    """Request rates and latencies, pool use, outbox lag, indexer, search, matching and scheduler figures."""
    settings: Settings = request.app.state.settings
    _allowed(settings, request.headers.get("authorization"))
    try:
        lag = await outbox_lag(request.app.state.database)
    except Exception:  # the database is down: the other figures still say why
        log.warning("metrics_outbox_lag_unavailable", exc_info=True)
    else:
        OUTBOX_PENDING.set(lag.pending)
        OUTBOX_OLDEST.set(lag.oldest_pending_seconds or 0)
    body, content_type = exposition(settings.prometheus_multiproc_dir)
    return Response(body, media_type=content_type)
