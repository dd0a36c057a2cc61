"""A method a path does not serve is `405` with an `Allow` that lists every method the path serves,
generated over the OpenAPI operations (GET and POST of one path are two routes; both are named)."""

from __future__ import annotations

import re
import uuid

from httpx import AsyncClient

from tests.fixtures.contract import openapi_document

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def _paths() -> list[tuple[str, str]]:
    spec = openapi_document()
    served = []
    for path, operations in spec["paths"].items():
        allowed = sorted(m.upper() for m in operations if m.upper() in METHODS)
        served.append((path, ", ".join(allowed)))
    return served


async def test_405_names_every_method_of_the_path(client: AsyncClient) -> None:
    wrong = {}
    for path, allow in _paths():
        concrete = re.sub(r"\{[^}]+\}", str(uuid.UUID(int=7)), path)
        missing = next(m for m in METHODS if m not in allow.split(", "))
        response = await client.request(missing, concrete)
        if response.status_code != 405 or response.headers.get("allow") != allow:
            wrong[f"{missing} {path}"] = (response.status_code, response.headers.get("allow"), allow)
    assert wrong == {}
