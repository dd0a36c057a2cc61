"""Filtered browse of listings over HTTP, at 100,000 listings on PostgreSQL.

    .venv/bin/python scripts/bench_listings.py [--listings 100000] [--requests 600]

Creates a throwaway database on the local PostgreSQL (or uses --database-url),
bulk-loads generated listings, serves the real app with uvicorn on 127.0.0.1,
and times a mix of filtered, sorted, paginated browse requests. Baselines
measured in the same run: the HTTP floor (`GET /healthz`) and the same
queries' SQL run directly on the database, so the ratios say what the API
layer adds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchdata import (
    FIELDS,
    IP,
    KINDS,
    PROVINCES,
    TRANSFER,
    create_database,
    drop_database,
    free_port,
    load,
    percentile,
    serve,
    summary,
    time_floor,
)

from app.db import create_engine
from app.listings.repository import browse
from app.listings.schemas import ListingFilters, ListingKind
from app.migrations import upgrade
from app.pagination import PageParams
from app.taxonomy.data import get_taxonomy


def query_mix(rng: random.Random) -> list[tuple[str, str, dict[str, Any]]]:
    """(label, path, params): what people do on a catalogue page."""
    taxonomy = get_taxonomy()
    concept_ids = list(taxonomy.concepts)
    mix: list[tuple[str, str, dict[str, Any]]] = []
    for _ in range(40):
        field = rng.choice(FIELDS)
        mix += [
            ("field", "/api/v1/offers", {"field": field}),
            ("field+trl", "/api/v1/offers", {"field": field, "trl_min": rng.randint(4, 7)}),
            ("concept", "/api/v1/offers", {"concept": rng.choice(concept_ids)}),
            ("ip+sort trl", "/api/v1/offers", {"ip_status": rng.choice(IP), "sort": "-trl"}),
            (
                "owner kind+province",
                "/api/v1/offers",
                {"owner_kind": rng.choice(KINDS), "province": rng.choice(PROVINCES)},
            ),
            ("transfer+price", "/api/v1/offers", {"transfer_type": rng.choice(TRANSFER), "sort": "price"}),
            ("demands field page 3", "/api/v1/demands", {"field": field, "page": 3}),
            ("proposed+field", "/api/v1/offers", {"proposed_for_city": "true", "field": field, "limit": 50}),
        ]
    rng.shuffle(mix)
    return mix


async def time_sql(url: str, mix: list[tuple[str, str, dict[str, Any]]]) -> list[float]:
    """The same browse queries through the repository, without HTTP: the database's share."""
    engine = create_engine(url)
    samples = []
    from sqlalchemy.ext.asyncio import AsyncSession

    async with AsyncSession(engine) as session:
        for _label, path, params in mix:
            kind = ListingKind.OFFER if "offers" in path else ListingKind.DEMAND
            filters = ListingFilters(**{k: v for k, v in params.items() if k not in ("page", "limit")})
            page = PageParams(page=int(params.get("page", 1)), limit=int(params.get("limit", 20)))
            started = time.perf_counter()
            await browse(
                session,
                kind,
                filters,
                viewer_organization_id=None,
                sees_everything=False,
                now=datetime.now(UTC),
                page=page,
            )
            samples.append((time.perf_counter() - started) * 1000)
    await engine.dispose()
    return samples


def time_http(base: str, mix: list[tuple[str, str, dict[str, Any]]], repeat: int) -> dict[str, list[float]]:
    by_label: dict[str, list[float]] = {}
    with httpx.Client(base_url=base, timeout=30) as http:
        for _ in range(repeat):
            for label, path, params in mix:
                started = time.perf_counter()
                response = http.get(path, params=params)
                elapsed = (time.perf_counter() - started) * 1000
                response.raise_for_status()
                by_label.setdefault(label, []).append(elapsed)
    return by_label


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--listings", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=2, help="Passes over the 320-request mix.")
    parser.add_argument("--database-url", help="Use this PostgreSQL database instead of a throwaway one.")
    parser.add_argument("--skip-load", action="store_true", help="The database at --database-url is loaded already.")
    args = parser.parse_args()
    rng = random.Random(7)

    url = args.database_url or asyncio.run(create_database())
    server = None
    try:
        if not args.skip_load:
            upgrade(url)
            load_seconds = asyncio.run(load(url, args.listings, rng))
            print(f"loaded {args.listings} listings in {load_seconds:.1f} s")
        mix = query_mix(rng)
        port = free_port()
        server = serve(url, port)
        base = f"http://127.0.0.1:{port}"
        time_http(base, mix[:40], 1)  # warm-up: connections, caches, query plans
        floor = time_floor(base, 200)
        by_label = time_http(base, mix, args.repeat)
        sql = asyncio.run(time_sql(url, mix))
        browse_all = [s for samples in by_label.values() for s in samples]
        result = {
            "listings": args.listings,
            "requests": len(browse_all),
            "browse": summary(browse_all),
            "healthz_floor": summary(floor),
            "sql_only": summary(sql),
            "ratio_p95_browse_to_floor": round(percentile(browse_all, 0.95) / percentile(floor, 0.95), 2),
            "ratio_p50_browse_to_sql": round(statistics.median(browse_all) / statistics.median(sql), 2),
            "by_query": {label: summary(samples) for label, samples in sorted(by_label.items())},
        }
        print(f"{'query':<24} {'p50 ms':>8} {'p95 ms':>8}")
        for label, figures in result["by_query"].items():
            print(f"{label:<24} {figures['p50_ms']:>8} {figures['p95_ms']:>8}")
        print(f"{'ALL browse':<24} {result['browse']['p50_ms']:>8} {result['browse']['p95_ms']:>8}")
        print(
            f"{'baseline: /healthz':<24} {result['healthz_floor']['p50_ms']:>8} {result['healthz_floor']['p95_ms']:>8}"
        )
        print(f"{'baseline: SQL only':<24} {result['sql_only']['p50_ms']:>8} {result['sql_only']['p95_ms']:>8}")
        print(json.dumps(result))
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
        if not args.database_url:
            asyncio.run(drop_database(url))


if __name__ == "__main__":
    main()
