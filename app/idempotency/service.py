"""`Idempotency-Key` on POST: a retried request gets the first response instead of a duplicate.

The record is written in the same transaction as the thing it created, so a
replay exists exactly when the creation committed. The same key with a
different body is refused, since the client has confused two requests.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import InvalidInputError
from app.idempotency import repository
from app.models import IdempotencyRecord
from app.models.base import utcnow

REPLAY_HEADER = "Idempotent-Replayed"


class IdempotencyKeyReusedError(InvalidInputError):
    code = "IdempotencyKeyReused"
    title = "This Idempotency-Key was used with a different request"


@dataclass
class StoredResponse:
    status_code: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    replayed: bool = False


def fingerprint(method: str, path: str, body: Any) -> str:
    canonical = json.dumps([method, path, body], sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


async def run_once(
    session: AsyncSession,
    *,
    scope: str,
    key: str | None,
    request_fingerprint: str,
    produce: Callable[[], Awaitable[StoredResponse]],
) -> StoredResponse:
    """Run `produce` unless this key already ran; then return what it returned the first time."""
    if key is None:
        return await produce()
    record = await repository.get(session, scope, key)
    if record is not None:
        if record.request_hash != request_fingerprint:
            raise IdempotencyKeyReusedError.for_field(
                ["header", "Idempotency-Key"],
                "already used with a different request body",
                "idempotency_conflict",
            )
        return StoredResponse(record.status_code, record.body, dict(record.headers), replayed=True)
    response = await produce()
    session.add(
        IdempotencyRecord(
            scope=scope,
            key=key,
            request_hash=request_fingerprint,
            status_code=response.status_code,
            body=response.body,
            headers=response.headers,
            created_at=utcnow(),
        )
    )
    await session.flush()
    return response
