"""Periodic jobs of the API process, each in its own unit of work (never a request's session)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import Database, unit_of_work

log = structlog.get_logger(__name__)


async def run_periodically(
    database: Database, interval_seconds: float, name: str, job: Callable[[AsyncSession], Awaitable[int]]
) -> None:
    """Run `job` every interval; a failing run is logged and retried at the next tick."""
    while True:
        try:
            async with unit_of_work(database.writer) as session:
                done = await job(session)
            if done:
                log.info("periodic_job", job=name, records=done)
        except Exception:
            log.exception("periodic_job_failed", job=name)
        await asyncio.sleep(interval_seconds)
