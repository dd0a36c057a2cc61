"""Write a TypeScript file that type-checks the contract as a frontend sees it.

For the types openapi-typescript generates from `openapi.yaml` with its default options:
every request body built from its example with the required fields only must compile
(fields with defaults are optional), and every response schema must have no optional
property (what the server always sends is `required`).

    python scripts/typescript_contract.py openapi.yaml > contract.ts
    npx openapi-typescript@7 openapi.yaml -o api.d.ts && npx tsc --strict --noEmit contract.ts
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _required_only(document: dict[str, Any], schema: dict[str, Any], value: Any) -> Any:
    """The example reduced to the properties the schema requires, recursively."""
    schema = _resolve(document, schema)
    if isinstance(value, dict) and "properties" in schema:
        required = schema.get("required", [])
        return {
            key: _required_only(document, schema["properties"][key], item)
            for key, item in value.items()
            if key in required and key in schema["properties"]
        }
    if isinstance(value, list) and "items" in schema:
        return [_required_only(document, schema["items"], item) for item in value]
    return value


def _response_schemas(document: dict[str, Any]) -> set[str]:
    """Component schemas reachable from a success response body."""
    seen: set[str] = set()
    stack: list[Any] = []
    for item in document["paths"].values():
        for operation in item.values():
            for status, response in operation["responses"].items():
                if status.startswith("2"):
                    stack += [m.get("schema", {}) for m in response.get("content", {}).values()]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/components/schemas/"):
                name = ref.rsplit("/", 1)[-1]
                if name not in seen:
                    seen.add(name)
                    stack.append(document["components"]["schemas"][name])
            stack += list(node.values())
        elif isinstance(node, list):
            stack += node
    return seen


def render(document: dict[str, Any]) -> str:
    lines = ['import type { components } from "./api";', 'type S = components["schemas"];', ""]
    lines.append(
        "type AllRequired<T> = T extends object ? ({} extends Pick<T, OptionalKeys<T>> ? true : never) : true;"
    )
    lines.append("type OptionalKeys<T> = { [K in keyof T]-?: {} extends Pick<T, K> ? K : never }[keyof T];")
    lines.append("type NoOptional<T> = [OptionalKeys<T>] extends [never] ? true : OptionalKeys<T>;")
    count = 0
    for item in document["paths"].values():
        for operation in item.values():
            for media in operation.get("requestBody", {}).get("content", {}).values():
                ref = media.get("schema", {}).get("$ref", "")
                if not ref or "example" not in media:
                    continue
                name = ref.rsplit("/", 1)[-1]
                body = _required_only(document, media["schema"], media["example"])
                count += 1
                lines.append(
                    f"export const request{count}: S[{json.dumps(name)}] = {json.dumps(body, ensure_ascii=False)};"
                )
    for name in sorted(_response_schemas(document)):
        schema = document["components"]["schemas"][name]
        if "properties" in schema:
            lines.append(f"export const response_{name.replace('-', '_')}: NoOptional<S[{json.dumps(name)}]> = true;")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    source = Path(sys.argv[1] if len(sys.argv) > 1 else "openapi.yaml")
    sys.stdout.write(render(yaml.safe_load(source.read_text(encoding="utf-8"))))
