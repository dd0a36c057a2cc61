"""The webhook worker: fans outbox events out to endpoints, then posts due deliveries.

Fan-out: in one transaction it reads the pending webhook events of the outbox, creates one
delivery per enabled endpoint of the event's organisation that wants the type, and marks the
events processed — a crash before the commit replays them, after it nothing is lost.

Delivery: for each endpoint whose oldest pending delivery is due, it posts that one and the
ones after it, in order, stopping at the first failure (which is retried with exponential
backoff and jitter over about three days). Results are written after the posts: a crash in
between posts them again, so receivers see each message at least once and dedupe on
`webhook-id`. A 410 Gone disables the endpoint at once; a delivery that fails its last retry
disables it too, and the organisation is notified.

One worker delivers at a time: on PostgreSQL an advisory lock elects it (like the indexer).
"""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import structlog
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app import metrics
from app.config import Environment, Settings
from app.db import Database, unit_of_work
from app.models import Notification, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from app.models.base import utcnow
from app.sql import release_advisory_locks, try_advisory_lock
from app.webhooks import repository, signing
from app.webhooks.repository import DELIVERED, FAILED, PENDING
from app.webhooks.targets import Target, TargetRefused, resolve

log = structlog.get_logger(__name__)
ADVISORY_LOCK_KEY = 0x7765_6268_6F6F  # "webhoo"
# Waits before each retry: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 20 h — about three days in all.
RETRY_DELAYS = (5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 72000)
JITTER = 0.2  # each wait is stretched or shrunk by up to this share, so failed endpoints do not retry in step
EXCERPT_CHARS = 500
# A pass stops posting to one endpoint after this long, so a slow receiver holds back neither the
# recording of what was sent nor the other endpoints' next pass for more than about one timeout more.
CHAIN_SECONDS = 5.0
ENDPOINT_DISABLED = "webhook_endpoint_disabled"  # the notification kind


def retry_delay(attempts: int) -> timedelta | None:
    """The wait after the `attempts`-th failed attempt; None when no retry is left."""
    if attempts > len(RETRY_DELAYS):
        return None
    base = RETRY_DELAYS[attempts - 1]
    return timedelta(seconds=base * random.uniform(1 - JITTER, 1 + JITTER))  # noqa: S311 (jitter, not secrecy)


def active_secrets(endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    """The current secret, and the previous one while the rotation overlap lasts."""
    found = [endpoint.secret]
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret and expires is not None and expires > now:
        found.append(endpoint.previous_secret)
    return found


@dataclass
class Outcome:
    delivery_id: int
    attempted_at: datetime
    status_code: int | None
    latency_ms: int
    excerpt: str
    error: str | None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


@dataclass(frozen=True)
class Job:
    """What a post needs, read before any request leaves (no database session is held meanwhile)."""

    delivery_id: int
    message_id: str
    body: str
    url: str
    secrets: tuple[str, ...]


class WebhookWorker:
    def __init__(
        self,
        database: Database,
        settings: Settings,
        *,
        clock: Callable[[], datetime] = utcnow,
        batch_size: int = 500,
        chain_length: int = 100,
        concurrency: int = 16,
    ) -> None:
        self.database = database
        self.settings = settings
        self.clock = clock
        self.batch_size = batch_size
        self.chain_length = chain_length
        self.concurrency = concurrency
        self.client = httpx.AsyncClient(
            timeout=settings.webhook_timeout_seconds,
            follow_redirects=False,
            limits=httpx.Limits(max_connections=concurrency * 2),
            headers={"user-agent": "techex-webhooks/1", "content-type": "application/json"},
        )
        self._lock_connection: AsyncConnection | None = None

    # --- fan-out ---

    async def dispatch(self) -> int:
        """Turn one batch of webhook events into deliveries; returns how many events it handled."""
        async with unit_of_work(self.database.writer) as session:
            events = await repository.pending_events(session, self.batch_size)
            if not events:
                return 0
            payloads = [e.payload or {} for e in events]
            organizations = {uuid.UUID(p["organization_id"]) for p in payloads}
            endpoints = await repository.enabled_endpoints_of(session, organizations)
            now = self.clock()
            for payload in payloads:
                for endpoint in endpoints.get(uuid.UUID(payload["organization_id"]), []):
                    if wants(endpoint, payload):
                        session.add(self._delivery(endpoint, payload, now))
            await repository.mark_processed(session, [e.id for e in events], now)
            return len(events)

    def _delivery(self, endpoint: WebhookEndpoint, payload: dict[str, Any], now: datetime) -> WebhookDelivery:
        return WebhookDelivery(
            endpoint_id=endpoint.id,
            message_id=payload["message_id"],
            event_type=payload["type"],
            body=render(payload, self.settings.public_base_url),
            status=PENDING,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )

    # --- delivery ---

    async def deliver_due(self) -> int:
        """Post the due deliveries, in order per endpoint; returns how many attempts were made."""
        now = self.clock()
        async with unit_of_work(self.database.reader) as session:
            chains = await repository.due_chains(session, now, self.concurrency * 4, self.chain_length)
            if not chains:
                return 0
            found = await repository.deliveries(session, [i for chain in chains for i in chain])
            endpoints = await repository.endpoints(session, {d.endpoint_id for d in found.values()})
            jobs = [
                [
                    Job(
                        d.id,
                        d.message_id,
                        d.body,
                        endpoints[d.endpoint_id].url,
                        tuple(active_secrets(endpoints[d.endpoint_id], now)),
                    )
                    for d in (found[i] for i in chain)
                ]
                for chain in chains
            ]
        semaphore = asyncio.Semaphore(self.concurrency)

        async def run_chain(chain: list[Job]) -> list[Outcome]:
            async with semaphore:
                outcomes: list[Outcome] = []
                started = time.monotonic()
                for job in chain:
                    outcome = await self.post(job)
                    outcomes.append(outcome)
                    if not outcome.succeeded or time.monotonic() - started > CHAIN_SECONDS:
                        break
                return outcomes

        results = await asyncio.gather(*(run_chain(chain) for chain in jobs))
        outcomes = [o for chain in results for o in chain]
        await self._record(outcomes)
        return len(outcomes)

    async def post(self, job: Job) -> Outcome:
        """One signed POST; never raises for the receiver's sake (its failure is the outcome)."""
        attempted_at = self.clock()
        started = time.perf_counter()
        status_code, excerpt, error = None, "", None
        try:
            target = await resolve(
                job.url,
                require_https=self.settings.environment is Environment.PRODUCTION,
                allow_private=self.settings.webhook_allow_private_targets,
            )
            # Signed with the wall clock, whatever the scheduling clock says: receivers check it.
            headers = signing.headers(job.message_id, utcnow(), job.body, list(job.secrets))
            for number, address in enumerate(target.addresses, 1):
                url, extra_headers, extensions = pinned(target, address)
                try:
                    response = await self.client.post(
                        url, content=job.body.encode(), headers={**headers, **extra_headers}, extensions=extensions
                    )
                    break
                except httpx.ConnectError:
                    if number == len(target.addresses):
                        raise  # no address answered (the next is tried like a browser would)
            status_code, excerpt = response.status_code, response.text[:EXCERPT_CHARS]
        except TargetRefused as refused:
            error = f"refused: {refused}"
        except httpx.TimeoutException:
            error = "timeout"
        except httpx.HTTPError as failure:
            error = f"{type(failure).__name__}: {failure}"[:200]
        latency_ms = round((time.perf_counter() - started) * 1000)
        return Outcome(job.delivery_id, attempted_at, status_code, latency_ms, excerpt, error)

    async def _record(self, outcomes: list[Outcome]) -> None:
        counted: list[tuple[str, float]] = []  # (outcome, seconds), counted in /metrics once written
        async with unit_of_work(self.database.writer) as session:
            found = await repository.deliveries(session, [o.delivery_id for o in outcomes])
            endpoints = await repository.endpoints(session, {d.endpoint_id for d in found.values()})
            for outcome in outcomes:
                delivery = found.get(outcome.delivery_id)
                if delivery is None:
                    continue  # the endpoint was deleted meanwhile
                session.add(
                    WebhookAttempt(
                        delivery_id=delivery.id,
                        attempted_at=outcome.attempted_at,
                        status_code=outcome.status_code,
                        latency_ms=outcome.latency_ms,
                        response_excerpt=outcome.excerpt,
                        error=outcome.error,
                        succeeded=outcome.succeeded,
                    )
                )
                if delivery.status != PENDING:
                    continue
                delivery.attempts += 1
                endpoint = endpoints[delivery.endpoint_id]
                seconds = outcome.latency_ms / 1000
                if outcome.succeeded:
                    delivery.status, delivery.finished_at = DELIVERED, outcome.attempted_at
                    counted.append(("delivered", seconds))
                elif outcome.status_code == 410:
                    delivery.status, delivery.finished_at = FAILED, outcome.attempted_at
                    disable(session, endpoint, "gone", outcome.attempted_at)
                    counted.append(("gave_up", seconds))
                elif (delay := retry_delay(delivery.attempts)) is None:
                    delivery.status, delivery.finished_at = FAILED, outcome.attempted_at
                    disable(session, endpoint, "failing", outcome.attempted_at)
                    counted.append(("gave_up", seconds))
                else:
                    delivery.next_attempt_at = outcome.attempted_at + delay
                    counted.append(("failed", seconds))
        for label, seconds in counted:
            metrics.record_webhook_delivery(label, seconds)

    async def run_once(self) -> int:
        dispatched = await self.dispatch()
        return dispatched + await self.deliver_due()

    async def drain(self) -> None:
        """Fan out and deliver until nothing is due (tests and benchmarks)."""
        while await self.run_once():
            pass

    # --- the loop ---

    async def is_leader(self) -> bool:
        if self.database.engine.dialect.name != "postgresql":
            return True
        try:
            if self._lock_connection is None:
                self._lock_connection = await self.database.engine.connect()
                await self._lock_connection.execution_options(isolation_level="AUTOCOMMIT")
            return await try_advisory_lock(self._lock_connection, ADVISORY_LOCK_KEY)
        except Exception:
            await self._release()
            raise

    async def run_forever(self, poll_seconds: float = 0.2) -> None:
        """Dispatch and deliver continuously; a database hiccup is logged and retried."""
        while True:
            try:
                if not await self.is_leader():
                    await asyncio.sleep(1.0)
                    continue
                if not await self.run_once():
                    await asyncio.sleep(poll_seconds)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("webhook_worker_retry")
                await asyncio.sleep(5.0)

    async def _release(self) -> None:
        if self._lock_connection is not None:
            connection, self._lock_connection = self._lock_connection, None
            try:
                await release_advisory_locks(connection)
            except Exception:
                await connection.invalidate()
            await connection.close()

    async def close(self) -> None:
        await self._release()
        await self.client.aclose()


def wants(endpoint: WebhookEndpoint, payload: dict[str, Any]) -> bool:
    """Pings go to the endpoint they name only; other events to endpoints subscribed to them (or to all)."""
    if payload.get("endpoint_id") is not None:
        return str(endpoint.id) == str(payload["endpoint_id"])
    return bool(not endpoint.event_types or payload["type"] in endpoint.event_types)


def render(payload: dict[str, Any], base_url: str) -> str:
    """The JSON body: `type`, `timestamp` and `data` with the resource's URL."""
    data = {**payload["data"], "url": base_url.rstrip("/") + payload["path"]}
    return json.dumps(
        {"type": payload["type"], "timestamp": payload["timestamp"], "data": data},
        separators=(",", ":"),
        ensure_ascii=False,
    )


def pinned(target: Target, checked: str) -> tuple[str, dict[str, str], dict[str, Any]]:
    """Connect to an address that was checked, presenting the host name in `Host` and TLS SNI."""
    parts = urlsplit(target.url)
    if parts.hostname == checked:
        return target.url, {}, {}
    address = f"[{checked}]" if ":" in checked else checked
    netloc = f"{address}:{parts.port}" if parts.port else address
    url = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
    return url, {"host": parts.netloc.rsplit("@", 1)[-1]}, {"sni_hostname": target.host}


def disable(session: AsyncSession, endpoint: WebhookEndpoint, reason: str, now: datetime) -> None:
    """Stop delivering to the endpoint and tell its organisation (its admins re-enable it)."""
    if not endpoint.enabled:
        return
    endpoint.enabled, endpoint.disabled_reason, endpoint.disabled_at = False, reason, now
    session.add(
        Notification(
            organization_id=endpoint.organization_id,
            kind=ENDPOINT_DISABLED,
            payload={"endpoint_id": str(endpoint.id), "url": endpoint.url, "reason": reason},
        )
    )
    log.warning("webhook_endpoint_disabled", endpoint_id=str(endpoint.id), reason=reason)
