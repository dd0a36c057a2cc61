"""Matching latency at 100,000 offers: `GET /demands/{id}/matches` over HTTP.

    .venv/bin/python scripts/bench_matching.py [--offers 100000] [--requests 200]

Loads generated listings (offers and a few thousand demands) into a throwaway
PostgreSQL database, indexes them through the outbox into the embedded
engine, serves the real app and asks for the matches of published demands.
Baselines from the same run: `GET /healthz` and `GET /demands/{id}` (one read
of the same listing).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import asyncpg
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchdata import create_database, drop_database, free_port, load, percentile, serve, summary, time_floor

from app.db import Database
from app.migrations import upgrade
from app.search.embedded import EmbeddedBackend
from app.search.indexer import Indexer


async def index(url: str, index_dir: Path) -> float:
    database = Database.from_url(url)
    backend = EmbeddedBackend(index_dir)
    await backend.ensure_indexes()
    started = time.perf_counter()
    await Indexer(database, backend, batch_size=2000).drain()
    await backend.close()
    await database.dispose()
    return time.perf_counter() - started


async def demand_ids(url: str, count: int) -> list[str]:
    connection = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    rows = await connection.fetch(
        "SELECT id FROM listing WHERE kind = 'demand' AND status = 'published' AND expires_at > now() "
        "ORDER BY reference LIMIT $1",
        count,
    )
    await connection.close()
    return [str(row["id"]) for row in rows]


def time_paths(base: str, paths: list[str]) -> list[float]:
    samples = []
    with httpx.Client(base_url=base, timeout=60) as http:
        for path in paths:
            started = time.perf_counter()
            http.get(path).raise_for_status()
            samples.append((time.perf_counter() - started) * 1000)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--offers", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    url = asyncio.run(create_database())
    workdir = Path(tempfile.mkdtemp(prefix="techex-bench-"))
    server = None
    try:
        upgrade(url)
        total = int(args.offers / 0.97)
        asyncio.run(load(url, total, random.Random(5), outbox=True, offer_share=0.97))
        seconds = asyncio.run(index(url, workdir / "index"))
        print(f"loaded and indexed {total} listings (~{args.offers} offers) in {seconds:.1f} s of indexing")
        demands = asyncio.run(demand_ids(url, 100))
        port = free_port()
        server = serve(url, port, INDEX_DIR=str(workdir / "index"), INDEXER_IN_PROCESS="false")
        base = f"http://127.0.0.1:{port}"
        time_paths(base, [f"/api/v1/demands/{d}/matches" for d in demands[:20]])  # warm-up
        rng = random.Random(9)
        picks = [rng.choice(demands) for _ in range(args.requests)]
        matches = time_paths(base, [f"/api/v1/demands/{d}/matches" for d in picks])
        reads = time_paths(base, [f"/api/v1/demands/{d}" for d in picks])
        floor = time_floor(base, 200)
        result = {
            "offers": args.offers,
            "requests": len(matches),
            "matches": summary(matches),
            "baseline_get_demand": summary(reads),
            "healthz_floor": summary(floor),
            "ratio_p50_matches_to_read": round(statistics.median(matches) / statistics.median(reads), 1),
            "p95_ms": round(percentile(matches, 0.95), 2),
        }
        print(f"{'request':<28} {'p50 ms':>8} {'p95 ms':>8}")
        for label, key in (
            ("GET /demands/{id}/matches", "matches"),
            ("GET /demands/{id}", "baseline_get_demand"),
            ("GET /healthz", "healthz_floor"),
        ):
            print(f"{label:<28} {result[key]['p50_ms']:>8} {result[key]['p95_ms']:>8}")
        print(json.dumps(result))
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
        asyncio.run(drop_database(url))


if __name__ == "__main__":
    main()
