"""Dependencies shared by the routers: the unit of work, settings and the principal."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Response
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.permissions import Principal
from app.accounts.service import account_service
from app.accounts.throttle import LoginThrottle
from app.config import Settings
from app.db import get_session
from app.errors import AuthenticationError

# scope="function": the commit happens before the response is sent, so a client
# never sees 201 for a write that failed to commit.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]

_bearer = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)
_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="An organisation's API key for integrations.")


def _no_store(response: Response) -> None:
    """Responses that carry a secret (tokens, keys) must not be kept by browsers or proxies (RFC 6749 §5.1)."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"


NoStore = Depends(_no_store)
"""Add to `dependencies=[...]` of every route whose response carries a secret."""


def get_settings_from_app(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings_from_app)]


def get_login_throttle(request: Request) -> LoginThrottle:
    throttle: LoginThrottle = request.app.state.login_throttle
    return throttle


ThrottleDep = Annotated[LoginThrottle, Depends(get_login_throttle)]


async def get_optional_principal(
    session: SessionDep,
    settings: SettingsDep,
    token: Annotated[str | None, Depends(_bearer)],
    api_key: Annotated[str | None, Depends(_api_key)],
) -> Principal | None:
    """The caller, from `Authorization: Bearer <jwt>` or `X-API-Key`; None when anonymous.

    Credentials that are present but invalid are refused (401), never treated as anonymous.
    """
    if token is not None:
        return await account_service.principal_from_access_token(session, settings, token)
    if api_key is not None:
        return await account_service.principal_from_api_key(session, api_key)
    return None


async def get_principal(
    principal: Annotated[Principal | None, Depends(get_optional_principal)],
) -> Principal:
    if principal is None:
        raise AuthenticationError("Sign in (Bearer token) or send an API key (X-API-Key).")
    return principal


OptionalPrincipal = Annotated[Principal | None, Depends(get_optional_principal)]
CurrentPrincipal = Annotated[Principal, Depends(get_principal)]
