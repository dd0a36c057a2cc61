"""Registration, sign-in, token refresh and the caller's own account."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, status

from app.accounts.exceptions import (
    AccountRequiredError,
    EmailTakenError,
    InvalidCredentialsError,
    InvalidTokenError,
    InvitationNotFoundError,
    TooManyLoginAttemptsError,
)
from app.accounts.schemas import (
    AccountRead,
    Me,
    PasswordChange,
    RefreshRequest,
    RegisterRequest,
    Registration,
    TokenPair,
    TokenRequest,
)
from app.accounts.service import WeakPasswordError, account_service
from app.accounts.throttle import SignInUnavailableError
from app.api.deps import CurrentPrincipal, NoStore, SessionDep, SettingsDep, ThrottleDep
from app.api.idempotency import ExchangeRoute
from app.api.openapi import declare_problems
from app.errors import InvalidInputError, problem_responses
from app.organizations.schemas import OrganizationRead
from app.organizations.service import organization_service

router = APIRouter(prefix="/auth", tags=["auth"], route_class=ExchangeRoute)


async def _grant_type_given_is_password(request: Request) -> None:
    """`grant_type` may be left out, but when sent it must be `password`: the form parser reads an
    empty field as a missing one, so `grant_type=` would otherwise pass unnoticed."""
    form = await request.form()
    if "grant_type" in form and form["grant_type"] != "password":
        raise InvalidInputError.for_field(["body", "grant_type"], "must be 'password' when given", "literal_error")


@router.post(
    "/register",
    summary="Register an account",
    status_code=status.HTTP_201_CREATED,
    response_model=Registration,
    responses=problem_responses(404, 409, 422),
    dependencies=[NoStore],
)
async def register(payload: RegisterRequest, session: SessionDep, settings: SettingsDep) -> Registration:
    """Create an account with a new organisation (its first administrator) or join one by invitation."""
    registered = await account_service.register(session, settings, payload)
    return Registration(
        account=AccountRead.model_validate(registered.account),
        organization=OrganizationRead.model_validate(registered.organization),
        tokens=registered.tokens,
    )


@router.post(
    "/token",
    summary="Sign in (OAuth2 password flow)",
    response_model=TokenPair,
    responses=problem_responses(401, 422, 429),
    dependencies=[NoStore, Depends(_grant_type_given_is_password)],
    openapi_extra={
        "requestBody": {
            "content": {
                "application/x-www-form-urlencoded": {
                    "example": {
                        "username": "an.nguyen@rimf.example.vn",
                        "password": "nuoc-sach-cho-nong-thon-2026",
                    }
                }
            }
        }
    },
)
async def create_token(
    form: Annotated[TokenRequest, Form()],
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    throttle: ThrottleDep,
) -> TokenPair:
    """Exchange email (`username`) and password for an access token and a refresh token."""
    address = request.client.host if request.client else "unknown"
    return await account_service.login(session, settings, throttle, form.username, form.password, address)


@router.post(
    "/refresh",
    summary="Refresh the access token",
    response_model=TokenPair,
    responses=problem_responses(401, 422),
    dependencies=[NoStore],
)
async def refresh_token(payload: RefreshRequest, session: SessionDep, settings: SettingsDep) -> TokenPair:
    """Spend a refresh token for a new pair; a reused refresh token revokes its whole family."""
    return await account_service.refresh(session, settings, payload.refresh_token)


@router.post(
    "/logout",
    summary="Sign out",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(422),
)
async def logout(payload: RefreshRequest, session: SessionDep) -> None:
    """Revoke the refresh token and every token rotated from the same sign-in."""
    await account_service.logout(session, payload.refresh_token)


@router.get("/me", summary="The signed-in account", response_model=Me, responses=problem_responses(401, 403))
async def get_me(principal: CurrentPrincipal, session: SessionDep) -> Me:
    """The caller's account and organisation."""
    account = await account_service.me(session, principal)
    organization = await organization_service.get(session, account.organization_id)
    return Me(
        account=AccountRead.model_validate(account),
        organization=OrganizationRead.model_validate(organization),
    )


@router.post(
    "/me/password",
    summary="Change the password",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401, 403, 422),
)
async def change_password(payload: PasswordChange, principal: CurrentPrincipal, session: SessionDep) -> None:
    """Set a new password; every refresh token of the account is revoked."""
    await account_service.change_password(session, principal, payload)


declare_problems(
    router,
    {
        "register": [EmailTakenError, InvitationNotFoundError, WeakPasswordError, InvalidInputError],
        "create_token": [InvalidCredentialsError, TooManyLoginAttemptsError, SignInUnavailableError, InvalidInputError],
        "refresh_token": [InvalidTokenError],
        "get_me": [AccountRequiredError],
        "change_password": [AccountRequiredError, InvalidCredentialsError, WeakPasswordError, InvalidInputError],
    },
)
