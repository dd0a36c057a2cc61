"""Errors of the accounts domain."""

from __future__ import annotations

from app.errors import (
    AuthenticationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    TooManyRequestsError,
)


class InvalidCredentialsError(AuthenticationError):
    code = "InvalidCredentials"
    title = "Email or password is wrong"


class InvalidTokenError(AuthenticationError):
    code = "InvalidToken"
    title = "The token is invalid, expired or revoked"


class RefreshTokenReusedError(InvalidTokenError):
    """A spent refresh token came back: its family is revoked, and that must stick."""

    keeps_changes = True


class InvalidApiKeyError(AuthenticationError):
    code = "InvalidApiKey"
    title = "The API key is invalid or revoked"


class EmailTakenError(ConflictError):
    code = "EmailTaken"
    title = "An account with this email exists"


class AccountNotFoundError(NotFoundError):
    code = "AccountNotFound"
    title = "Account not found"


class InvitationNotFoundError(NotFoundError):
    code = "InvitationNotFound"
    title = "Invitation not found, expired or already used"


class ApiKeyNotFoundError(NotFoundError):
    code = "ApiKeyNotFound"
    title = "API key not found"


class AccountRequiredError(PermissionDeniedError):
    code = "AccountRequired"
    title = "This action needs a signed-in person, not an API key"


class OrgAdminRequiredError(PermissionDeniedError):
    code = "OrganizationAdminRequired"
    title = "Only an administrator of the organisation may do this"


class TooManyLoginAttemptsError(TooManyRequestsError):
    code = "TooManyLoginAttempts"
    title = "Too many failed sign-in attempts"
