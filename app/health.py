"""Readiness checks: each dependency the API needs to serve requests."""

from __future__ import annotations

import time
from typing import Literal

from pydantic import Field
from sqlalchemy import text

from app.db import Database, unit_of_work
from app.models.base import utcnow
from app.schema_base import ResponseModel
from app.search import repository as search_repository
from app.search.backend import SearchBackend
from app.webhooks import repository as webhook_repository

CheckStatus = Literal["ok", "failing"]


class OutboxLag(ResponseModel):
    pending: int = Field(description="Items not processed yet: index changes, or webhook deliveries.")
    oldest_pending_seconds: float | None


class CheckResult(ResponseModel):
    status: CheckStatus
    latency_ms: float | None = Field(default=None, description="How long the check took.")
    detail: str | None = Field(default=None, description="Why the check fails.")


async def check_search(backend: SearchBackend) -> CheckResult:
    started = time.perf_counter()
    healthy = await backend.health()
    latency = round((time.perf_counter() - started) * 1000, 2)
    if healthy:
        return CheckResult(status="ok", latency_ms=latency)
    return CheckResult(status="failing", latency_ms=latency, detail=f"{backend.name} does not answer")


async def outbox_lag(database: Database) -> OutboxLag:
    async with unit_of_work(database.reader) as session:
        pending, oldest = await search_repository.lag(session)
    age = round((utcnow() - oldest).total_seconds(), 3) if oldest else None
    return OutboxLag(pending=pending, oldest_pending_seconds=age)


async def webhook_lag(database: Database) -> OutboxLag:
    async with unit_of_work(database.reader) as session:
        pending, oldest = await webhook_repository.lag(session)
    age = round((utcnow() - oldest).total_seconds(), 3) if oldest else None
    return OutboxLag(pending=pending, oldest_pending_seconds=age)


async def check_database(database: Database) -> CheckResult:
    started = time.perf_counter()
    try:
        async with database.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception as exc:  # any failure means "not ready"; the reason is reported
        return CheckResult(status="failing", detail=type(exc).__name__)
    return CheckResult(status="ok", latency_ms=round((time.perf_counter() - started) * 1000, 2))
