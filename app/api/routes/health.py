"""Liveness and readiness probes for load balancers and orchestrators."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import ConfigDict, Field

from app import __version__
from app.errors import NOT_READY, problem_response, problem_responses
from app.health import CheckResult, OutboxLag, check_database, check_search, outbox_lag, webhook_lag
from app.schema_base import ResponseModel

router = APIRouter(tags=["health"])


class Liveness(ResponseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"status": "ok", "version": "0.1.0"}]})

    status: Literal["ok"]
    version: str


class Readiness(ResponseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "status": "ready",
                    "checks": {
                        "database": {"status": "ok", "latency_ms": 0.8},
                        "search": {"status": "ok", "latency_ms": 0.3},
                    },
                    "outbox": {"pending": 0, "oldest_pending_seconds": None},
                    "webhooks": {"pending": 3, "oldest_pending_seconds": 4.2},
                }
            ]
        }
    )

    status: Literal["ready"]
    checks: dict[str, CheckResult] = Field(description="`database` decides readiness; `search` is reported.")
    outbox: OutboxLag | None = Field(default=None, description="Search index lag.")
    webhooks: OutboxLag | None = Field(
        default=None, description="Webhook deliveries not delivered yet (waiting retries included)."
    )


@router.get("/healthz", summary="Liveness probe", response_model=Liveness)
async def get_liveness() -> Liveness:
    """Answer 200 while the process is alive; touches no dependency."""
    return Liveness(status="ok", version=__version__)


@router.get(
    "/readyz",
    summary="Readiness probe",
    response_model=Readiness,
    responses=problem_responses(NOT_READY),
)
async def get_readiness(request: Request) -> Readiness | JSONResponse:
    """Answer 200 while the database answers (writes work even when search is down), else 503.

    The search backend, the outbox lag and the webhook backlog are reported, not required: an
    index that lags catches up by itself, and receivers that fail are retried.
    """
    checks = {
        "database": await check_database(request.app.state.database),
        "search": await check_search(request.app.state.search),
    }
    if checks["database"].status == "ok":
        database = request.app.state.database
        return Readiness(
            status="ready", checks=checks, outbox=await outbox_lag(database), webhooks=await webhook_lag(database)
        )
    return problem_response(
        status=503,
        code="NotReady",
        title="Service not ready",
        detail="A dependency of the service is failing.",
        instance=request.url.path,
        extensions={"checks": {name: c.model_dump() for name, c in checks.items()}},
    )
