"""Errors of the organisations domain."""

from __future__ import annotations

from app.errors import AppError, ConflictError, InvalidInputError, NotFoundError


class OrganizationNotFoundError(NotFoundError):
    code = "OrganizationNotFound"
    title = "Organisation not found"


class OrganizationInUseError(ConflictError):
    code = "OrganizationInUse"
    title = "The organisation still has accounts"


class ServicesNotAllowedError(InvalidInputError):
    code = "ServicesNotAllowed"
    title = "Only intermediaries offer intermediary services"


class OrganizationChangedError(AppError):
    status = 412
    code = "PreconditionFailed"
    title = "The organisation changed since you read it"


class VerificationPreconditionRequiredError(AppError):
    status = 428
    code = "PreconditionRequired"
    title = "If-Match header required"
