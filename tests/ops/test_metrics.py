"""/metrics as an operator scrapes it: the real server with two worker processes, after traffic.

The exposition is parsed with prometheus-client's own parser, and every family an operator
watches must be there with values that follow from the traffic sent.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from prometheus_client.mmap_dict import MmapedDict, mmap_key
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from app.config import Environment
from app.main import create_app
from app.metrics import exposition
from app.seed import load_demo_data
from tests.conftest import BASE_URL, make_settings
from tests.fixtures.live import copy_sqlite_database
from tests.test_typescript_client import free_port, wait_until_up

METRICS_TOKEN = "scrape-token-0123456789"
FAMILIES = {
    "techex_http_requests",
    "techex_http_request_duration_seconds",
    "techex_db_pool_connections_in_use",
    "techex_db_pool_waiting",
    "techex_outbox_pending",
    "techex_outbox_oldest_pending_seconds",
    "techex_indexer_batches",
    "techex_indexer_documents",
    "techex_indexer_batch_duration_seconds",
    "techex_search_duration_seconds",
    "techex_matching_duration_seconds",
    "techex_schedule_runs",
    "techex_schedule_duration_seconds",
    "techex_periodic_job_runs",
    "techex_periodic_job_duration_seconds",
    "techex_periodic_job_last_success_timestamp_seconds",
    "techex_webhook_deliveries",
}


def samples(text: str) -> dict[str, list[Sample]]:
    return {family.name: family.samples for family in text_string_to_metric_families(text)}


def value(found: dict[str, list[Sample]], name: str, **labels: str) -> float:
    """The sum of the samples called `name` whose labels include `labels`."""
    family = name.removesuffix("_total").removesuffix("_count").removesuffix("_sum")
    return sum(
        s.value
        for s in found.get(family, [])
        if s.name == name and all(s.labels.get(key) == wanted for key, wanted in labels.items())
    )


@pytest.fixture
def two_workers(tmp_path: Path, demo_database_template: str) -> Iterator[tuple[str, Path]]:
    """`techex serve --workers 2` over a migrated SQLite file with the demo data, indexer in process."""
    env = {
        **os.environ,
        "DATABASE_URL": copy_sqlite_database(demo_database_template, tmp_path / "techex.db"),
        "INDEX_DIR": str(tmp_path / "index"),
        "METRICS_TOKEN": METRICS_TOKEN,
        "EXPIRY_SWEEP_SECONDS": "1",
        "LOG_LEVEL": "WARNING",
    }
    techex = [sys.executable, "-m", "app.cli"]
    port = free_port()
    log = tmp_path / "server.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(  # noqa: S603
            [*techex, "serve", "--port", str(port), "--workers", "2"],
            cwd=tmp_path,
            env={**env, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics")},
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base_url, log, seconds=120)
        yield base_url, tmp_path / "metrics"
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.mark.slow
def test_two_workers_expose_every_family_after_traffic(two_workers: tuple[str, Path]) -> None:
    base_url, metrics_dir = two_workers
    auth = {"Authorization": f"Bearer {METRICS_TOKEN}"}
    with httpx.Client(base_url=base_url, timeout=30) as http:
        assert http.get("/metrics").status_code == 401
        # Enough requests that both workers answer some (each connection is its own).
        for _ in range(20):
            with httpx.Client(base_url=base_url, timeout=30) as fresh:
                assert fresh.get("/api/v1/search/offers", params={"q": "xử lý nước thải"}).status_code == 200
        offer = http.get("/api/v1/offers", params={"limit": 1}).json()["items"][0]
        assert http.get(f"/api/v1/offers/{offer['id']}/matches").status_code == 200
        assert http.get("/api/v1/offers/00000000-0000-0000-0000-000000000000").status_code == 404
        scraped = http.get("/metrics", headers=auth)
    assert scraped.status_code == 200
    writers = {path.stem.rsplit("_", 1)[1] for path in metrics_dir.glob("counter_*.db")}
    assert len(writers) == 2, f"two worker processes write samples, found {sorted(writers)}"
    assert scraped.headers["content-type"].startswith("text/plain")
    found = samples(scraped.text)
    assert set(found) >= FAMILIES, sorted(FAMILIES - set(found))

    search = value(found, "techex_http_requests_total", method="GET", route="/api/v1/search/offers", status="200")
    assert search == 20  # from both workers together, whichever answered the scrape
    assert value(found, "techex_http_requests_total", route="/api/v1/offers/{offer_id}", status="404") == 1
    assert value(found, "techex_http_request_duration_seconds_count", route="/api/v1/search/offers") == 20
    assert value(found, "techex_http_request_duration_seconds_sum", route="/api/v1/search/offers") > 0
    assert value(found, "techex_search_duration_seconds_count", index="offers") >= 20
    assert value(found, "techex_matching_duration_seconds_count") >= 1
    # The seeded catalogue was indexed by the workers' in-process indexers, in batches.
    assert value(found, "techex_indexer_documents_total") >= 209
    assert value(found, "techex_indexer_batches_total") >= 1
    assert value(found, "techex_outbox_pending") >= 0
    # Each worker's indexer polls the database: a connection may be out at the moment of the scrape.
    assert 0 <= value(found, "techex_db_pool_connections_in_use") <= 4
    assert 0 <= value(found, "techex_db_pool_waiting") <= 2
    assert value(found, "techex_periodic_job_runs_total", job="expire_listings", outcome="ok") >= 1
    assert value(found, "techex_periodic_job_last_success_timestamp_seconds", job="expire_listings") > 1.7e9
    assert not any(s.labels.get("route", "").count("0000") for s in found["techex_http_requests"]), (
        "routes are labelled by template, never by id"
    )


class TestScrapingInProcess:
    async def test_outbox_lag_is_read_at_scrape(self, app: FastAPI, client: AsyncClient) -> None:
        await load_demo_data(app.state.database)
        response = await client.get("/metrics")
        assert response.status_code == 200
        found = samples(response.text)
        assert value(found, "techex_outbox_pending") >= 209  # nothing drains the outbox in these tests
        assert value(found, "techex_outbox_oldest_pending_seconds") >= 0

    async def test_production_serves_metrics_only_with_a_token(self) -> None:
        settings = make_settings(secret_key="production-secret-" + "x" * 20).model_copy(
            update={"environment": Environment.PRODUCTION}
        )
        async with AsyncClient(transport=httpx.ASGITransport(app=create_app(settings)), base_url=BASE_URL) as http:
            assert (await http.get("/metrics")).status_code == 404


@pytest.mark.slow
def test_the_worker_serves_its_indexer_metrics_on_its_own_port(tmp_path: Path, demo_database_template: str) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": copy_sqlite_database(demo_database_template, tmp_path / "techex.db"),
        "INDEX_DIR": str(tmp_path / "index"),
        "LOG_LEVEL": "WARNING",
    }
    techex = [sys.executable, "-m", "app.cli"]
    port = free_port()
    process = subprocess.Popen(  # noqa: S603
        [*techex, "worker"],
        cwd=tmp_path,
        env={**env, "WORKER_METRICS_PORT": str(port)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        indexed = 0.0
        while time.monotonic() < deadline and indexed < 209:
            time.sleep(0.5)
            try:
                found = samples(httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2).text)
            except httpx.HTTPError:
                continue
            indexed = value(found, "techex_indexer_documents_total")
        assert indexed >= 209  # the catalogue's offers alone; demands and organisations come too
        assert value(found, "techex_indexer_batch_duration_seconds_count") == value(
            found, "techex_indexer_batches_total"
        )
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_a_dead_worker_s_pool_figures_are_not_added_in(tmp_path: Path) -> None:
    """A worker that died (and was replaced) leaves its gauge file behind; its figures must not count."""
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)
    for pid, in_use in ((dead_pid, 7.0), (os.getpid(), 2.0)):
        table = MmapedDict(str(tmp_path / f"gauge_livesum_{pid}.db"))
        key = mmap_key("techex_db_pool_connections_in_use", "techex_db_pool_connections_in_use", [], [], "help")
        table.write_value(key, in_use, 0.0)
        table.close()
    body, _ = exposition(tmp_path)
    assert value(samples(body.decode()), "techex_db_pool_connections_in_use") == 2.0
    assert not (tmp_path / f"gauge_livesum_{dead_pid}.db").exists()
