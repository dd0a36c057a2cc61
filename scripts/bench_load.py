"""Open-loop load at several offered rates: what the server achieves, how fast, and how it refuses.

    .venv/bin/python scripts/bench_load.py [--database postgresql|sqlite] [--rates 25,50,100,200]
        [--seconds 15] [--workers 2] [--port 8160]

Serves the real app (`techex serve`, uvicorn, 2 workers) on 127.0.0.1 over a
throwaway database (PostgreSQL on 127.0.0.1:5432, or a SQLite file) holding the
demo data, then offers each rate for a bounded time: requests start on schedule
whether or not earlier ones finished (open loop), so a slow server meets the
same arrivals a real one would. The mix is 80 % reads (browse, one listing) and
20 % creates of a draft offer carrying an `Idempotency-Key` and a
`Request-Deadline` half a second before the client gives up.

Latency is counted from each request's scheduled start, so time spent queueing
in the client counts too. After the last rate every create whose client gave up
is sent again with its key: a replayed answer means the first attempt committed,
and its `created_at` says whether after the client's deadline.

Traffic goes to 127.0.0.1 only; every rate stops after `--seconds` plus the
client timeout, and at most `--max-in-flight` requests are outstanding.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchdata import create_database, drop_database, percentile, serve

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "do-tai-tai-tai-2026-bench"  # noqa: S105
CLIENT_TIMEOUT = 5.0
# The deadline stated in Request-Deadline is this much before the client gives up, leaving
# time for an answer committed just before it to come back.
DEADLINE_MARGIN = 0.5


@dataclass
class Create:
    key: str
    body: dict[str, Any]
    deadline: float  # wall clock, seconds since the epoch
    outcome: str = ""


@dataclass
class RateResult:
    offered: int
    sent: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    ok_latencies: list[float] = field(default_factory=list)
    server_seconds: float = 0.0
    creates: list[Create] = field(default_factory=list)

    def achieved(self) -> float:
        ok = sum(n for s, n in self.statuses.items() if s.startswith("2"))
        return ok / self.server_seconds if self.server_seconds else 0.0


def offer_body(rng: random.Random) -> dict[str, Any]:
    n = rng.randrange(1_000_000)
    return {
        "language": "vi",
        "title": f"Quy trình xử lý nước thải chế biến thủy sản số {n}",
        "summary": "Bể sinh học hiếu khí kết hợp lọc màng cho cơ sở chế biến vừa và nhỏ.",
        "field": "environment",
        "transfer_types": ["licence"],
        "trl": 6,
        "ip_status": "know_how",
    }


def techex(*args: str, env: dict[str, str]) -> None:
    subprocess.run([sys.executable, "-m", "app.cli", *args], cwd=ROOT, env=env, check=True, capture_output=True)  # noqa: S603


async def one_request(
    http: httpx.AsyncClient, result: RateResult, scheduled: float, kind: str, rng: random.Random, ids: list[str]
) -> None:
    create: Create | None = None
    try:
        if kind == "create":
            body = offer_body(rng)
            create = Create(key=uuid.uuid4().hex, body=body, deadline=time.time() + CLIENT_TIMEOUT)
            result.creates.append(create)
            stated = datetime.fromtimestamp(create.deadline - DEADLINE_MARGIN, UTC).isoformat()
            headers = {"Idempotency-Key": create.key, "Request-Deadline": stated}
            response = await http.post("/api/v1/offers", json=body, headers=headers)
        elif kind == "get":
            response = await http.get(f"/api/v1/offers/{rng.choice(ids)}")
        else:
            response = await http.get("/api/v1/offers", params={"page": rng.randint(1, 5), "limit": 20})
        status = str(response.status_code)
        if response.status_code >= 500:  # say which refusal: ServerBusy, DatabaseBusy, DeadlineExceeded …
            status += f" {response.json().get('code', '')}".rstrip()
    except httpx.TimeoutException:
        status = "timeout"
    except httpx.HTTPError as error:
        status = type(error).__name__
    elapsed = (time.perf_counter() - scheduled) * 1000
    result.statuses[status] += 1
    if status[0].isdigit():  # answered; the client's timeouts and connection errors are counted apart
        result.latencies.append(elapsed)
    if status.startswith("2"):
        result.ok_latencies.append(elapsed)
    if create is not None:
        create.outcome = status


async def offer_rate(
    base: str, token: str, rate: int, seconds: float, ids: list[str], max_in_flight: int, seed: int
) -> RateResult:
    rng = random.Random(seed)
    result = RateResult(offered=rate)
    # Idle connections are dropped before uvicorn's 5 s keep-alive ends, so no request races its close.
    limits = httpx.Limits(max_connections=max_in_flight, max_keepalive_connections=max_in_flight, keepalive_expiry=2)
    async with httpx.AsyncClient(
        base_url=base, timeout=CLIENT_TIMEOUT, limits=limits, headers={"Authorization": f"Bearer {token}"}
    ) as http:
        tasks: set[asyncio.Task[None]] = set()
        start = time.perf_counter()
        total = int(rate * seconds)
        for i in range(total):
            scheduled = start + i / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            if len(tasks) >= max_in_flight:
                result.statuses["not sent (client bound)"] += 1
                continue
            roll = rng.random()
            kind = "create" if roll < 0.2 else "get" if roll < 0.5 else "browse"
            task = asyncio.create_task(one_request(http, result, scheduled, kind, rng, ids))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            result.sent += 1
        if tasks:
            await asyncio.wait(tasks, timeout=CLIENT_TIMEOUT + 5)
        result.server_seconds = time.perf_counter() - start
    return result


async def late_commits(base: str, token: str, creates: list[Create]) -> tuple[int, int, int]:
    """(given up, of those committed anyway, of those created after the client's deadline)."""
    given_up = [c for c in creates if c.outcome in ("timeout", "ReadError", "RemoteProtocolError")]
    committed = late = 0
    async with httpx.AsyncClient(base_url=base, timeout=30, headers={"Authorization": f"Bearer {token}"}) as http:
        for create in given_up:
            response = await http.post("/api/v1/offers", json=create.body, headers={"Idempotency-Key": create.key})
            if response.headers.get("Idempotent-Replayed") == "true":
                committed += 1
                created = datetime.fromisoformat(response.json()["created_at"]).timestamp()
                late += created > create.deadline
    return len(given_up), committed, late


async def prepare(base: str) -> tuple[str, list[str]]:
    email = f"bench-{uuid.uuid4().hex[:8]}@example.vn"
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        registered = await http.post(
            "/api/v1/auth/register",
            json={
                "email": email,
                "password": PASSWORD,
                "full_name": "Trần Thị Bình",
                "organization": {"name": f"Viện {email}", "kind": "institute", "country": "VN"},
            },
        )
        registered.raise_for_status()
        token = registered.json()["tokens"]["access_token"]
        page = (await http.get("/api/v1/offers", params={"limit": 100})).json()
    return token, [item["id"] for item in page["items"]]


async def warm_up(base: str, ids: list[str]) -> None:
    """A few sequential requests, so that both workers have started and loaded what they load lazily."""
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        for i in range(20):
            (await http.get(f"/api/v1/offers/{ids[i % len(ids)]}")).raise_for_status()


def report(result: RateResult) -> str:
    lat = result.latencies or [0.0]
    ok = result.ok_latencies or [0.0]
    statuses = ", ".join(f"{s}: {n}" for s, n in sorted(result.statuses.items()))
    return (
        f"| {result.offered} | {result.sent} | {result.achieved():.1f} | {percentile(lat, 0.5):.0f} | "
        f"{percentile(lat, 0.95):.0f} | {percentile(lat, 0.99):.0f} | {percentile(ok, 0.99):.0f} | {statuses} |"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--rates", default="25,50,100,200")
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=8160)
    parser.add_argument("--max-in-flight", type=int, default=400)
    parser.add_argument("--server-cpus", help="pin the server to these CPUs (e.g. 1) and the client to the others")
    args = parser.parse_args()
    server_cpus = {int(c) for c in args.server_cpus.split(",")} if args.server_cpus else None
    if server_cpus is not None:
        os.sched_setaffinity(0, os.sched_getaffinity(0) - server_cpus)
    rates = [int(r) for r in args.rates.split(",")]

    with tempfile.TemporaryDirectory(prefix="techex-bench-load-") as tmp:
        url = await create_database() if args.database == "postgresql" else f"sqlite+aiosqlite:///{tmp}/bench.db"
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "INDEX_DIR": f"{tmp}/index",
            "LOG_LEVEL": "WARNING",
            "EXPIRY_SWEEP_SECONDS": "0",
            # As in production (docker-compose.yml): search indexing is a `techex worker`'s job, not measured here.
            "INDEXER_IN_PROCESS": "false",
        }
        server = None
        try:
            techex("migrate", env=env)
            techex("seed", "--demo", env=env)
            server = serve(
                url,
                args.port,
                workers=args.workers,
                cpus=server_cpus,
                INDEX_DIR=env["INDEX_DIR"],
                INDEXER_IN_PROCESS=env["INDEXER_IN_PROCESS"],
            )
            base = f"http://127.0.0.1:{args.port}"
            token, ids = await prepare(base)
            await warm_up(base, ids)
            print(
                f"database: {args.database}; {args.workers} workers; {args.seconds:g} s per rate; "
                f"client timeout {CLIENT_TIMEOUT:g} s; Request-Deadline {DEADLINE_MARGIN:g} s before it"
            )
            print("| offered rps | sent | achieved 2xx/s | answered p50 ms | p95 ms | p99 ms | 2xx p99 ms | statuses |")
            print("|---|---|---|---|---|---|---|---|")
            creates: list[Create] = []
            for i, rate in enumerate(rates):
                result = await offer_rate(base, token, rate, args.seconds, ids, args.max_in_flight, seed=i)
                creates.extend(result.creates)
                print(report(result), flush=True)
                await asyncio.sleep(2)  # let the server drain between rates
            given_up, committed, late = await late_commits(base, token, creates)
            print(
                f"creates with an Idempotency-Key whose client gave up: {given_up}; committed anyway: {committed}; "
                f"of those created after the client's deadline: {late}"
            )
        finally:
            if server is not None:
                server.terminate()
                try:
                    server.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    server.kill()
                    server.wait()
            if args.database == "postgresql":
                await drop_database(url)


if __name__ == "__main__":
    asyncio.run(main())
