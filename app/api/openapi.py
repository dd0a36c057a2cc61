"""OpenAPI document: tag metadata and the post-processing that makes errors problem+json."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator, Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts

from app.accounts.exceptions import InvalidApiKeyError, InvalidTokenError
from app.errors import (
    CONCURRENT_CHANGE,
    INTEGRITY_CONFLICT,
    INTERNAL_SERVER_ERROR,
    MALFORMED_JSON,
    PROBLEM_CODES_KEY,
    PROBLEM_MEDIA_TYPE,
    PROBLEM_TYPE_PREFIX,
    PROBLEM_TYPES,
    REQUEST_VALIDATION_FAILED,
    AppError,
    AuthenticationError,
    ConflictError,
    DatabaseBusyError,
    DeadlineExceededError,
    InvalidInputError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    Problem,
    ProblemSource,
    ProblemType,
    ServerBusyError,
    ServiceUnavailableError,
    TooManyRequestsError,
    merge_responses,
    problem_responses,
)

OPENAPI_TAGS: list[dict[str, Any]] = [
    {"name": "health", "description": "Liveness and readiness probes."},
    {
        "name": "auth",
        "description": ("Registration, OAuth2 password sign-in, rotating refresh tokens, the caller's account."),
    },
    {
        "name": "organizations",
        "description": "Enterprises, institutes, universities, intermediaries, government.",
    },
    {"name": "members", "description": "An organisation's accounts and invitations."},
    {"name": "api-keys", "description": "Organisation-scoped keys for integrations (`X-API-Key`)."},
    {"name": "accounts", "description": "Platform roles, for administrators."},
    {"name": "mandates", "description": "Clients let intermediaries' brokers act on their behalf."},
    {"name": "audit", "description": "Who changed what, when, and under which mandate or key."},
    {
        "name": "webhooks",
        "description": "Endpoints that receive the organisation's events, signed to the Standard Webhooks "
        "specification; the events themselves are under `webhooks`.",
    },
    {"name": "taxonomy", "description": "Technology fields, sub-fields and keyword concepts (vi / en / ja)."},
    {
        "name": "offers",
        "description": "Technology offers (supply): transferable results, patents, know-how, equipment.",
    },
    {"name": "demands", "description": "Technology demands: enterprises' needs."},
    {"name": "matching", "description": "Ranked counterparts with the reasons, in vi / en / ja."},
    {"name": "notifications", "description": "Match alerts and the notifications they record."},
    {"name": "interests", "description": "Expressions of interest in listings and their message threads."},
    {"name": "deals", "description": "Technology transactions: parties, broker, value, stage, origin."},
    {
        "name": "documents",
        "description": "Files attached to listings, service requests and deals: checked by content, scanned, "
        "stored on the filesystem or S3, downloaded through signed links that expire.",
    },
    {
        "name": "follow-up",
        "description": "After transfer: a signed deal's milestones and its check-ins at 3, 6 and 12 months.",
    },
    {
        "name": "service-requests",
        "description": "Intermediary services (appraisal, valuation, legal, IP, finance, negotiation, contract "
        "drafting, technology assessment): requests, quotes, delivery and ratings.",
    },
    {
        "name": "valuations",
        "description": "Valuation worksheets: cost, market (the platform's own deals) and income approaches side "
        "by side, as JSON or XLSX; never an accredited appraisal.",
    },
    {
        "name": "events",
        "description": "Connection sessions: events, participants, meeting requests, optimal schedules, agendas "
        "(JSON, iCalendar, CSV), outcomes, analytics and proposed sessions.",
    },
    {
        "name": "experts",
        "description": "Experts at home and abroad: profiles with per-field visibility, ORCID import, experts for a "
        "listing, and consultation requests (contact revealed on acceptance, capped per organisation per month).",
    },
    {"name": "stats", "description": "Market indicators against the programme targets; CSV, JSON and XLSX."},
    {
        "name": "search",
        "description": "Typo- and diacritics-tolerant full-text search with filters, facets and highlights.",
    },
]

_PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
_REQUEST_ID_EXAMPLE = "5f0c6d3e9b2a4c1d8e7f6a5b4c3d2e1f"

# Response and request headers, declared once under `components` and referred to by name.
RESPONSE_HEADERS: dict[str, dict[str, Any]] = {
    "X-Request-ID": {
        "description": "The request's id (the client's own when it sent a valid one); quote it when reporting.",
        "schema": {"type": "string"},
    },
    "ETag": {
        "description": "The version of the record; send it back in `If-Match` to change or delete it.",
        "schema": {"type": "string", "examples": ['"3"']},
    },
    "Location": {"description": "The URL of the created record.", "schema": {"type": "string"}},
    "Idempotent-Replayed": {
        "description": "`true` when this answer replays the first response to the same `Idempotency-Key`.",
        "schema": {"type": "string", "enum": ["true"]},
    },
    "Retry-After": {
        "description": "Seconds to wait before sending the same request again.",
        "schema": {"type": "integer", "minimum": 1},
    },
    "Content-Disposition": {
        "description": "The file name to save the download under.",
        "schema": {"type": "string", "examples": ['attachment; filename="agenda.ics"']},
    },
    "Link": {
        "description": 'The next (and previous) page of the list, RFC 8288: `<…?cursor=…>; rel="next"`.',
        "schema": {"type": "string"},
    },
    "WWW-Authenticate": {"description": "The authentication scheme expected: `Bearer`.", "schema": {"type": "string"}},
    "Cache-Control": {"description": "`no-store`: the body carries a secret.", "schema": {"type": "string"}},
}
REQUEST_HEADER_PARAMETERS: dict[str, dict[str, Any]] = {
    "RequestTimeout": {
        "name": "Request-Timeout",
        "in": "header",
        "required": False,
        "description": "Seconds the client will wait. Past them the server gives up, changes nothing and "
        "answers 503 `DeadlineExceeded`.",
        "schema": {"type": "number", "exclusiveMinimum": 0, "maximum": 300},
    },
    "RequestDeadline": {
        "name": "Request-Deadline",
        "in": "header",
        "required": False,
        "description": "The same as `Request-Timeout`, as an RFC 3339 time with a time zone; the earlier wins.",
        "schema": {"type": "string", "format": "date-time"},
    },
}


def response_headers(status: int, *names: str) -> dict[int | str, dict[str, Any]]:
    """`responses=` entry declaring the headers a successful answer carries."""
    unknown = set(names) - set(RESPONSE_HEADERS)
    assert not unknown, f"undeclared response headers: {unknown}"
    return {status: {"headers": {name: _header_ref(name) for name in names}}}


def _header_ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/headers/{name}"}


def operation_id(route: APIRoute) -> str:
    """`<tag>.<endpoint>` in camelCase, e.g. `events.getParticipantAgenda`: stable and readable in SDKs."""
    tag = str(route.tags[0]) if route.tags else "default"
    return f"{camel(tag)}.{camel(route.name)}"


def camel(name: str) -> str:
    head, *rest = re.split(r"[-_ ]+", name)
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


_PRIMITIVE_EXAMPLES: dict[str, Any] = {"integer": 1, "number": 1.0, "boolean": True, "string": "text"}


def _example(schema: dict[str, Any], components: dict[str, Any], depth: int = 0) -> Any:
    """An example for a schema, composed from the examples its parts declare."""
    if depth > 12:
        return None
    if "examples" in schema:
        return schema["examples"][0]
    if "example" in schema:
        return schema["example"]
    if "$ref" in schema:
        return _example(components[schema["$ref"].rsplit("/", 1)[-1]], components, depth + 1)
    if "default" in schema and schema["default"] is not None:
        return schema["default"]
    if "const" in schema:
        return schema["const"]
    for key in ("anyOf", "oneOf", "allOf"):
        options = [o for o in schema.get(key, []) if o.get("type") != "null"]
        if options:
            return _example(options[0], components, depth + 1)
    if "prefixItems" in schema:
        return [_example(item, components, depth + 1) for item in schema["prefixItems"]]
    if schema.get("type") == "array":
        return [_example(schema.get("items", {}), components, depth + 1)]
    if schema.get("type") == "object" or "properties" in schema:
        return {name: _example(prop, components, depth + 1) for name, prop in schema.get("properties", {}).items()}
    if "enum" in schema:
        return schema["enum"][0]
    return _PRIMITIVE_EXAMPLES.get(schema.get("type", ""))


def _nullable(schema: dict[str, Any]) -> bool:
    return schema.get("type") == "null" or any(o.get("type") == "null" for o in schema.get("anyOf", []))


def _complete(example: Any, schema: dict[str, Any], components: dict[str, Any], depth: int = 0) -> None:
    """Fill in what an example leaves out and the server always sends (defaults, nulls), at every level."""
    if depth > 12:
        return
    if "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[-1]]
    if isinstance(example, dict) and "properties" in schema:
        for name, prop in schema["properties"].items():
            if name not in example and name in schema.get("required", []):
                if "default" in prop:
                    example[name] = prop["default"]
                elif _nullable(prop):
                    example[name] = None
                elif prop.get("type") in ("array", "object"):
                    example[name] = [] if prop["type"] == "array" else {}
            if name in example:
                _complete(example[name], prop, components, depth + 1)
    elif isinstance(example, list) and isinstance(schema.get("items"), dict):
        for item in example:
            _complete(item, schema["items"], components, depth + 1)
    elif isinstance(example, dict) and isinstance(schema.get("additionalProperties"), dict):
        for item in example.values():
            _complete(item, schema["additionalProperties"], components, depth + 1)
    elif isinstance(example, dict) and "discriminator" in schema:
        discriminator = schema["discriminator"]
        chosen = discriminator.get("mapping", {}).get(str(example.get(discriminator["propertyName"])))
        if chosen:
            _complete(example, {"$ref": chosen}, components, depth + 1)
    elif example is not None:
        options = [o for o in schema.get("anyOf", schema.get("oneOf", [])) if o.get("type") != "null"]
        if len(options) == 1:
            _complete(example, options[0], components, depth + 1)


def _complete_examples(components: dict[str, Any]) -> None:
    """Response schemas' examples show every field a response carries, as the server sends them."""
    for schema in components.values():
        for example in schema.get("examples", []):
            _complete(example, schema, components)


def _add_composed_examples(schema: dict[str, Any]) -> None:
    """Give every request and success response body an example, so clients see realistic shapes."""
    components = schema.get("components", {}).get("schemas", {})
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            bodies = [operation.get("requestBody", {})]
            bodies += [r for s, r in operation.get("responses", {}).items() if s.startswith("2")]
            for body in bodies:
                for media in body.get("content", {}).values():
                    if "example" not in media and "examples" not in media and "schema" in media:
                        media["example"] = _example(media["schema"], components)


def _calls(dependant: Dependant, function: Any) -> bool:
    return any(d.call is function or _calls(d, function) for d in dependant.dependencies)


def _operations(app: FastAPI, schema: dict[str, Any]) -> Iterator[tuple[Any, dict[str, Any]]]:
    """Each route (an included route: the original's dependant under the full path) with its operation."""
    for context in iter_route_contexts(app.routes):
        if not isinstance(context.original_route, APIRoute):
            continue
        route: Any = context
        for method in route.methods:
            operation = schema["paths"].get(route.path_format, {}).get(method.lower())
            if operation is not None:
                yield route, operation


def declare_problems(router: APIRouter, problems: Mapping[str, Sequence[ProblemSource]]) -> None:
    """Document the problems each endpoint of `router` raises, by endpoint name.

    Kept apart from the route decorators so that a route module reads as a list of endpoints
    followed by what each can refuse; problems shared by every operation are added for all.
    """
    routes = {route.name: route for route in router.routes if isinstance(route, APIRoute)}
    unknown = set(problems) - set(routes)
    assert not unknown, f"no such endpoints: {unknown}"
    for name, sources in problems.items():
        route = routes[name]
        route.responses = merge_responses(route.responses or {}, problem_responses(*sources))


def declare_headers(router: APIRouter, headers: Mapping[str, Sequence[str]]) -> None:
    """Document the headers each endpoint of `router` sets on its successful answer, by endpoint name."""
    routes = {route.name: route for route in router.routes if isinstance(route, APIRoute)}
    unknown = set(headers) - set(routes)
    assert not unknown, f"no such endpoints: {unknown}"
    for name, names in headers.items():
        route = routes[name]
        status = route.status_code or 200
        declared = response_headers(status, *names)
        responses = dict(route.responses or {})
        entry = dict(responses.get(status, {}))
        entry["headers"] = {**entry.get("headers", {}), **declared[status]["headers"]}
        responses[status] = entry
        route.responses = responses


def _not_found_by_parameter() -> dict[str, type[AppError]]:
    """The 404 each path parameter can cause: an operation on `/events/{event_id}` may not find the event."""
    from app.accounts.exceptions import AccountNotFoundError, ApiKeyNotFoundError, InvitationNotFoundError
    from app.deals.service import DealNotFoundError, InterestNotFoundError
    from app.events.service import (
        EventNotFoundError,
        MeetingNotFoundError,
        ParticipantNotFoundError,
        SessionNotFoundError,
    )
    from app.listings.exceptions import ListingNotFoundError
    from app.mandates.service import MandateNotFoundError
    from app.organizations.exceptions import OrganizationNotFoundError
    from app.scheduling.agenda import TableNotFoundError
    from app.webhooks.exceptions import WebhookEndpointNotFoundError

    return {
        "offer_id": ListingNotFoundError,
        "demand_id": ListingNotFoundError,
        "candidate_id": ListingNotFoundError,
        "organization_id": OrganizationNotFoundError,
        "account_id": AccountNotFoundError,
        "invitation_id": InvitationNotFoundError,
        "api_key_id": ApiKeyNotFoundError,
        "mandate_id": MandateNotFoundError,
        "interest_id": InterestNotFoundError,
        "deal_id": DealNotFoundError,
        "event_id": EventNotFoundError,
        "session_id": SessionNotFoundError,
        "participant_id": ParticipantNotFoundError,
        "request_id": MeetingNotFoundError,
        "meeting_id": MeetingNotFoundError,
        "table": TableNotFoundError,
        "endpoint_id": WebhookEndpointNotFoundError,
    }


def _mark_optional_auth(app: FastAPI, schema: dict[str, Any]) -> None:
    """Operations that serve anonymous callers too list `{}` among their security requirements."""
    from app.api.deps import get_optional_principal, get_principal

    for route, operation in _operations(app, schema):
        if _calls(route.dependant, get_principal) or not _calls(route.dependant, get_optional_principal):
            continue
        if {} not in operation.get("security", [{}]):
            operation["security"].insert(0, {})


def _shared_problems(route: Any, operation: dict[str, Any]) -> list[ProblemType | type[AppError]]:
    """The problems an operation can answer with whatever it does: from the middleware and its dependencies."""
    from app.api.deps import get_optional_principal, get_principal, get_session_within_deadline, send_no_store
    from app.api.idempotency import claim_idempotency_key
    from app.idempotency.service import IdempotencyKeyReusedError, IdempotentSecretNotReplayedError

    if "health" in operation.get("tags", []):
        return [INTERNAL_SERVER_ERROR]  # probes are never shed nor validated
    problems: list[ProblemType | type[AppError]] = [
        REQUEST_VALIDATION_FAILED,  # `Request-Timeout` / `Request-Deadline` and every parameter
        INTERNAL_SERVER_ERROR,
        ServerBusyError,
    ]
    dependant = route.dependant
    if _calls(dependant, get_principal):
        problems += [AuthenticationError, InvalidTokenError, InvalidApiKeyError]
    elif _calls(dependant, get_optional_principal):
        problems += [InvalidTokenError, InvalidApiKeyError]
    if _calls(dependant, get_optional_principal) or _calls(dependant, get_session_within_deadline):
        problems.append(DatabaseBusyError)
    if _calls(dependant, get_session_within_deadline):
        problems.append(DeadlineExceededError)
        if "GET" not in route.methods:
            problems += [INTEGRITY_CONFLICT, CONCURRENT_CHANGE]
    if "requestBody" in operation:
        problems += [MALFORMED_JSON, PayloadTooLargeError]
    if _calls(dependant, claim_idempotency_key):
        problems.append(IdempotencyKeyReusedError)
        if _calls(dependant, send_no_store):  # a secret shown once is never stored, so never replayed
            problems.append(IdempotentSecretNotReplayedError)
    not_found = _not_found_by_parameter()
    problems += [not_found[name] for name in re.findall(r"\{(\w+)\}", route.path_format) if name in not_found]
    return problems


_GENERIC_CODES: dict[int, type[AppError]] = {
    cls.status: cls
    for cls in (
        NotFoundError,
        ConflictError,
        AuthenticationError,
        PermissionDeniedError,
        InvalidInputError,
        TooManyRequestsError,
        ServiceUnavailableError,
    )
}


def _generic_code(status: int) -> str:
    """The code of a status only declared as a number: its most general problem type."""
    if status in _GENERIC_CODES:
        return _GENERIC_CODES[status].code
    return next(p.code for p in PROBLEM_TYPES.values() if p.status == status)


def _problem_example(problem: ProblemType) -> dict[str, Any]:
    example: dict[str, Any] = {
        "type": PROBLEM_TYPE_PREFIX + problem.code,
        "title": problem.title,
        "status": problem.status,
        "detail": problem.detail or problem.title,
        "instance": "/api/v1/offers/3d9f7a1e-5b2c-4e8d-9a6f-1c2b3d4e5f60",
        "code": problem.code,
        "request_id": _REQUEST_ID_EXAMPLE,
    }
    if problem.status == 422:
        example["errors"] = [
            {"loc": ["body", "email"], "msg": "value is not a valid email address", "type": "value_error"}
        ]
    if problem.status == 429:
        example["retry_after"] = 60
    return example


def _document_problems(app: FastAPI, schema: dict[str, Any]) -> None:
    """Every 4xx/5xx answer: problem+json, the codes it can carry (an enum) and one example per code."""
    for route, operation in _operations(app, schema):
        responses = operation.setdefault("responses", {})
        declared: dict[int | str, dict[str, Any]] = {
            str(status): {PROBLEM_CODES_KEY: response.pop(PROBLEM_CODES_KEY, [])}
            for status, response in responses.items()
            if status.isdigit() and int(status) >= 400
        }
        shared = problem_responses(*_shared_problems(route, operation))
        for status, entry in merge_responses(declared, {str(k): v for k, v in shared.items()}).items():
            codes = entry[PROBLEM_CODES_KEY] or [_generic_code(int(status))]
            response = responses.setdefault(status, {})
            phrase = HTTPStatus(int(status)).phrase
            response["description"] = f"{phrase}: " + ", ".join(f"`{code}`" for code in codes)
            response["content"] = {
                PROBLEM_MEDIA_TYPE: {
                    "schema": {
                        "allOf": [_PROBLEM_REF],
                        "properties": {"status": {"const": int(status)}, "code": {"enum": codes}},
                    },
                    "examples": {code: {"$ref": f"#/components/examples/{code}"} for code in codes},
                }
            }
            headers = response.setdefault("headers", {})
            if status in ("429", "503"):
                headers["Retry-After"] = _header_ref("Retry-After")
            if status == "401":
                headers["WWW-Authenticate"] = _header_ref("WWW-Authenticate")
        operation["responses"] = dict(sorted(responses.items()))


def _document_headers(app: FastAPI, schema: dict[str, Any]) -> None:
    """`X-Request-ID` on every answer; the deadline headers on every request the server may shed;
    `If-Match` required where its absence is refused (428); `Idempotent-Replayed` where a key is
    honoured, `Link` on every page of a list."""
    from app.api.idempotency import claim_idempotency_key

    components = schema.get("components", {}).get("schemas", {})
    for route, operation in _operations(app, schema):
        replays = _calls(route.dependant, claim_idempotency_key)
        for status, response in operation["responses"].items():
            headers = response.setdefault("headers", {})
            headers["X-Request-ID"] = _header_ref("X-Request-ID")
            if status.startswith("2") and replays:
                headers["Idempotent-Replayed"] = _header_ref("Idempotent-Replayed")
            body = response.get("content", {}).get("application/json", {}).get("schema", {})
            listed = components.get(str(body.get("$ref", "")).rsplit("/", 1)[-1], {})
            if status.startswith("2") and "next_cursor" in listed.get("properties", {}):
                headers["Link"] = _header_ref("Link")
            response["headers"] = dict(sorted(headers.items()))
        if "health" not in operation.get("tags", []):
            parameters = operation.setdefault("parameters", [])
            parameters += copy.deepcopy(list(REQUEST_HEADER_PARAMETERS.values()))
        if "428" in operation["responses"]:
            for parameter in operation.get("parameters", []):
                if str(parameter.get("name", "")).lower() == "if-match":
                    parameter["required"] = True
                    parameter["schema"] = {"type": "string"}


def _add_problem_schema(components: dict[str, Any]) -> None:
    problem_schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, definition in problem_schema.pop("$defs", {}).items():
        components.setdefault(name, definition)
    problem_schema["properties"]["code"] = {
        "$ref": "#/components/schemas/ProblemCode",
        "description": problem_schema["properties"]["code"].get("description", ""),
    }
    components["Problem"] = problem_schema
    components["ProblemCode"] = {
        "type": "string",
        "title": "ProblemCode",
        "description": "Every `code` a problem can carry; each operation lists those it raises.",
        "enum": sorted(PROBLEM_TYPES),
    }


def _document_webhook_answers(schema: dict[str, Any]) -> None:
    """A receiver answers any 2xx, with any body; request validation is the receiver's own business."""
    for item in schema.get("webhooks", {}).values():
        for operation in item.values():
            operation["responses"] = {
                "2XX": {"description": "Received. Anything else is retried; 410 Gone disables the endpoint."}
            }


def install_openapi(app: FastAPI) -> None:
    """Build the document from the routes, with problem+json errors, their codes and the headers."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
            tags=app.openapi_tags,
            contact=app.contact,
            license_info=app.license_info,
            webhooks=app.webhooks.routes,
        )
        _mark_optional_auth(app, schema)
        components = schema.setdefault("components", {})
        _add_problem_schema(components.setdefault("schemas", {}))
        components["headers"] = RESPONSE_HEADERS
        components["examples"] = {
            code: {"summary": problem.title, "value": _problem_example(problem)}
            for code, problem in sorted(PROBLEM_TYPES.items())
        }
        _document_problems(app, schema)
        _document_headers(app, schema)
        _document_webhook_answers(schema)
        for unused in ("HTTPValidationError", "ValidationError"):
            components["schemas"].pop(unused, None)
        _complete_examples(components["schemas"])
        _add_composed_examples(schema)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def render_openapi(*, json_format: bool = False) -> str:
    """The app's OpenAPI document as text; `openapi.yaml` is this, committed."""
    import json

    import yaml

    from app.main import create_app

    schema = create_app().openapi()
    if json_format:
        return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
    return yaml.safe_dump(schema, sort_keys=False, allow_unicode=True, width=100)
