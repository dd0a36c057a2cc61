"""RFC 9457 problem details: one shape for every error the API returns.

Domains raise subclasses of `AppError` (never `HTTPException`); the handlers
registered here turn them, validation errors, unknown routes and integrity
errors into `application/problem+json`. Unexpected exceptions are turned into
a 500 by `app.middleware.RequestContextMiddleware`, which knows the request id.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, ClassVar

import structlog
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ConfigDict, Field
from sqlalchemy.exc import IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request

from app.request_context import current_request_id
from app.schema_base import ResponseModel

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_PREFIX = "urn:techex:problem:"

log = structlog.get_logger(__name__)


class FieldError(ResponseModel):
    loc: list[str | int] = Field(description="Path to the offending input, e.g. `['body', 'email']`.")
    msg: str = Field(description="What is wrong, in words.")
    type: str = Field(description="Stable machine-readable error type, e.g. `missing`.")


class Problem(ResponseModel):
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


@dataclass(frozen=True)
class ProblemType:
    """One kind of problem the API answers with: its status, stable `code`, title and a sample detail."""

    status: int
    code: str
    title: str
    detail: str | None = None


PROBLEM_TYPES: dict[str, ProblemType] = {}
"""Every problem `code` the API can answer with; the OpenAPI `ProblemCode` enum lists them."""


def register_problem(status: int, code: str, title: str, detail: str | None = None) -> ProblemType:
    problem = PROBLEM_TYPES.setdefault(code, ProblemType(status, code, title, detail))
    return problem


class AppError(Exception):
    """Base of every domain error; subclasses set `status`, `code` and `title`."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "BadRequest"
    title: ClassVar[str] = "Bad request"
    # True for refusals that must leave a trace (e.g. revoking a stolen token family):
    # the unit of work commits what was flushed before the error, then answers with it.
    keeps_changes: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        register_problem(cls.status, cls.code, cls.title, cls.__doc__.split("\n")[0] if cls.__doc__ else None)

    @classmethod
    def problem_type(cls) -> ProblemType:
        return PROBLEM_TYPES[cls.code]

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


# Problems raised by the framework and the middleware rather than by an `AppError`.
REQUEST_VALIDATION_FAILED = register_problem(
    422, "RequestValidationFailed", "Request validation failed", "1 field is invalid"
)
MALFORMED_JSON = register_problem(400, "MalformedJSON", "Request body is not valid JSON", "JSON decode error")
INTEGRITY_CONFLICT = register_problem(
    409,
    "IntegrityConflict",
    "The change conflicts with existing data",
    "A unique or referential constraint rejected the change.",
)
CONCURRENT_CHANGE = register_problem(
    409, "ConcurrentChange", "Another request changed the record at the same time", "Read the record again and retry."
)
INTERNAL_SERVER_ERROR = register_problem(
    500,
    "InternalServerError",
    "Internal server error",
    "The server failed to handle the request; quote the request id.",
)
NOT_READY = register_problem(503, "NotReady", "Service not ready", "A dependency of the service is failing.")
ROUTE_NOT_FOUND = register_problem(404, "NotFound", "Not Found", "No route matches GET /api/v1/nowhere")
METHOD_NOT_ALLOWED = register_problem(405, "MethodNotAllowed", "Method Not Allowed")

ProblemSource = int | ProblemType | type[AppError]
PROBLEM_CODES_KEY = "x-problem-codes"
"""Where `problem_responses` lists a response's codes; the OpenAPI builder turns them into examples."""


def _problem_type(source: ProblemType | type[AppError]) -> ProblemType:
    return source if isinstance(source, ProblemType) else source.problem_type()


def problem_responses(*sources: ProblemSource) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries for the problems an operation raises.

    Name the errors (`AppError` subclasses or `ProblemType`s): each becomes a documented `code`
    under its status, with an example. A bare status documents the status alone. Problems every
    operation shares (validation, authentication, overload) are added by the OpenAPI builder.
    """
    responses: dict[int | str, dict[str, Any]] = {}
    for source in sources:
        status = source if isinstance(source, int) else _problem_type(source).status
        response = responses.setdefault(status, {"description": HTTPStatus(status).phrase, PROBLEM_CODES_KEY: []})
        if not isinstance(source, int):
            code = _problem_type(source).code
            if code not in response[PROBLEM_CODES_KEY]:
                response[PROBLEM_CODES_KEY].append(code)
    return responses


def merge_responses(*groups: Mapping[int | str, Mapping[str, Any]]) -> dict[int | str, dict[str, Any]]:
    """Several `responses=` mappings as one; the codes documented under a status add up."""
    merged: dict[int | str, dict[str, Any]] = {}
    for group in groups:
        for status, response in group.items():
            into = merged.setdefault(status, {})
            for key, value in response.items():
                if key == PROBLEM_CODES_KEY:
                    into[key] = [*into.get(key, []), *(c for c in value if c not in into.get(key, []))]
                else:
                    into.setdefault(key, value)
    return merged
