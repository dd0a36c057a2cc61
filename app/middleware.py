"""ASGI middleware: request id + access log + last-resort 500, load shedding, the body size limit,
the input guard (no control characters in text) and the security headers.

All are plain ASGI (not `BaseHTTPMiddleware`) so they stream bodies and keep
context variables intact.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

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
from app.validation import control_character

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

    def __init__(self, app: ASGIApp, max_bytes: int, larger: dict[str, int] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.larger = larger or {}  # path → its own limit (file uploads)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes = self.larger.get(scope.get("path", ""), self.max_bytes)
        for name, value in scope.get("headers", ()):
            if name == b"content-length" and value.isdigit() and int(value) > max_bytes:
                await self._reject(scope, receive, send, max_bytes)
                return

        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_bytes:
                    raise _BodyTooLarge(max_bytes)
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
            await self._reject(scope, receive, send, max_bytes)

    async def _reject(self, scope: Scope, receive: Receive, send: Send, max_bytes: int) -> None:
        response = problem_response(
            status=PayloadTooLargeError.status,
            code=PayloadTooLargeError.code,
            title=PayloadTooLargeError.title,
            detail=f"The request body exceeds the limit of {max_bytes} bytes.",
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

    def __init__(
        self,
        app: ASGIApp,
        limit: int,
        exempt_paths: frozenset[str] = frozenset(),
        max_queue_delay: float | None = None,
    ) -> None:
        self.app = app
        self.limit = limit
        self.exempt_paths = exempt_paths
        self.max_queue_delay = max_queue_delay
        self.in_flight = 0

    async def _queue_delay(self) -> float:
        """How long work that is ready now waits for this worker's event loop.

        Yielding once puts this request behind everything already ready to run: the
        time until it runs again is what every newly arrived request waits before it
        is even parsed. When the worker's CPU is saturated that wait grows without
        bound, while the count of admitted requests stays under `limit`.
        """
        loop = asyncio.get_running_loop()
        started = loop.time()
        await asyncio.sleep(0)
        return loop.time() - started

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
        # The queue-delay probe awaits, so it comes first: nothing may run between the count's check and its increment.
        congested = self.max_queue_delay is not None and await self._queue_delay() > self.max_queue_delay
        if congested or self.in_flight >= self.limit:
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


# A refused control character can reach a JSON string only as a `\\u00XX` escape (or `\\b`, `\\f`):
# raw ones are invalid JSON. Bodies without such an escape skip the full parse.
_JSON_CONTROL_ESCAPE = re.compile(rb"\\(?:u00[01][0-9a-fA-F]|[bf])")
_FORM_CONTROL = re.compile(rb"%(?:0[0-8bcBC]|0[eEfF]|1[0-9a-fA-F])|[\x00-\x08\x0b\x0c\x0e-\x1f]")
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _json_control_characters(value: Any, loc: list[str | int]) -> Iterator[tuple[list[str | int], str]]:
    """Locations (and the character) of refused control characters in a parsed JSON document."""
    if isinstance(value, str):
        if (found := control_character(value)) is not None:
            yield loc, found
    elif isinstance(value, dict):
        for key, item in value.items():
            if (found := control_character(key)) is not None:
                yield [*loc, key], found
            yield from _json_control_characters(item, [*loc, key])
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _json_control_characters(item, [*loc, index])


def _pairs_control_characters(pairs: list[tuple[str, str]], where: str) -> Iterator[tuple[list[str | int], str]]:
    for name, value in pairs:
        found = control_character(name) or control_character(value)
        if found is not None:
            yield [where, name], found


def _query_pairs(raw: bytes) -> list[tuple[str, str]]:
    return parse_qsl(raw.decode("latin-1"), keep_blank_values=True, encoding="utf-8", errors="replace")


class InputGuardMiddleware:
    """Refuse NUL and other C0 control characters (all but tab, line feed, carriage return) with 422.

    Checks the path, every query parameter, and JSON and form bodies (keys and values, at any
    depth), so the rule holds for every endpoint and every field, present and future. The problem
    names the offending input in `errors[].loc`, as a validation error does.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        found = list(self._path_and_query(scope))
        if found:
            await self._reject(scope, receive, send, found)
            return
        media_type = self._media_type(scope)
        if scope["method"] not in _BODY_METHODS or media_type not in ("json", "form"):
            await self.app(scope, receive, send)
            return
        body, more = await self._read_body(receive)
        found = list(self._body(body, media_type))
        if found:
            await self._reject(scope, receive, send, found)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay if not more else receive, send)

    @staticmethod
    def _path_and_query(scope: Scope) -> Iterator[tuple[list[str | int], str]]:
        found = control_character(scope["path"])
        if found is not None:
            yield ["path"], found
        yield from _pairs_control_characters(_query_pairs(scope.get("query_string", b"")), "query")

    @staticmethod
    def _media_type(scope: Scope) -> str | None:
        for name, value in scope.get("headers", ()):
            if name == b"content-type":
                essence = value.split(b";", 1)[0].strip().lower()
                if essence == b"application/json" or essence.endswith(b"+json"):
                    return "json"
                if essence == b"application/x-www-form-urlencoded":
                    return "form"
        return None

    @staticmethod
    async def _read_body(receive: Receive) -> tuple[bytes, bool]:
        """The whole body (bounded by `BodySizeLimitMiddleware`, which wraps this one)."""
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return b"".join(chunks), True  # disconnected: let the app see it
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                return b"".join(chunks), False

    @staticmethod
    def _body(body: bytes, media_type: str) -> Iterator[tuple[list[str | int], str]]:
        if media_type == "form":
            if _FORM_CONTROL.search(body):
                yield from _pairs_control_characters(_query_pairs(body), "body")
            return
        if not _JSON_CONTROL_ESCAPE.search(body):
            return
        try:
            document = json.loads(body)
        except ValueError:
            return  # malformed JSON: the app answers 400
        yield from _json_control_characters(document, ["body"])

    @staticmethod
    async def _reject(scope: Scope, receive: Receive, send: Send, found: list[tuple[list[str | int], str]]) -> None:
        errors = [
            FieldError(
                loc=loc,
                msg=f"control character {char} is not allowed in text (only tab, line feed and carriage return)",
                type="control_character",
            )
            for loc, char in found
        ]
        count = len(errors)
        response = problem_response(
            status=422,
            code="RequestValidationFailed",
            title="Request validation failed",
            detail=f"{count} field{'s are' if count != 1 else ' is'} invalid",
            instance=scope["path"],
            errors=errors,
        )
        await response(scope, receive, send)


def refuse_past_deadline(deadline: float | None) -> None:
    """Raise once the client's deadline has passed: it no longer waits for the answer."""
    if deadline is not None and time.monotonic() > deadline:
        raise DeadlineExceededError("The deadline the client gave has passed; nothing was changed.")


# The API serves JSON, CSV, XLSX and iCalendar: nothing to render, run or frame.
API_CSP = "default-src 'none'; frame-ancestors 'none'"
# Swagger UI and ReDoc are HTML pages loading their bundles from a CDN and starting them inline.
DOCS_CSP = (
    "default-src 'none'; "
    "script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; "
    "font-src https://fonts.gstatic.com; "
    "img-src 'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly; "
    "connect-src 'self'; worker-src 'self' blob:; "
    "frame-ancestors 'none'"
)
DOCS_PATHS = frozenset({"/docs", "/docs/oauth2-redirect", "/redoc"})
HSTS = "max-age=63072000; includeSubDomains"


class SecurityHeadersMiddleware:
    """Headers every response carries: no MIME sniffing, no framing, no referrer, a CSP, and HSTS
    when `hsts` is on (production, which is served over HTTPS only)."""

    def __init__(self, app: ASGIApp, *, hsts: bool) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        csp = DOCS_CSP if scope["path"] in DOCS_PATHS else API_CSP

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("X-Frame-Options", "DENY")
                headers.setdefault("Content-Security-Policy", csp)
                headers.setdefault("Referrer-Policy", "no-referrer")
                if self.hsts:
                    headers.setdefault("Strict-Transport-Security", HSTS)
            await send(message)

        await self.app(scope, receive, send_with_headers)
