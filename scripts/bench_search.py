"""Search at 100,000 listings: indexing through the real indexer, query latency over HTTP, outbox catch-up.

    .venv/bin/python scripts/bench_search.py [--listings 100000] [--repeat 3]

Loads generated listings (Vietnamese with English translations, 10 % Japanese)
into a throwaway PostgreSQL database with an outbox event each, drains the
outbox into the embedded engine through `Indexer` (the code the API runs) and
reports documents per second. Then serves the real app and times a query mix
over HTTP: with and without diacritics, typos, prefixes, Japanese, filters,
facets. In the same run, a naive baseline runs the same words as
`unaccent(...) ILIKE` on PostgreSQL with the same filters. Last, a burst of
1,000 writes, and the time until the outbox lag is back to zero.
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
from typing import Any

import asyncpg
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchdata import create_database, drop_database, free_port, load, percentile, serve, summary, time_floor

from app.db import Database, unit_of_work
from app.migrations import upgrade
from app.search import repository
from app.search.embedded import EmbeddedBackend
from app.search.indexer import Indexer
from app.search.text import fold

# (label, query words, extra search parameters, the same filter in SQL)
MIX: list[tuple[str, str, dict[str, Any], str]] = [
    ("no diacritics", "xu ly nuoc thai", {}, ""),
    ("diacritics", "xử lý nước thải", {}, ""),
    ("typo", "nuoc thia", {}, ""),
    ("prefix", "năng lượng mặt tr", {}, ""),
    ("english", "solar energy", {}, ""),
    ("japanese", "浄水", {}, ""),
    (
        "filter field+trl",
        "vat lieu",
        {"field": "new_materials", "trl_min": 5},
        "AND l.field = 'new_materials' AND l.trl >= 5",
    ),
    ("facets", "nuoi trong thuy san", {"facets": "field,ip_status,province"}, ""),
    (
        "filter province, newest",
        "robot",
        {"province": "Hải Phòng", "sort": "-created_at"},
        "AND l.province = 'Hải Phòng'",
    ),
    ("two words", "biogas", {"owner_kind": "enterprise"}, "AND o.kind = 'enterprise'"),
    ("unknown word", "arsenic removal filter media for groundwater", {}, ""),
    ("tones", "sản xuất đường từ mía", {}, ""),
    ("cross-lingual", "sơn chống ăn mòn cho tàu", {}, ""),
    ("japanese compound", "船舶用 防食塗料", {}, ""),
]


async def index_through_outbox(url: str, index_dir: Path) -> tuple[int, float]:
    database = Database.from_url(url)
    backend = EmbeddedBackend(index_dir)
    await backend.ensure_indexes()
    indexer = Indexer(database, backend, batch_size=2000)
    started = time.perf_counter()
    processed = await indexer.drain()
    seconds = time.perf_counter() - started
    await backend.close()
    await database.dispose()
    return processed, seconds


def time_search(base: str, repeat: int) -> dict[str, list[float]]:
    by_label: dict[str, list[float]] = {}
    with httpx.Client(base_url=base, timeout=30) as http:
        for _ in range(repeat):
            for label, words, params, _sql in MIX:
                started = time.perf_counter()
                response = http.get("/api/v1/search/offers", params={"q": words, **params})
                elapsed = (time.perf_counter() - started) * 1000
                response.raise_for_status()
                by_label.setdefault(label, []).append(elapsed)
    return by_label


async def time_ilike(url: str, repeat: int) -> dict[str, list[float]]:
    """The naive way: every word as `unaccent(lower(text)) ILIKE '%word%'`, plus a count, like a search page."""
    connection = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    await connection.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
    by_label: dict[str, list[float]] = {}
    text = "unaccent(lower(l.title || ' ' || l.summary || ' ' || coalesce(l.translations::text, '')))"
    for _ in range(repeat):
        for label, words, _params, extra in MIX:
            likes = " AND ".join(f"{text} ILIKE ${i + 1}" for i in range(len(words.split())))
            where = f"l.kind = 'offer' AND l.status = 'published' AND l.expires_at > now() AND {likes} {extra}"
            args = [f"%{fold(word)}%" for word in words.split()]
            started = time.perf_counter()
            await connection.fetch(
                f"SELECT l.id FROM listing l JOIN organization o ON o.id = l.organization_id WHERE {where} "  # noqa: S608
                "ORDER BY l.created_at DESC LIMIT 20",
                *args,
            )
            await connection.fetchval(
                f"SELECT count(*) FROM listing l JOIN organization o ON o.id = l.organization_id WHERE {where}",  # noqa: S608
                *args,
            )
            by_label.setdefault(label, []).append((time.perf_counter() - started) * 1000)
    await connection.close()
    return by_label


async def burst_lag(url: str, index_dir: Path, writes: int) -> float:
    """Publish `writes` listings in one transaction while the indexer runs; seconds until lag is zero."""
    database = Database.from_url(url)
    backend = EmbeddedBackend(index_dir)
    indexer = Indexer(database, backend, batch_size=500)
    runner = asyncio.create_task(indexer.run_forever(poll_seconds=0.05))
    connection = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    async with connection.transaction():
        rows = await connection.fetch(
            "UPDATE listing SET status = 'published', updated_at = now() WHERE id IN "
            "(SELECT id FROM listing WHERE status = 'draft' AND kind = 'offer' LIMIT $1) RETURNING id",
            writes,
        )
        await connection.executemany(
            "INSERT INTO outbox_event (index_name, record_id, created_at, attempts) VALUES ('offers', $1, now(), 0)",
            [(row["id"],) for row in rows],
        )
    committed = time.perf_counter()
    await connection.close()
    while True:
        async with unit_of_work(database.reader) as session:
            pending, _oldest = await repository.lag(session)
        if pending == 0:
            break
        await asyncio.sleep(0.01)
    lag = time.perf_counter() - committed
    runner.cancel()
    await indexer.close()
    await backend.close()
    await database.dispose()
    return lag


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--listings", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=30, help="Passes over the query mix.")
    parser.add_argument("--port", type=int, default=None, help="Serve the app on this port (a free one by default).")
    args = parser.parse_args()
    url = asyncio.run(create_database())
    server = None
    workdir = Path(tempfile.mkdtemp(prefix="techex-bench-"))
    try:
        upgrade(url)
        loaded = asyncio.run(load(url, args.listings, random.Random(11), outbox=True))
        print(f"loaded {args.listings} listings into PostgreSQL in {loaded:.1f} s")
        processed, seconds = asyncio.run(index_through_outbox(url, workdir / "index"))
        print(f"indexed {processed} outbox events in {seconds:.1f} s: {processed / seconds:.0f} listings/s")

        port = args.port or free_port()
        server = serve(url, port, INDEX_DIR=str(workdir / "index"), INDEXER_IN_PROCESS="false")
        base = f"http://127.0.0.1:{port}"
        time_search(base, 2)  # warm-up
        floor = time_floor(base, 200)
        search = time_search(base, args.repeat)
        ilike = asyncio.run(time_ilike(url, max(3, args.repeat // 5)))
        server.terminate()
        server.wait(timeout=10)
        server = None
        lag = asyncio.run(burst_lag(url, workdir / "index", 1000))

        all_search = [s for samples in search.values() for s in samples]
        all_ilike = [s for samples in ilike.values() for s in samples]
        print(f"{'query':<26} {'search p50':>10} {'p95':>8} {'ILIKE p50':>10} {'p95':>8}")
        for label, *_ in MIX:
            s, b = summary(search[label]), summary(ilike[label])
            print(f"{label:<26} {s['p50_ms']:>10} {s['p95_ms']:>8} {b['p50_ms']:>10} {b['p95_ms']:>8}")
        s_all, b_all = summary(all_search), summary(all_ilike)
        print(f"{'ALL':<26} {s_all['p50_ms']:>10} {s_all['p95_ms']:>8} {b_all['p50_ms']:>10} {b_all['p95_ms']:>8}")
        print(f"{'baseline: /healthz':<26} {summary(floor)['p50_ms']:>10} {summary(floor)['p95_ms']:>8}")
        result = {
            "listings": args.listings,
            "indexing_listings_per_second": round(processed / seconds),
            "search_over_http": s_all,
            "ilike_sql_only": b_all,
            "healthz_floor": summary(floor),
            "ratio_p50_ilike_to_search": round(statistics.median(all_ilike) / statistics.median(all_search), 1),
            "ratio_p95_ilike_to_search": round(percentile(all_ilike, 0.95) / percentile(all_search, 0.95), 1),
            "outbox_lag_after_1000_writes_s": round(lag, 3),
        }
        print(json.dumps(result))
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
        asyncio.run(drop_database(url))


if __name__ == "__main__":
    main()
