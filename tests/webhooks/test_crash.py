"""The worker killed mid-delivery: every event still reaches the receiver, at least once, in order.

`techex worker` runs as in production, in a process of its own on a file database (SQLite) or a
PostgreSQL database; it is killed with SIGKILL while the receiver is busy with its deliveries,
then started again.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import func, select

from app.db import Database, unit_of_work
from app.models import OutboxEvent, WebhookDelivery, WebhookEndpoint
from app.webhooks.events import emit
from app.webhooks.signing import new_secret
from tests.helpers import register
from tests.webhooks.receiver import Receiver

EVENTS = 60


def start_worker(database_url: str, tmp_path: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "INDEX_DIR": str(tmp_path / "index"),
        "WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",
        "EXPIRY_SWEEP_SECONDS": "0",
        "LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "app.cli", "worker"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def wait_for(condition: Callable[[], bool], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


@pytest.mark.slow
async def test_a_worker_killed_mid_delivery_loses_no_event(
    live_app: FastAPI, live_client: AsyncClient, live_database: Database, live_database_url: str, tmp_path: Path
) -> None:
    receiver = Receiver(delay=0.03).start()
    try:
        admin = await register(live_client)
        organization_id = uuid.UUID(admin.organization_id)
        secret = new_secret()
        receiver.secrets.append(secret)
        async with unit_of_work(live_database.writer) as session:
            session.add(WebhookEndpoint(organization_id=organization_id, url=receiver.url, secret=secret))
        resources = [uuid.uuid4() for _ in range(EVENTS)]
        async with unit_of_work(live_database.writer) as session:
            message_ids = [emit(session, organization_id, "deal.created", r) for r in resources]

        worker = start_worker(live_database_url, tmp_path)
        try:
            await wait_for(lambda: receiver.requests >= EVENTS // 4, 90)
        finally:
            worker.send_signal(signal.SIGKILL)
            worker.wait(10)
        assert receiver.requests < EVENTS, "the worker was killed after it had finished"
        killed_after = receiver.requests

        async def delivered() -> int:
            async with unit_of_work(live_database.reader) as session:
                done = await session.scalar(
                    select(func.count()).select_from(WebhookDelivery).where(WebhookDelivery.status == "delivered")
                )
                return int(done or 0)

        worker = start_worker(live_database_url, tmp_path)
        try:
            deadline = time.monotonic() + 90
            while await delivered() < EVENTS:
                assert time.monotonic() < deadline, "the restarted worker did not finish"
                await asyncio.sleep(0.1)
        finally:
            worker.terminate()
            worker.wait(10)

        seen = [r.message_id for r in receiver.received]
        assert set(seen) == set(message_ids)  # none lost
        assert len(seen) >= EVENTS
        assert receiver.requests > killed_after
        first_arrivals = list(dict.fromkeys(seen))
        assert first_arrivals == message_ids  # in order
        assert all(r.verified_with == [secret] for r in receiver.received)
        async with unit_of_work(live_database.reader) as session:
            pending = await session.scalar(
                select(func.count()).select_from(OutboxEvent).where(OutboxEvent.processed_at.is_(None))
            )
        assert pending == 0
    finally:
        receiver.stop()
