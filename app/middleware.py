"""ASGI middleware: request id + access log + last-resort 500, load shedding, and the body size limit.

Both are plain ASGI (not `BaseHTTPMiddleware`) so they stream bodies and keep
context variables intact.
"""

from __future__ import annotations

import re
import time
import uuid
from datetime import datetime

import structlog
from fastapi import HTTPException
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import (
    DeadlineExceededError,
    FieldError,
    PayloadTooLargeError,
    ServerBusyError,
    ServiceUnavailableError,
    problem_response,
)
from app.request_context import reset_request_id, set_request_id

REQUEST_ID_HEADER = "x-request-id"
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

access_log = structlog.get_logger("techex.access")
error_log = structlog.get_logger("techex.error")


def _incoming_request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == REQUEST_ID_HEADER.encode():
            candidate: str = value.decode("latin-1")
            if _SAFE_REQUEST_ID.match(candidate):
                return candidate
    return uuid.uuid4().hex


class RequestContextMiddleware:
    """Give every request an id, log it once, and turn unhandled exceptions into 500s.

    The 500 body is a problem+json with the request id and nothing about the
    exception; the traceback goes to the log under the same id.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _incoming_request_id(scope)
        token = set_request_id(request_id)
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            error_log.exception("unhandled_exception", method=scope["method"], path=scope["path"])
            if not response_started:
                response = problem_response(
                    status=500,
                    code="InternalServerError",
                    title="Internal server error",
                    detail="The server failed to handle the request; quote the request id.",
                    instance=scope["path"],
                )
                await response(scope, receive, send_with_id)
        finally:
            client = scope.get("client")
            access_log.info(
                "request",
                method=scope["method"],
                path=scope["path"],
                client=client[0] if client else None,
                status=status,
                duration_ms=round((time.perf_counter() - started) * 1000, 2),
            )
            reset_request_id(token)


class _BodyTooLarge(HTTPException):
    """Raised from `receive`; an HTTPException so the framework's body parser lets it through."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(413, f"The request body exceeds the limit of {max_bytes} bytes.")


class BodySizeLimitMiddleware:
    """Refuse request bodies over `max_bytes` with 413, whether or not Content-Length is sent."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                await self._reject(scope, receive, send)
                return

        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _BodyTooLarge(self.max_bytes)
            return message

        response_started = False

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _BodyTooLarge:
            if response_started:
                raise
            await self._reject(scope, receive, send)

    async def _reject(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem_response(
            status=PayloadTooLargeError.status,
            code=PayloadTooLargeError.code,
            title=PayloadTooLargeError.title,
            detail=f"The request body exceeds the limit of {self.max_bytes} bytes.",
            instance=scope["path"],
        )
        await response(scope, receive, send)


REQUEST_TIMEOUT_HEADER = b"request-timeout"
REQUEST_DEADLINE_HEADER = b"request-deadline"
MAX_REQUEST_TIMEOUT_SECONDS = 3600.0


def request_deadline(scope: Scope) -> float | None:
    """The `time.monotonic()` past which this request's changes must not be committed, if the client set one."""
    state = scope.get("state") or {}
    deadline: float | None = state.get("deadline")
    return deadline


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            text: str = value.decode("latin-1")
            return text
    return None


def parse_deadline(scope: Scope) -> float | None:
    """The request's deadline as a `time.monotonic()` value, from either header (the earlier wins).

    `Request-Timeout: <seconds>` counts from when the server reads the request, so it
    ignores time spent reaching the server; `Request-Deadline: <RFC 3339 time>` is exact
    when the client's clock is right. Raises ValueError naming the header at fault.
    """
    now_monotonic, now_wall = time.monotonic(), time.time()
    deadlines = []
    timeout = _header(scope, REQUEST_TIMEOUT_HEADER)
    if timeout is not None:
        try:
            seconds = float(timeout)
        except ValueError:
            raise ValueError("Request-Timeout", "must be a number of seconds") from None
        if not 0 < seconds <= MAX_REQUEST_TIMEOUT_SECONDS:
            raise ValueError(
                "Request-Timeout", f"must be more than 0 and at most {MAX_REQUEST_TIMEOUT_SECONDS:g} seconds"
            )
        deadlines.append(now_monotonic + seconds)
    deadline = _header(scope, REQUEST_DEADLINE_HEADER)
    if deadline is not None:
        try:
            moment = datetime.fromisoformat(deadline.strip())
        except ValueError:
            raise ValueError("Request-Deadline", "must be an RFC 3339 date-time with a time zone") from None
        if moment.tzinfo is None:
            raise ValueError("Request-Deadline", "must be an RFC 3339 date-time with a time zone")
        remaining = moment.timestamp() - now_wall
        if remaining > MAX_REQUEST_TIMEOUT_SECONDS:
            raise ValueError("Request-Deadline", f"must be at most {MAX_REQUEST_TIMEOUT_SECONDS:g} seconds ahead")
        deadlines.append(now_monotonic + remaining)
    return min(deadlines) if deadlines else None


class LoadSheddingMiddleware:
    """Answer 503 with Retry-After at once when this worker already handles `limit` requests.

    Queueing past that point only makes every client wait longer and then give up
    while the server still works for them. Probes pass without counting, so that
    a busy worker is not mistaken for a dead one. The client's `Request-Timeout`
    or `Request-Deadline` becomes the request's deadline, read by the unit of
    work before it starts and before it commits.
    """

    def __init__(self, app: ASGIApp, limit: int, exempt_paths: frozenset[str] = frozenset()) -> None:
        self.app = app
        self.limit = limit
        self.exempt_paths = exempt_paths
        self.in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.exempt_paths:
            await self.app(scope, receive, send)
            return
        try:
            deadline = parse_deadline(scope)
        except ValueError as error:
            header, message = error.args
            response = problem_response(
                status=422,
                code="RequestValidationFailed",
                title="Request validation failed",
                detail=f"{header} {message}",
                instance=scope["path"],
                errors=[FieldError(loc=["header", header], msg=message, type="value_error")],
            )
            await response(scope, receive, send)
            return
        if self.in_flight >= self.limit:
            await self._shed(scope, receive, send, ServerBusyError("The server is at capacity; retry shortly."))
            return
        if deadline is not None:
            scope.setdefault("state", {})["deadline"] = deadline
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1

    @staticmethod
    async def _shed(scope: Scope, receive: Receive, send: Send, error: ServiceUnavailableError) -> None:
        response = problem_response(
            status=error.status,
            code=error.code,
            title=error.title,
            detail=error.detail,
            instance=scope["path"],
            headers=error.headers,
        )
        await response(scope, receive, send)


def refuse_past_deadline(deadline: float | None) -> None:
    """Raise once the client's deadline has passed: it no longer waits for the answer."""
    if deadline is not None and time.monotonic() > deadline:
        raise DeadlineExceededError("The deadline the client gave has passed; nothing was changed.")
