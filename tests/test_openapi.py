"""The committed `openapi.yaml` is what the app generates, and every operation is documented."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from app.api.openapi import render_openapi

ROOT = Path(__file__).resolve().parent.parent
# libyaml's parser when PyYAML has it: the same documents, read several times faster (the file is 1.7 MB).
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@pytest.fixture(scope="module")
def generated() -> dict[str, Any]:
    """The document as `make openapi` writes it, read back; rendered once for the module (seconds each)."""
    return dict(yaml.load(render_openapi(), Loader=LOADER))  # noqa: S506 (a safe loader)


def test_committed_openapi_is_current(generated: dict[str, Any]) -> None:
    committed = yaml.load((ROOT / "openapi.yaml").read_text(encoding="utf-8"), Loader=LOADER)  # noqa: S506
    assert committed == generated, "openapi.yaml is stale: run `make openapi` and commit it"


def test_every_operation_has_summary_description_and_problem_errors(generated: dict[str, Any]) -> None:
    schema = generated
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            where = f"{method.upper()} {path}"
            assert operation.get("summary"), f"{where} has no summary"
            assert operation.get("description"), f"{where} has no description"
            assert operation.get("tags"), f"{where} has no tag"
            for status, response in operation["responses"].items():
                if int(status) >= 400:
                    assert list(response["content"]) == ["application/problem+json"], where


def test_every_body_has_an_example(generated: dict[str, Any]) -> None:
    schema = generated
    components = schema["components"]["schemas"]
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            bodies = [("request", operation.get("requestBody", {}))]
            bodies += [(status, r) for status, r in operation["responses"].items() if status.startswith("2")]
            for which, body in bodies:
                for media_type, media in body.get("content", {}).items():
                    ref = media.get("schema", {}).get("$ref", "")
                    declared = components.get(ref.rsplit("/", 1)[-1], {}).get("examples")
                    assert media.get("example") or declared, f"{method.upper()} {path} {which} {media_type}"


def test_api_metadata(generated: dict[str, Any]) -> None:
    info = generated["info"]
    for key in ("title", "version", "description", "contact", "license"):
        assert info.get(key), f"info.{key} is missing"
