"""The production stack as files: the compose file, the image and the schema check that makes a
one-off migration safe. (`docker compose config` is not available everywhere; the compose file is
parsed as YAML, which is what compose reads, merge keys included.)"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import yaml

from app.main import create_app
from app.migrations import SchemaNotCurrentError, downgrade, upgrade
from app.search.embedded import EmbeddedBackend
from tests.conftest import make_settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    return document["services"]


def test_migrations_run_once_before_the_api_and_the_worker(compose: dict[str, Any]) -> None:
    assert compose["migrate"]["command"] == ["techex", "migrate"]
    assert compose["migrate"]["restart"] == "no"
    for service in ("api", "worker"):
        assert compose[service]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
        assert "migrate" not in " ".join(compose[service]["command"])
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    cmd = next(line for line in dockerfile.splitlines() if line.startswith("CMD"))
    assert "migrate" not in cmd


def test_the_api_scales_out_behind_the_proxy(compose: dict[str, Any]) -> None:
    api, proxy = compose["api"], compose["proxy"]
    assert "ports" not in api, "replicas cannot share a host port: the proxy publishes one"
    assert str(api["deploy"]["replicas"]).startswith("${API_REPLICAS")
    assert api["environment"]["FORWARDED_ALLOW_IPS"] == proxy["networks"]["backend"]["ipv4_address"]
    assert api["environment"]["REDIS_URL"].startswith("redis://redis:")
    assert api["environment"]["INDEXER_IN_PROCESS"] == "false"
    assert "METRICS_TOKEN" in api["environment"]
    nginx = (ROOT / "deploy" / "nginx.conf").read_text(encoding="utf-8")
    assert "http://api:8000" in nginx
    assert "location = /metrics" in nginx


def test_the_api_holds_a_search_only_key_and_never_the_master_key(compose: dict[str, Any]) -> None:
    assert compose["api"]["environment"]["MEILI_API_KEY"].startswith("${MEILI_API_KEY_SEARCH")
    assert compose["worker"]["environment"]["MEILI_API_KEY"].startswith("${MEILI_API_KEY_WRITE")
    for name in ("api", "worker", "migrate"):
        assert "MEILI_MASTER_KEY" not in str(compose[name]["environment"]), name


def test_the_image_installs_the_lock(compose: dict[str, Any]) -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "uv.lock" in dockerfile
    assert "uv sync --locked --no-dev" in dockerfile
    assert "WEB_CONCURRENCY=1" in dockerfile


async def test_the_api_refuses_to_start_on_a_schema_behind_head(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    await asyncio.to_thread(upgrade, url)
    await asyncio.to_thread(downgrade, url, "-1")
    search = EmbeddedBackend(tmp_path / "index")
    app = create_app(make_settings(url), search=search)
    try:
        with pytest.raises(SchemaNotCurrentError, match=r"run `techex migrate`"):
            async with app.router.lifespan_context(app):
                pass
        await asyncio.to_thread(upgrade, url)
        async with app.router.lifespan_context(app):
            pass
    finally:
        await search.close()  # the lifespan closes only a backend it created


async def test_an_empty_database_is_refused_too(tmp_path: Path) -> None:
    app = create_app(make_settings(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"))
    with pytest.raises(SchemaNotCurrentError, match="empty database"):
        async with app.router.lifespan_context(app):
            pass
