"""Recording changes: every create, update, delete and state change writes an audit entry."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.permissions import Permission, Principal
from app.audit import repository
from app.audit.schemas import AuditAction as AuditAction
from app.audit.schemas import AuditFilters
from app.errors import PermissionDeniedError
from app.models.audit import AuditEntry
from app.pagination import Keyset, PageParams
from app.request_context import current_request_id

REDACTED = "[redacted]"
_SECRET_FIELDS = frozenset({"password_hash", "key_hash", "token_hash", "password"})


@dataclass(frozen=True)
class Actor:
    """The principal behind a change and what allowed it (a broker mandate, an API key)."""

    principal: Principal | None
    via_mandate_id: uuid.UUID | None = None

    @classmethod
    def system(cls) -> Actor:
        return cls(principal=None)


def _plain(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def diff(old: dict[str, Any], new: dict[str, Any]) -> dict[str, list[Any]]:
    """`{field: [old, new]}` for the fields whose value changed; secrets are redacted."""
    changes = {}
    for key, value in new.items():
        before = old.get(key)
        if before != value:
            if key in _SECRET_FIELDS:
                changes[key] = [REDACTED, REDACTED]
            else:
                changes[key] = [_plain(before), _plain(value)]
    return changes


def snapshot(values: dict[str, Any]) -> dict[str, list[Any]]:
    """Changes of a newly created record: every field from nothing."""
    return diff({}, {k: v for k, v in values.items() if v is not None})


def record(
    session: AsyncSession,
    actor: Actor,
    action: AuditAction,
    record_type: str,
    record_id: uuid.UUID,
    changes: dict[str, Any] | None = None,
) -> AuditEntry:
    principal = actor.principal
    entry = AuditEntry(
        actor_account_id=principal.account_id if principal else None,
        actor_organization_id=principal.organization_id if principal else None,
        via_mandate_id=actor.via_mandate_id,
        via_api_key_id=principal.api_key_id if principal else None,
        action=action.value,
        record_type=record_type,
        record_id=record_id,
        changes=changes or {},
        request_id=current_request_id(),
    )
    session.add(entry)
    return entry


async def list_entries(
    session: AsyncSession, principal: Principal, filters: AuditFilters, page: PageParams
) -> tuple[list[AuditEntry], int, Keyset | None]:
    """The audit log is for moderators and administrators."""
    if not principal.has(Permission.READ_AUDIT):
        raise PermissionDeniedError("Only moderators read the audit log.")
    return await repository.list_page(session, filters, page)
