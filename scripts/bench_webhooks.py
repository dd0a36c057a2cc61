"""Webhook delivery: deliveries per second to a local receiver, and the lag under a burst of events.

    .venv/bin/python scripts/bench_webhooks.py [--database sqlite|postgresql] [--events 1000]
        [--endpoints 1] [--runs 3]

A receiver (uvicorn, a process of its own, a bare ASGI app answering 200) listens on 127.0.0.1
and notes when each message arrives. Each run then:

- baseline: posts as many bodies of the same size to it with raw httpx, one after the other on
  one connection (deliveries to one endpoint are sequential: they keep its order), unsigned,
  without a database;
- webhooks: emits the burst with `app.webhooks.events.emit` in transactions of 100, as writes
  would, while the worker (`WebhookWorker.run_forever`, as the API process runs it) fans the
  events out, signs and posts them and records every attempt.

Lag is the time from an event's emission (its `timestamp`; for the baseline, the burst's start)
to its arrival at the receiver, per delivery. Throughput is deliveries (events × endpoints) over
the time from the first emission to the last arrival. The database is a throwaway SQLite file
or a PostgreSQL database on 127.0.0.1:5432.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchdata import create_database, drop_database, free_port, percentile

from app.config import Settings
from app.db import Database, unit_of_work
from app.migrations import upgrade
from app.models import Organization, WebhookEndpoint
from app.webhooks.delivery import WebhookWorker
from app.webhooks.events import emit
from app.webhooks.signing import new_secret

# --- the receiver (run as `bench_webhooks.py --receiver`, under uvicorn) ---

ARRIVALS: dict[str, float] = {}


async def receiver_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    body = b""
    more = True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    now = time.time()
    if scope["path"].startswith("/hooks"):
        headers = dict(scope["headers"])
        key = (headers.get(b"webhook-id") or headers.get(b"x-bench-id") or b"").decode()
        ARRIVALS.setdefault(f"{scope['path']} {key}", now)  # the first arrival of each delivery
        reply = b""
    elif scope["path"] == "/reset":
        ARRIVALS.clear()
        reply = b"{}"
    else:
        reply = json.dumps(ARRIVALS).encode()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"%d" % len(reply))]})
    await send({"type": "http.response.body", "body": reply})


def start_receiver(port: int) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "uvicorn", "bench_webhooks:receiver_app", "--port", str(port)]
    process = subprocess.Popen(  # noqa: S603
        [*command, "--log-level", "warning", "--no-access-log"],
        cwd=Path(__file__).resolve().parent,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
    )
    for _ in range(100):
        try:
            httpx.get(f"http://127.0.0.1:{port}/stats", timeout=0.5)
            return process
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError("the receiver did not start")


async def arrivals(base: str, expected: int, patience: float = 300) -> dict[str, float]:
    async with httpx.AsyncClient() as client:
        deadline = time.monotonic() + patience
        while True:
            found: dict[str, float] = (await client.get(f"{base}/stats")).json()
            if len(found) >= expected or time.monotonic() > deadline:
                return found
            await asyncio.sleep(0.05)


# --- the two senders ---


async def baseline(base: str, events: int, body: str) -> tuple[float, list[float]]:
    async with httpx.AsyncClient() as client:
        await client.post(f"{base}/reset")
        started = time.time()
        for i in range(events):
            await client.post(f"{base}/hooks/0", content=body, headers={"x-bench-id": f"b{i}"})
    found = await arrivals(base, events)
    lags = [t - started for t in found.values()]
    return events / (max(found.values()) - started), lags


async def webhooks(
    database: Database, settings: Settings, base: str, organization_id: uuid.UUID, events: int, endpoints: int
) -> tuple[float, list[float], float]:
    async with httpx.AsyncClient() as client:
        await client.post(f"{base}/reset")
    worker = WebhookWorker(database, settings)
    task = asyncio.create_task(worker.run_forever())
    emitted: dict[str, float] = {}
    started = time.time()
    for chunk in range(0, events, 100):
        async with unit_of_work(database.writer) as session:
            for _ in range(chunk, min(events, chunk + 100)):
                message_id = emit(session, organization_id, "deal.created", uuid.uuid4())
                emitted[message_id] = time.time()
    emit_seconds = time.time() - started
    found = await arrivals(base, events * endpoints)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await worker.close()
    expected = {f"/hooks/{n} {m}" for n in range(endpoints) for m in emitted}
    assert set(found) == expected, f"{len(expected - set(found))} deliveries missing"
    lags = [at - emitted[key.split(" ")[1]] for key, at in found.items()]
    # Every endpoint gets every event: throughput counts deliveries.
    return events * endpoints / (max(found.values()) - started), lags, emit_seconds


async def prepare(url: str, receiver_url: str, endpoints: int) -> tuple[Database, uuid.UUID]:
    await asyncio.to_thread(upgrade, url)
    database = Database.from_url(url)
    async with unit_of_work(database.writer) as session:
        organization = Organization(name="Công ty Tích hợp", kind="enterprise", country="VN")
        session.add(organization)
        await session.flush()
        for n in range(endpoints):
            session.add(
                WebhookEndpoint(organization_id=organization.id, url=f"{receiver_url}/{n}", secret=new_secret())
            )
    return database, organization.id


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--endpoints", type=int, default=1)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    receiver = start_receiver(port)
    results: dict[str, list[float]] = {k: [] for k in ("base_rate", "base_p50", "base_p95", "rate", "p50", "p95")}
    try:
        for run in range(args.runs):
            with tempfile.TemporaryDirectory() as tmp:
                url = (
                    await create_database()
                    if args.database == "postgresql"
                    else f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
                )
                try:
                    settings = Settings(
                        _env_file=None,  # type: ignore[call-arg]
                        database_url=url,
                        webhook_allow_private_targets=True,
                        public_base_url="https://api.techex.example",
                    )
                    database, organization_id = await prepare(url, f"{base}/hooks", args.endpoints)
                    sample = json.dumps(
                        {
                            "type": "deal.created",
                            "timestamp": datetime.now().isoformat(),
                            "data": {
                                "id": str(uuid.uuid4()),
                                "url": f"https://api.techex.example/api/v1/deals/{uuid.uuid4()}",
                            },
                        }
                    )
                    rate, lags = await baseline(base, args.events * args.endpoints, sample)
                    results["base_rate"].append(rate)
                    results["base_p50"].append(statistics.median(lags))
                    results["base_p95"].append(percentile(lags, 0.95))
                    rate, lags, emit_seconds = await webhooks(
                        database, settings, base, organization_id, args.events, args.endpoints
                    )
                    results["rate"].append(rate)
                    results["p50"].append(statistics.median(lags))
                    results["p95"].append(percentile(lags, 0.95))
                    print(
                        f"run {run + 1}: raw httpx {results['base_rate'][-1]:.0f}/s, "
                        f"webhooks {rate:.0f}/s; lag p50/p95 raw {results['base_p50'][-1]:.2f}/"
                        f"{results['base_p95'][-1]:.2f} s, "
                        f"webhooks {results['p50'][-1]:.2f}/{results['p95'][-1]:.2f} s "
                        f"(burst emitted in {emit_seconds:.2f} s)",
                        flush=True,
                    )
                    await database.dispose()
                finally:
                    if args.database == "postgresql":
                        await drop_database(url)
    finally:
        receiver.terminate()
        receiver.wait(10)
    median = {k: statistics.median(v) for k, v in results.items()}
    print(
        json.dumps(
            {
                "database": args.database,
                "events": args.events,
                "endpoints": args.endpoints,
                "runs": args.runs,
                "deliveries_per_second": {"raw_httpx": round(median["base_rate"]), "webhooks": round(median["rate"])},
                # Per run, then the median: the baseline and the worker of one run share the machine's load.
                "throughput_ratio_webhooks_to_raw": round(
                    statistics.median(w / b for w, b in zip(results["rate"], results["base_rate"], strict=True)), 2
                ),
                "lag_seconds": {
                    "raw_httpx": {"p50": round(median["base_p50"], 3), "p95": round(median["base_p95"], 3)},
                    "webhooks": {"p50": round(median["p50"], 3), "p95": round(median["p95"], 3)},
                },
                "lag_p95_ratio_webhooks_to_raw": round(
                    statistics.median(w / b for w, b in zip(results["p95"], results["base_p95"], strict=True)), 2
                ),
                "load_average": os.getloadavg(),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
