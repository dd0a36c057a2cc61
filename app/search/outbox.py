"""Writing to the outbox: call `enqueue` in the same transaction as the change it announces."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from app.models import OutboxEvent
from app.search.index_config import DEMANDS, EXPERTS, OFFERS, ORGANIZATIONS

INDEX_OF_KIND = {"offer": OFFERS, "demand": DEMANDS}


def enqueue(session: AsyncSession, index_name: str, record_id: uuid.UUID) -> None:
    session.add(OutboxEvent(index_name=index_name, record_id=record_id))


def listing_changed(session: AsyncSession, kind: str, listing_id: uuid.UUID) -> None:
    enqueue(session, INDEX_OF_KIND[kind], listing_id)


def organization_changed(session: AsyncSession, organization_id: uuid.UUID) -> None:
    enqueue(session, ORGANIZATIONS, organization_id)


def expert_changed(session: AsyncSession, expert_id: uuid.UUID) -> None:
    enqueue(session, EXPERTS, expert_id)
