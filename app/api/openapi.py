"""OpenAPI document: tag metadata and the post-processing that makes errors problem+json."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts

from app.errors import PROBLEM_MEDIA_TYPE, Problem

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
        "name": "events",
        "description": "Connection sessions: events, participants, meeting requests, optimal schedules, agendas "
        "(JSON, iCalendar, CSV), outcomes, analytics and proposed sessions.",
    },
    {"name": "stats", "description": "Market indicators against the programme targets; CSV, JSON and XLSX."},
    {
        "name": "search",
        "description": "Typo- and diacritics-tolerant full-text search with filters, facets and highlights.",
    },
]

_PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}


def _problem_content() -> dict[str, Any]:
    example = Problem.model_config.get("json_schema_extra", {})["examples"][0]  # type: ignore[index]
    return {PROBLEM_MEDIA_TYPE: {"schema": _PROBLEM_REF, "example": example}}


_PRIMITIVE_EXAMPLES: dict[str, Any] = {"integer": 1, "number": 1.0, "boolean": True, "string": "text"}


def _example(schema: dict[str, Any], components: dict[str, Any], depth: int = 0) -> Any:
    """An example for a schema, composed from the examples its parts declare."""
    if depth > 8:
        return None
    if "examples" in schema:
        return schema["examples"][0]
    if "example" in schema:
        return schema["example"]
    if "$ref" in schema:
        return _example(components[schema["$ref"].rsplit("/", 1)[-1]], components, depth + 1)
    if "default" in schema and schema["default"] is not None:
        return schema["default"]
    for key in ("anyOf", "oneOf", "allOf"):
        options = [o for o in schema.get(key, []) if o.get("type") != "null"]
        if options:
            return _example(options[0], components, depth + 1)
    if schema.get("type") == "array":
        return [_example(schema.get("items", {}), components, depth + 1)]
    if schema.get("type") == "object" or "properties" in schema:
        return {name: _example(prop, components, depth + 1) for name, prop in schema.get("properties", {}).items()}
    if "enum" in schema:
        return schema["enum"][0]
    return _PRIMITIVE_EXAMPLES.get(schema.get("type", ""))


def _add_composed_examples(schema: dict[str, Any]) -> None:
    """Give every request and success response body an example, so clients see realistic shapes."""
    components = schema.get("components", {}).get("schemas", {})
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            bodies = [operation.get("requestBody", {})]
            bodies += [r for s, r in operation.get("responses", {}).items() if s.startswith("2")]
            for body in bodies:
                for media in body.get("content", {}).values():
                    if "example" not in media and "schema" in media:
                        media["example"] = _example(media["schema"], components)


def _calls(dependant: Dependant, function: Any) -> bool:
    return any(d.call is function or _calls(d, function) for d in dependant.dependencies)


def _mark_optional_auth(app: FastAPI, schema: dict[str, Any]) -> None:
    """Operations that serve anonymous callers too list `{}` among their security requirements."""
    from app.api.deps import get_optional_principal, get_principal

    for context in iter_route_contexts(app.routes):
        if not isinstance(context.original_route, APIRoute):
            continue
        route: Any = context  # an included route: the original's dependant under the full path
        if _calls(route.dependant, get_principal) or not _calls(route.dependant, get_optional_principal):
            continue
        for method in route.methods:
            operation = schema["paths"].get(route.path_format, {}).get(method.lower())
            if operation is not None and {} not in operation.get("security", [{}]):
                operation["security"].insert(0, {})


def _declare_malformed_bodies(schema: dict[str, Any]) -> None:
    """Operations that read a body answer 400 when it is not JSON (or form data) at all."""
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            if "requestBody" in operation:
                operation["responses"].setdefault("400", {"description": "Malformed request body"})


def install_openapi(app: FastAPI) -> None:
    """Declare every 4xx/5xx response as `application/problem+json` with the `Problem` schema."""

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
        )
        _mark_optional_auth(app, schema)
        _declare_malformed_bodies(schema)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.setdefault("Problem", Problem.model_json_schema(ref_template="#/components/schemas/{model}"))
        for defn in Problem.model_json_schema(ref_template="#/components/schemas/{model}").get("$defs", {}).items():
            components.setdefault(*defn)
        components["Problem"].pop("$defs", None)
        for path_item in schema.get("paths", {}).values():
            for operation in path_item.values():
                for status, response in operation.get("responses", {}).items():
                    if status.isdigit() and int(status) >= 400:
                        response["content"] = _problem_content()
                        if status == "422":
                            response["description"] = "Validation error"
        for unused in ("HTTPValidationError", "ValidationError"):
            components.pop(unused, None)
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
