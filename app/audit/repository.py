"""Queries on the audit log."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.schemas import AuditFilters
from app.models import AuditEntry
from app.pagination import Keyset, PageParams, paginate_keyset


async def list_page(
    session: AsyncSession, filters: AuditFilters, page: PageParams
) -> tuple[list[AuditEntry], int, Keyset | None]:
    statement = select(AuditEntry)
    if filters.record_type:
        statement = statement.where(AuditEntry.record_type.in_(filters.record_type))
    for column, value in (
        (AuditEntry.record_id, filters.record_id),
        (AuditEntry.actor_account_id, filters.actor_account_id),
        (AuditEntry.actor_organization_id, filters.actor_organization_id),
    ):
        if value is not None:
            statement = statement.where(column == value)
    if filters.since is not None:
        statement = statement.where(AuditEntry.occurred_at >= filters.since)
    if filters.until is not None:
        statement = statement.where(AuditEntry.occurred_at < filters.until)
    return await paginate_keyset(session, statement, page, (AuditEntry.occurred_at, AuditEntry.id), descending=True)
