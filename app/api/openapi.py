"""OpenAPI document: tag metadata and the post-processing that makes errors problem+json."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from app.errors import PROBLEM_MEDIA_TYPE, Problem

OPENAPI_TAGS: list[dict[str, Any]] = [
    {"name": "health", "description": "Liveness and readiness probes."},
    {
        "name": "auth",
        "description": (
            "Registration, OAuth2 password sign-in, rotating refresh tokens, the caller's account."
        ),
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
]

_PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}


def _problem_content() -> dict[str, Any]:
    example = Problem.model_config.get("json_schema_extra", {})["examples"][0]  # type: ignore[index]
    return {PROBLEM_MEDIA_TYPE: {"schema": _PROBLEM_REF, "example": example}}


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
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.setdefault(
            "Problem", Problem.model_json_schema(ref_template="#/components/schemas/{model}")
        )
        for defn in (
            Problem.model_json_schema(ref_template="#/components/schemas/{model}").get("$defs", {}).items()
        ):
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
