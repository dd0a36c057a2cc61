"""Readiness checks: each dependency the API needs to serve requests."""

from __future__ import annotations

import time
from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy import text

from app.db import Database

CheckStatus = Literal["ok", "failing"]


class CheckResult(BaseModel):
    status: CheckStatus
    latency_ms: float | None = Field(default=None, description="How long the check took.")
    detail: str | None = Field(default=None, description="Why the check fails.")


async def check_database(database: Database) -> CheckResult:
    started = time.perf_counter()
    try:
        async with database.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception as exc:  # any failure means "not ready"; the reason is reported
        return CheckResult(status="failing", detail=type(exc).__name__)
    return CheckResult(status="ok", latency_ms=round((time.perf_counter() - started) * 1000, 2))
