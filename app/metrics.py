"""Prometheus metrics: every family the exchange exposes at /metrics, defined here and nowhere else.

With several worker processes, set PROMETHEUS_MULTIPROC_DIR (`techex serve --workers N` does it
for you): each process then writes its samples to files there and a scrape, answered by any
worker, adds up all of them. Gauges say how they combine across processes (`multiprocess_mode`).

Families (all prefixed `techex_`):

| family | type | labels | meaning |
| --- | --- | --- | --- |
| http_requests_total | counter | method, route, status | requests answered, by route template |
| http_request_duration_seconds | histogram | method, route | time to answer |
| db_pool_connections_in_use | gauge | | connections checked out of the pools |
| db_pool_waiting | gauge | | sessions waiting for (or opening) a connection |
| outbox_pending | gauge | | search outbox events not yet applied (read at scrape) |
| outbox_oldest_pending_seconds | gauge | | age of the oldest pending event (read at scrape) |
| indexer_batches_total | counter | | outbox batches applied to the search backend |
| indexer_documents_total | counter | | events applied; `rate()` of it is documents per second |
| indexer_batch_duration_seconds | histogram | | time to apply one batch |
| search_duration_seconds | histogram | index | search backend query time |
| matching_duration_seconds | histogram | | time to rank the counterparts of one listing |
| schedule_runs_total | counter | outcome | meeting-scheduler runs (ok, unfair, changed, invalid, failed) |
| schedule_duration_seconds | histogram | | solver time of one run |
| schedule_optimality_gap | gauge | objective | relative gap between value and proven bound, last run |
| periodic_job_runs_total | counter | job, outcome | background job runs (ok, failed) |
| periodic_job_duration_seconds | histogram | job | time of one run |
| periodic_job_last_success_timestamp_seconds | gauge | job | `time() - this` is the gap since the last good run |
| webhook_deliveries_total | counter | outcome | webhook delivery attempts (delivered, failed, gave_up) |
| webhook_delivery_duration_seconds | histogram | | time of one delivery attempt |

The webhook families are declared for the deliverer to record with `record_webhook_delivery`.
"""

from __future__ import annotations

import os
import re
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

UNMATCHED_ROUTE = "<unmatched>"
_FAST = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_SLOW = (0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)

HTTP_REQUESTS = Counter("techex_http_requests", "HTTP requests answered.", ["method", "route", "status"])
HTTP_DURATION = Histogram(
    "techex_http_request_duration_seconds", "Time to answer an HTTP request.", ["method", "route"], buckets=_FAST
)
DB_POOL_IN_USE = Gauge(
    "techex_db_pool_connections_in_use", "Database connections checked out.", multiprocess_mode="livesum"
)
DB_POOL_WAITING = Gauge(
    "techex_db_pool_waiting", "Sessions waiting for or opening a database connection.", multiprocess_mode="livesum"
)
OUTBOX_PENDING = Gauge("techex_outbox_pending", "Search outbox events not yet applied.", multiprocess_mode="mostrecent")
OUTBOX_OLDEST = Gauge(
    "techex_outbox_oldest_pending_seconds", "Age of the oldest pending outbox event.", multiprocess_mode="mostrecent"
)
INDEXER_BATCHES = Counter("techex_indexer_batches", "Outbox batches applied to the search backend.")
INDEXER_DOCUMENTS = Counter("techex_indexer_documents", "Outbox events applied to the search backend.")
INDEXER_BATCH_DURATION = Histogram(
    "techex_indexer_batch_duration_seconds", "Time to apply one outbox batch.", buckets=_FAST
)
SEARCH_DURATION = Histogram("techex_search_duration_seconds", "Search backend query time.", ["index"], buckets=_FAST)
MATCHING_DURATION = Histogram(
    "techex_matching_duration_seconds", "Time to rank the counterparts of one listing.", buckets=_FAST
)
SCHEDULE_RUNS = Counter("techex_schedule_runs", "Meeting-scheduler runs.", ["outcome"])
SCHEDULE_DURATION = Histogram("techex_schedule_duration_seconds", "Solver time of one run.", buckets=_SLOW)
SCHEDULE_GAP = Gauge(
    "techex_schedule_optimality_gap",
    "Relative gap between the objective's value and its proven bound, last run.",
    ["objective"],
    multiprocess_mode="mostrecent",
)
PERIODIC_RUNS = Counter("techex_periodic_job_runs", "Background job runs.", ["job", "outcome"])
PERIODIC_DURATION = Histogram("techex_periodic_job_duration_seconds", "Time of one run.", ["job"], buckets=_FAST)
PERIODIC_LAST_SUCCESS = Gauge(
    "techex_periodic_job_last_success_timestamp_seconds",
    "Unix time of the job's last successful run.",
    ["job"],
    multiprocess_mode="max",
)
WEBHOOK_DELIVERIES = Counter("techex_webhook_deliveries", "Webhook delivery attempts.", ["outcome"])
WEBHOOK_DURATION = Histogram(
    "techex_webhook_delivery_duration_seconds", "Time of one webhook delivery attempt.", buckets=_FAST
)


# Every known label value starts at zero, so a family is scraped (and `rate()` works) before its first event.
SCHEDULE_OUTCOMES = ("ok", "unfair", "changed", "invalid", "failed")
WEBHOOK_OUTCOMES = ("delivered", "failed", "gave_up")
for _outcome in SCHEDULE_OUTCOMES:
    SCHEDULE_RUNS.labels(_outcome)
for _outcome in WEBHOOK_OUTCOMES:
    WEBHOOK_DELIVERIES.labels(_outcome)


TYPED_PARAMETER = re.compile(r"\{(\w+):\w+\}")


def route_template(scope: MutableMapping[str, Any]) -> str:
    """The matched route's path template (`/api/v1/offers/{listing_id}`): bounded label values."""
    # FastAPI keeps included routes as declared (`/offers/{listing_id}`) and records the full
    # template of the match in its effective route context; older releases flatten the routes.
    context = (scope.get("fastapi") or {}).get("effective_route_context")
    path = getattr(context, "path", None) or getattr(scope.get("route"), "path", None)
    # A typed parameter (`{offer_id:listing_id}`) is labelled as the OpenAPI document names it.
    return TYPED_PARAMETER.sub(r"{\1}", str(path)) if path else UNMATCHED_ROUTE


def record_request(method: str, route: str, status: int, seconds: float) -> None:
    HTTP_REQUESTS.labels(method, route, str(status)).inc()
    HTTP_DURATION.labels(method, route).observe(seconds)


def record_webhook_delivery(outcome: str, seconds: float) -> None:
    """For the webhook deliverer: one attempt, `delivered`, `failed` (retried later) or `gave_up`."""
    WEBHOOK_DELIVERIES.labels(outcome).inc()
    WEBHOOK_DURATION.observe(seconds)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def forget_dead_processes(multiprocess_dir: Path) -> None:
    """Drop the live-summed gauges of worker processes that died (uvicorn replaces them): a dead
    worker's last pool figures would otherwise be added in forever. Counters and histograms stay."""
    for path in multiprocess_dir.glob("gauge_live*_*.db"):
        pid = path.stem.rsplit("_", 1)[1]
        if pid.isdigit() and not _alive(int(pid)):
            multiprocess.mark_process_dead(int(pid), str(multiprocess_dir))  # type: ignore[no-untyped-call]


def exposition(multiprocess_dir: Path | None) -> tuple[bytes, str]:
    """The text exposition of every process's samples (multiprocess) or this one's."""
    if multiprocess_dir is not None:
        forget_dead_processes(multiprocess_dir)
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=str(multiprocess_dir))  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
