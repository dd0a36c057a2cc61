"""Webhook tests: the app may post to 127.0.0.1, a clock the tests move, a worker and a real receiver."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.models.base import utcnow
from app.webhooks.delivery import WebhookWorker
from tests.conftest import make_settings
from tests.helpers import Registered, expect, make_staff
from tests.webhooks.receiver import Receiver

PUBLIC_BASE_URL = "https://api.techex.example"


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url, webhook_allow_private_targets=True, public_base_url=PUBLIC_BASE_URL)


class Clock:
    """The worker's scheduling clock, the real one moved forward: retries fall due when the test says so."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return utcnow() + self.offset

    @property
    def now(self) -> datetime:
        return self()

    def advance(self, **delta: float) -> None:
        self.offset += timedelta(**delta)

    def to(self, moment: datetime) -> None:
        self.offset += max(timedelta(0), moment - self())


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def worker(app: FastAPI, settings: Settings, clock: Clock) -> AsyncIterator[WebhookWorker]:
    webhook_worker = WebhookWorker(app.state.database, settings, clock=clock)
    yield webhook_worker
    await webhook_worker.close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver().start()
    yield server
    server.stop()


@pytest.fixture
async def moderator(client: AsyncClient, session: AsyncSession) -> Registered:
    return await make_staff(client, session, "moderator")


async def register_endpoint(client: AsyncClient, admin: Registered, receiver: Receiver, **body: Any) -> dict[str, Any]:
    """An endpoint of the admin's organisation posting to the receiver, which learns its secret."""
    created = expect(
        await client.post("/api/v1/webhook-endpoints", json={"url": receiver.url, **body}, headers=admin.headers),
        201,
    )
    receiver.secrets.append(created["secret"])
    return created


async def deliveries(client: AsyncClient, admin: Registered, endpoint_id: str) -> list[dict[str, Any]]:
    page = expect(
        await client.get(f"/api/v1/webhook-endpoints/{endpoint_id}/deliveries?limit=100", headers=admin.headers), 200
    )
    items: list[dict[str, Any]] = page["items"]
    return items
