"""`Idempotency-Key` on POST: a retried request gets the first response instead of a duplicate.

The record is written in the same transaction as the thing it created, so a
replay exists exactly when the creation committed. The same key with a
different body is refused, since the client has confused two requests.

A response that carries a secret shown once (an API key, an invitation or
sign-in tokens, answered with `Cache-Control: no-store`) is not kept: its
record holds the status and `Location` only, and a retry is told that the
creation already happened (409) rather than being handed the secret again.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import ConflictError, InvalidInputError
from app.idempotency import repository
from app.models import IdempotencyRecord
from app.models.base import utcnow

KEY_HEADER = "Idempotency-Key"
REPLAY_HEADER = "Idempotent-Replayed"
# Response headers a replay repeats; the rest (request id, dates, security headers) belong to each answer.
REPLAYED_HEADERS = ("ETag", "Location")


class IdempotencyKeyReusedError(InvalidInputError):
    code = "IdempotencyKeyReused"
    title = "This Idempotency-Key was used with a different request"


class IdempotentRequestInProgressError(ConflictError):
    code = "IdempotentRequestInProgress"
    title = "A request with this Idempotency-Key is being processed"


class IdempotentSecretNotReplayedError(ConflictError):
    code = "IdempotentSecretNotReplayed"
    title = "The request with this Idempotency-Key already succeeded; its secret is shown only once"


@dataclass
class StoredResponse:
    status_code: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    replayed: bool = False


def fingerprint(method: str, path: str, body: Any, secret: str = "") -> str:
    """A keyed digest of the request: bodies can hold passwords, so a plain hash would be guessable."""
    canonical = json.dumps([method, path, body], sort_keys=True, ensure_ascii=False, default=str)
    return hmac.new(secret.encode(), canonical.encode(), hashlib.sha256).hexdigest()


async def find(session: AsyncSession, scope: str, key: str, request_fingerprint: str) -> StoredResponse | None:
    """The first response to this key, or None when the key is new; refuses a key reused for another request."""
    record = await repository.get(session, scope, key)
    if record is None:
        return None
    if record.request_hash != request_fingerprint:
        raise IdempotencyKeyReusedError.for_field(
            ["header", KEY_HEADER], "already used with a different request body", "idempotency_conflict"
        )
    if record.body is None and record.status_code < 300:
        raise IdempotentSecretNotReplayedError(
            "Nothing was created twice. List the resource to find it; create a new one if the secret was lost.",
            headers={k: v for k, v in record.headers.items() if k == "Location"},
        )
    return StoredResponse(record.status_code, record.body, dict(record.headers), replayed=True)


async def claim(
    session: AsyncSession, scope: str, key: str, request_fingerprint: str
) -> StoredResponse | IdempotencyRecord:
    """The first response to this key, or else a claim on the key for this request's transaction.

    The claim is a row written before the work starts: a concurrent request with the same
    key waits on it (PostgreSQL's unique index; SQLite's write lock) until this transaction
    ends, then replays what it committed — or claims the key itself if it rolled back.
    """
    stored = await find(session, scope, key, request_fingerprint)
    if stored is not None:
        return stored
    record = IdempotencyRecord(
        scope=scope,
        key=key,
        request_hash=request_fingerprint,
        status_code=0,
        body=None,
        headers={},
        created_at=utcnow(),
    )
    try:
        async with session.begin_nested():
            session.add(record)
            await session.flush()
    except IntegrityError:
        stored = await find(session, scope, key, request_fingerprint)
        if stored is None:
            raise IdempotentRequestInProgressError(
                "Another request with this key is being processed; retry to receive its response.",
                headers={"Retry-After": "1"},
            ) from None
        return stored
    return record


async def complete(session: AsyncSession, record: IdempotencyRecord, response: StoredResponse) -> None:
    """Keep the response under the claimed key, in the transaction that created the resource."""
    record.status_code, record.body, record.headers = response.status_code, response.body, response.headers
    await session.flush()


async def release(session: AsyncSession, record: IdempotencyRecord) -> None:
    """Give the key back: the request did not create anything (a refusal is not worth replaying)."""
    await session.delete(record)
    await session.flush()


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
    claimed = await claim(session, scope, key, request_fingerprint)
    if isinstance(claimed, StoredResponse):
        return claimed
    response = await produce()
    await complete(session, claimed, response)
    return response
