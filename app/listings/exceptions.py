"""Errors of the listings domain."""

from __future__ import annotations

from app.errors import AppError, ConflictError, InvalidInputError, NotFoundError


class ListingNotFoundError(NotFoundError):
    code = "ListingNotFound"
    title = "Listing not found"


class InvalidTransitionError(ConflictError):
    code = "InvalidTransition"
    title = "The listing cannot make this transition from its current status"


class UnknownConceptError(InvalidInputError):
    code = "UnknownConcept"
    title = "Unknown taxonomy concept"


class PreconditionRequiredError(AppError):
    status = 428
    code = "PreconditionRequired"
    title = "If-Match header required"


class PreconditionFailedError(AppError):
    status = 412
    code = "PreconditionFailed"
    title = "The listing changed since you read it"
