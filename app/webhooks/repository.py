"""Queries of the webhook side: endpoints, the outbox's webhook events, deliveries and attempts."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime

from sqlalchemy import and_, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.models import OutboxEvent, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from app.pagination import PageParams, paginate
from app.webhooks.events import TOPIC

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"


async def get_endpoint(session: AsyncSession, endpoint_id: uuid.UUID, *, lock: bool = False) -> WebhookEndpoint | None:
    return await session.get(WebhookEndpoint, endpoint_id, with_for_update=lock or None)


async def list_endpoints(
    session: AsyncSession, organization_id: uuid.UUID, page: PageParams
) -> tuple[list[WebhookEndpoint], int]:
    statement = (
        select(WebhookEndpoint)
        .where(WebhookEndpoint.organization_id == organization_id)
        .order_by(WebhookEndpoint.created_at, WebhookEndpoint.id)
    )
    return await paginate(session, statement, page)


async def enabled_endpoints_of(
    session: AsyncSession, organization_ids: set[uuid.UUID]
) -> dict[uuid.UUID, list[WebhookEndpoint]]:
    rows = await session.scalars(
        select(WebhookEndpoint)
        .where(WebhookEndpoint.organization_id.in_(organization_ids), WebhookEndpoint.enabled.is_(True))
        .order_by(WebhookEndpoint.created_at, WebhookEndpoint.id)
    )
    found: dict[uuid.UUID, list[WebhookEndpoint]] = defaultdict(list)
    for endpoint in rows:
        found[endpoint.organization_id].append(endpoint)
    return found


async def pending_events(session: AsyncSession, limit: int) -> list[OutboxEvent]:
    statement = (
        select(OutboxEvent)
        .where(OutboxEvent.processed_at.is_(None), OutboxEvent.index_name == TOPIC)
        .order_by(OutboxEvent.id)
        .limit(limit)
    )
    return list((await session.scalars(statement)).all())


async def mark_processed(session: AsyncSession, event_ids: list[int], now: datetime) -> None:
    await session.execute(update(OutboxEvent).where(OutboxEvent.id.in_(event_ids)).values(processed_at=now))


async def due_chains(session: AsyncSession, now: datetime, endpoints: int, per_endpoint: int) -> list[list[int]]:
    """For each enabled endpoint whose oldest pending delivery is due, its pending deliveries in order.

    Deliveries of one endpoint go out in order: a later one waits while an earlier one is retried.
    """
    head = aliased(WebhookDelivery)
    oldest = (
        select(head.endpoint_id, func.min(head.id).label("head_id"))
        .where(head.status == PENDING)
        .group_by(head.endpoint_id)
        .subquery()
    )
    heads = (
        await session.execute(
            select(oldest.c.endpoint_id)
            .join(WebhookDelivery, WebhookDelivery.id == oldest.c.head_id)
            .join(WebhookEndpoint, WebhookEndpoint.id == oldest.c.endpoint_id)
            .where(WebhookEndpoint.enabled.is_(True), WebhookDelivery.next_attempt_at <= now)
            .order_by(oldest.c.head_id)
            .limit(endpoints)
        )
    ).all()
    chains = []
    for (endpoint_id,) in heads:
        ids = await session.scalars(
            select(WebhookDelivery.id)
            .where(WebhookDelivery.endpoint_id == endpoint_id, WebhookDelivery.status == PENDING)
            .order_by(WebhookDelivery.id)
            .limit(per_endpoint)
        )
        chains.append(list(ids))
    return chains


async def deliveries(session: AsyncSession, ids: list[int]) -> dict[int, WebhookDelivery]:
    rows = await session.scalars(select(WebhookDelivery).where(WebhookDelivery.id.in_(ids)))
    return {row.id: row for row in rows}


async def endpoints(session: AsyncSession, ids: set[uuid.UUID]) -> dict[uuid.UUID, WebhookEndpoint]:
    rows = await session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.id.in_(ids)))
    return {row.id: row for row in rows}


async def list_deliveries(
    session: AsyncSession, endpoint_id: uuid.UUID, status: list[str] | None, page: PageParams
) -> tuple[list[WebhookDelivery], int]:
    conditions = [WebhookDelivery.endpoint_id == endpoint_id]
    if status:
        conditions.append(WebhookDelivery.status.in_(status))
    statement = select(WebhookDelivery).where(and_(*conditions)).order_by(WebhookDelivery.id.desc())
    return await paginate(session, statement, page)


async def attempts_of(session: AsyncSession, delivery_ids: list[int]) -> dict[int, list[WebhookAttempt]]:
    rows = await session.scalars(
        select(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(delivery_ids)).order_by(WebhookAttempt.id)
    )
    found: dict[int, list[WebhookAttempt]] = defaultdict(list)
    for attempt in rows:
        found[attempt.delivery_id].append(attempt)
    return found


async def get_delivery(session: AsyncSession, delivery_id: int) -> WebhookDelivery | None:
    return await session.get(WebhookDelivery, delivery_id)


async def lag(session: AsyncSession) -> tuple[int, datetime | None]:
    """Deliveries not delivered yet (retries included) and the creation time of the oldest."""
    row = (
        await session.execute(
            select(func.count(), func.min(WebhookDelivery.created_at)).where(WebhookDelivery.status == PENDING)
        )
    ).one()
    return int(row[0]), row[1]
