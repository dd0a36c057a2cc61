"""Periodic jobs of the API process, each in its own unit of work (never a request's session)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import Database, unit_of_work
from app.metrics import PERIODIC_DURATION, PERIODIC_LAST_SUCCESS, PERIODIC_RUNS

log = structlog.get_logger(__name__)


async def run_periodically(
    database: Database, interval_seconds: float, name: str, job: Callable[[AsyncSession], Awaitable[int]]
) -> None:
    """Run `job` every interval; a failing run is logged and retried at the next tick."""
    while True:
        started = time.perf_counter()
        try:
            async with unit_of_work(database.writer) as session:
                done = await job(session)
            if done:
                log.info("periodic_job", job=name, records=done)
            PERIODIC_RUNS.labels(name, "ok").inc()
            PERIODIC_LAST_SUCCESS.labels(name).set(time.time())
        except Exception:
            log.exception("periodic_job_failed", job=name)
            PERIODIC_RUNS.labels(name, "failed").inc()
        PERIODIC_DURATION.labels(name).observe(time.perf_counter() - started)
        await asyncio.sleep(interval_seconds)
