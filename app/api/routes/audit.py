"""The audit log, for moderators."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import StringConstraints

from app.api.deps import CurrentPrincipal, SessionDep
from app.api.idempotency import ExchangeRoute
from app.audit import service as audit_service
from app.audit.schemas import AuditEntryRead, AuditFilters
from app.errors import problem_responses
from app.pagination import ANY_OF, MAX_VALUES, KeysetPageDep, LinksDep, Page
from app.validation import Timestamp

router = APIRouter(prefix="/audit", tags=["audit"], route_class=ExchangeRoute)


@router.get(
    "",
    summary="Read the audit log",
    response_model=Page[AuditEntryRead],
    responses=problem_responses(401, 403, 422),
)
async def list_audit_entries(
    principal: CurrentPrincipal,
    session: SessionDep,
    page: KeysetPageDep,
    links: LinksDep,
    record_type: Annotated[
        list[Annotated[str, StringConstraints(max_length=64)]] | None,
        Query(max_length=MAX_VALUES, description=f"e.g. `organization`. {ANY_OF}"),
    ] = None,
    record_id: Annotated[uuid.UUID | None, Query()] = None,
    actor_account_id: Annotated[uuid.UUID | None, Query()] = None,
    actor_organization_id: Annotated[uuid.UUID | None, Query()] = None,
    since: Annotated[Timestamp | None, Query(description="From this time (inclusive).")] = None,
    until: Annotated[Timestamp | None, Query(description="Before this time.")] = None,
) -> Page[AuditEntryRead]:
    """Who changed what and when, newest first, filtered by record or actor."""
    filters = AuditFilters(
        record_type=record_type,
        record_id=record_id,
        actor_account_id=actor_account_id,
        actor_organization_id=actor_organization_id,
        since=since,
        until=until,
    )
    items, total, last = await audit_service.list_entries(session, principal, filters, page)
    return links(Page.of([AuditEntryRead.model_validate(e) for e in items], total, page, last_key=last))
