"""RFC 9457 problem details: one shape for every error the API returns.

Domains raise subclasses of `AppError` (never `HTTPException`); the handlers
registered here turn them, validation errors, unknown routes and integrity
errors into `application/problem+json`. Unexpected exceptions are turned into
a 500 by `app.middleware.RequestContextMiddleware`, which knows the request id.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any, ClassVar

import structlog
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request

from app.request_context import current_request_id

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_PREFIX = "urn:techex:problem:"

log = structlog.get_logger(__name__)


class FieldError(BaseModel):
    loc: list[str | int] = Field(description="Path to the offending input, e.g. `['body', 'email']`.")
    msg: str = Field(description="What is wrong, in words.")
    type: str = Field(description="Stable machine-readable error type, e.g. `missing`.")


class Problem(BaseModel):
    """An RFC 9457 problem details object."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "type": "urn:techex:problem:RequestValidationFailed",
                    "title": "Request validation failed",
                    "status": 422,
                    "detail": "1 field is invalid",
                    "instance": "/api/v1/auth/register",
                    "code": "RequestValidationFailed",
                    "request_id": "5f0c6d3e9b2a4c1d8e7f6a5b4c3d2e1f",
                    "errors": [
                        {
                            "loc": ["body", "email"],
                            "msg": "value is not a valid email address",
                            "type": "value_error",
                        }
                    ],
                }
            ]
        },
    )

    type: str = Field(description="URI reference identifying the problem type.")
    title: str = Field(description="Short, human-readable summary of the problem type.")
    status: int = Field(description="HTTP status code.")
    detail: str | None = Field(default=None, description="Explanation of this occurrence.")
    instance: str | None = Field(default=None, description="The request path that failed.")
    code: str = Field(description="Stable machine-readable error code, e.g. `OfferNotFound`.")
    request_id: str | None = Field(default=None, description="Echoes `X-Request-ID`.")
    errors: list[FieldError] | None = Field(default=None, description="Per-field errors (validation failures only).")


class AppError(Exception):
    """Base of every domain error; subclasses set `status`, `code` and `title`."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "BadRequest"
    title: ClassVar[str] = "Bad request"
    # True for refusals that must leave a trace (e.g. revoking a stolen token family):
    # the unit of work commits what was flushed before the error, then answers with it.
    keeps_changes: ClassVar[bool] = False

    def __init__(
        self,
        detail: str | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        errors: Sequence[FieldError] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail
        self.headers = dict(headers or {})
        self.errors = list(errors) if errors else None
        self.extensions = extensions


class NotFoundError(AppError):
    status = 404
    code = "NotFound"
    title = "Resource not found"


class ConflictError(AppError):
    status = 409
    code = "Conflict"
    title = "Conflict with the current state"


class AuthenticationError(AppError):
    status = 401
    code = "NotAuthenticated"
    title = "Authentication required"

    def __init__(self, detail: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"WWW-Authenticate": "Bearer"})
        super().__init__(detail, **kwargs)


class PermissionDeniedError(AppError):
    status = 403
    code = "PermissionDenied"
    title = "Permission denied"


class InvalidInputError(AppError):
    """A business rule on the input failed; carries per-field errors like a validation error."""

    status = 422
    code = "InvalidInput"
    title = "Invalid input"

    @classmethod
    def for_field(cls, loc: Sequence[str | int], msg: str, type_: str) -> InvalidInputError:
        return cls(msg, errors=[FieldError(loc=list(loc), msg=msg, type=type_)])


class TooManyRequestsError(AppError):
    status = 429
    code = "TooManyRequests"
    title = "Too many requests"

    def __init__(self, detail: str | None = None, *, retry_after: int, **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"Retry-After": str(max(1, retry_after))})
        super().__init__(detail, retry_after=max(1, retry_after), **kwargs)


class ServiceUnavailableError(AppError):
    """Load shed on purpose: nothing was changed, and the same request may be sent again later."""

    status = 503
    code = "ServiceUnavailable"
    title = "Service unavailable"
    retry_after: ClassVar[int] = 1

    def __init__(self, detail: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"Retry-After": str(self.retry_after)})
        super().__init__(detail, **kwargs)


class ServerBusyError(ServiceUnavailableError):
    code = "ServerBusy"
    title = "The server is handling as many requests as it can"


class DatabaseBusyError(ServiceUnavailableError):
    code = "DatabaseBusy"
    title = "No database connection became free in time"


class DeadlineExceededError(ServiceUnavailableError):
    code = "DeadlineExceeded"
    title = "The request's deadline passed before it could be completed"


class PayloadTooLargeError(AppError):
    status = 413
    code = "PayloadTooLarge"
    title = "Request body too large"


def problem_response(
    *,
    status: int,
    code: str,
    title: str,
    detail: str | None,
    instance: str | None,
    errors: Sequence[FieldError] | None = None,
    headers: Mapping[str, str] | None = None,
    extensions: Mapping[str, Any] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_PREFIX + code,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
        "code": code,
        "request_id": current_request_id(),
    }
    if errors:
        body["errors"] = [e.model_dump() for e in errors]
    if extensions:
        body.update(extensions)
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_MEDIA_TYPE)


_STATUS_CODES: dict[int, tuple[str, str]] = {
    PayloadTooLargeError.status: (PayloadTooLargeError.code, PayloadTooLargeError.title),
}


def _code_from_status(status: int) -> tuple[str, str]:
    """A stable `code` and a title for framework-raised HTTP errors (404, 405, 413 …)."""
    if status in _STATUS_CODES:
        return _STATUS_CODES[status]
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    return re.sub(r"[^A-Za-z]", "", phrase.title()), phrase


async def _handle_app_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    return problem_response(
        status=exc.status,
        code=exc.code,
        title=exc.title,
        detail=exc.detail,
        instance=request.url.path,
        errors=exc.errors,
        headers=exc.headers,
        extensions=exc.extensions,
    )


def _field_errors(exc: RequestValidationError) -> list[FieldError]:
    errors = []
    for error in exc.errors():
        loc = [p if isinstance(p, int) else str(p) for p in error.get("loc", ())]
        errors.append(FieldError(loc=loc, msg=str(error.get("msg", "")), type=str(error["type"])))
    return errors


async def _handle_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = _field_errors(exc)
    if any(e.type == "json_invalid" for e in errors):
        return problem_response(
            status=400,
            code="MalformedJSON",
            title="Request body is not valid JSON",
            detail="; ".join(e.msg for e in errors if e.type == "json_invalid"),
            instance=request.url.path,
            errors=errors,
        )
    count = len(errors)
    return problem_response(
        status=422,
        code="RequestValidationFailed",
        title="Request validation failed",
        detail=f"{count} field{'s are' if count != 1 else ' is'} invalid",
        instance=request.url.path,
        errors=errors,
    )


def _allowed_methods(request: Request) -> str:
    """Every method served at the request's path; the framework names only the first route's."""
    from fastapi.routing import iter_route_contexts

    methods: set[str] = set()
    for route in iter_route_contexts(request.app.routes):
        regex, allowed = getattr(route, "path_regex", None), getattr(route, "methods", None)
        if regex is not None and allowed and regex.match(request.url.path):
            methods |= set(allowed)
    return ", ".join(sorted(methods))


async def _handle_http_exception(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 405:
        exc.headers = {**(exc.headers or {}), "Allow": _allowed_methods(request)}
    code, title = _code_from_status(exc.status_code)
    detail = exc.detail if isinstance(exc.detail, str) and exc.detail != title else None
    if exc.status_code == 404 and detail is None:
        detail = f"No route matches {request.method} {request.url.path}"
    return problem_response(
        status=exc.status_code,
        code=code,
        title=title,
        detail=detail,
        instance=request.url.path,
        headers=exc.headers,
    )


async def _handle_integrity_error(request: Request, exc: Exception) -> JSONResponse:
    # The constraint name is useful to operators, not to clients: log it, don't send it.
    log.warning("integrity_error", error=str(getattr(exc, "orig", exc)))
    return problem_response(
        status=409,
        code="IntegrityConflict",
        title="The change conflicts with existing data",
        detail="A unique or referential constraint rejected the change.",
        instance=request.url.path,
    )


async def _handle_stale_data(request: Request, exc: Exception) -> JSONResponse:
    # Services lock the rows they change and map conflicts to their own codes; this is the net
    # for a versioned row that changed between read and write anyway: a conflict, never a 500.
    log.warning("stale_data", error=str(exc))
    return problem_response(
        status=409,
        code="ConcurrentChange",
        title="Another request changed the record at the same time",
        detail="Read the record again and retry.",
        instance=request.url.path,
    )


async def _handle_pool_timeout(request: Request, exc: Exception) -> JSONResponse:
    log.warning("database_pool_timeout", path=request.url.path)
    error = DatabaseBusyError("Every database connection is in use; retry shortly.")
    return await _handle_app_error(request, error)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _handle_app_error)
    app.add_exception_handler(RequestValidationError, _handle_validation_error)
    app.add_exception_handler(StarletteHTTPException, _handle_http_exception)
    app.add_exception_handler(IntegrityError, _handle_integrity_error)
    app.add_exception_handler(StaleDataError, _handle_stale_data)
    app.add_exception_handler(PoolTimeoutError, _handle_pool_timeout)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries declaring problem+json bodies for these statuses."""
    return {status: {"model": Problem, "description": HTTPStatus(status).phrase} for status in statuses}
