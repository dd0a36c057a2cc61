"""Dependencies shared by the routers: the unit of work, settings and the principal."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.permissions import Principal
from app.accounts.service import account_service
from app.accounts.throttle import LoginThrottle
from app.config import Settings
from app.db import Database, get_read_session, get_session, unit_of_work
from app.errors import AuthenticationError
from app.middleware import refuse_past_deadline, request_deadline


async def get_session_within_deadline(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's unit of work, which will not start or commit after the client's `Request-Timeout`.

    A client that gave up retries; committing its first attempt anyway would make the
    retry a duplicate (or, with an Idempotency-Key, a surprise). Past the deadline the
    transaction is rolled back and the answer is 503 DeadlineExceeded.
    """
    deadline = request_deadline(request.scope)
    refuse_past_deadline(deadline)
    async with asynccontextmanager(get_session)(request) as session:
        if deadline is not None:

            def check(_session: Any) -> None:
                refuse_past_deadline(deadline)

            event.listen(session.sync_session, "before_commit", check)
        yield session


# scope="function": the commit happens before the response is sent, so a client
# never sees 201 for a write that failed to commit.
SessionDep = Annotated[AsyncSession, Depends(get_session_within_deadline, scope="function")]
# For routes that answer a POST without writing (computations over the data): no write lock on SQLite.
ReadSessionDep = Annotated[AsyncSession, Depends(get_read_session, scope="function")]

_bearer = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)
_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="An organisation's API key for integrations.")


def send_no_store(response: Response) -> None:
    """Responses that carry a secret (tokens, keys) must not be kept by browsers or proxies (RFC 6749 §5.1)."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"


NoStore = Depends(send_no_store)
"""Add to `dependencies=[...]` of every route whose response carries a secret."""


async def get_settings_from_app(request: Request) -> Settings:
    """Async: FastAPI would run a plain function in a worker thread, a hop per request for an attribute read."""
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings_from_app)]


def get_login_throttle(request: Request) -> LoginThrottle:
    throttle: LoginThrottle = request.app.state.login_throttle
    return throttle


ThrottleDep = Annotated[LoginThrottle, Depends(get_login_throttle)]


async def get_optional_principal(
    request: Request,
    settings: SettingsDep,
    token: Annotated[str | None, Depends(_bearer)],
    api_key: Annotated[str | None, Depends(_api_key)],
) -> Principal | None:
    """The caller, from `Authorization: Bearer <jwt>` or `X-API-Key`; None when anonymous.

    Credentials that are present but invalid are refused (401), never treated as anonymous.
    They are checked in a short read transaction of their own, not in the request's unit of work:
    on SQLite a write request's unit of work holds the write lock from its first statement to its
    commit, so authenticating there would take the lock before the route has decided to write
    (and hold it through work done outside that unit of work, such as computing a schedule).
    """
    database: Database = request.app.state.database
    if token is not None:
        async with unit_of_work(database.reader) as session:
            return await account_service.principal_from_access_token(session, settings, token)
    if api_key is None:
        return None
    async with unit_of_work(database.reader) as session:
        principal, use_due = await account_service.principal_from_api_key(session, api_key)
    if use_due:
        async with unit_of_work(database.writer) as session:
            await account_service.record_api_key_use(session, principal)
    return principal


async def get_principal(
    principal: Annotated[Principal | None, Depends(get_optional_principal)],
) -> Principal:
    if principal is None:
        raise AuthenticationError("Sign in (Bearer token) or send an API key (X-API-Key).")
    return principal


OptionalPrincipal = Annotated[Principal | None, Depends(get_optional_principal)]
CurrentPrincipal = Annotated[Principal, Depends(get_principal)]
