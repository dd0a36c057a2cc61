"""Liveness and readiness probes for load balancers and orchestrators."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict

from app import __version__
from app.errors import problem_response, problem_responses
from app.health import CheckResult, check_database

router = APIRouter(tags=["health"])


class Liveness(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"status": "ok", "version": "0.1.0"}]})

    status: Literal["ok"]
    version: str


class Readiness(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"status": "ready", "checks": {"database": {"status": "ok", "latency_ms": 0.8}}}]
        }
    )

    status: Literal["ready"]
    checks: dict[str, CheckResult]


@router.get("/healthz", summary="Liveness probe", response_model=Liveness)
async def get_liveness() -> Liveness:
    """Answer 200 while the process is alive; touches no dependency."""
    return Liveness(status="ok", version=__version__)


@router.get(
    "/readyz",
    summary="Readiness probe",
    response_model=Readiness,
    responses=problem_responses(503),
)
async def get_readiness(request: Request) -> Readiness | JSONResponse:
    """Answer 200 when every dependency answers, else 503 with the failing checks."""
    checks = {"database": await check_database(request.app.state.database)}
    if all(check.status == "ok" for check in checks.values()):
        return Readiness(status="ready", checks=checks)
    return problem_response(
        status=503,
        code="NotReady",
        title="Service not ready",
        detail="A dependency of the service is failing.",
        instance=request.url.path,
        extensions={"checks": {name: c.model_dump() for name, c in checks.items()}},
    )
