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
import os
import random
import socket
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlalchemy import insert

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.db import create_engine  # noqa: E402
from app.listings.repository import browse  # noqa: E402
from app.listings.schemas import ListingFilters, ListingKind  # noqa: E402
from app.migrations import upgrade  # noqa: E402
from app.models import Listing, Organization  # noqa: E402
from app.pagination import PageParams  # noqa: E402
from app.taxonomy.data import get_taxonomy  # noqa: E402

FIELDS = [
    "biotech",
    "environment",
    "new_energy",
    "automation",
    "new_materials",
    "ict",
    "marine_logistics",
    "agriculture_food",
    "mechanical_manufacturing",
    "health",
    "other",
]
KINDS = ["enterprise", "institute", "university", "intermediary"]
PROVINCES = ["Hải Phòng", "Cần Thơ", "Hà Nội", "Đà Nẵng", "Quảng Ninh", "Thái Bình"]
IP = ["none", "know_how", "patent_pending", "patent_granted", "utility_solution_granted"]
TRANSFER = ["licence", "assignment", "joint_venture", "technical_cooperation", "turnkey_equipment"]
STATUSES = ["published"] * 7 + ["draft", "submitted", "archived"]


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def create_database() -> str:
    name = f"techex_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(host="127.0.0.1", port=5432, user="postgres", database="postgres")
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    return f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"


async def drop_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    admin = await asyncpg.connect(host="127.0.0.1", port=5432, user="postgres", database="postgres")
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.close()


async def load(url: str, count: int, rng: random.Random) -> float:
    """Bulk-insert organisations and `count` listings; returns seconds taken."""
    concepts_by_field: dict[str, list[str]] = {}
    for concept in get_taxonomy().concepts.values():
        concepts_by_field.setdefault(concept.field, []).append(concept.id)
    engine = create_engine(url)
    now = datetime.now(UTC)
    started = time.perf_counter()
    organizations = [
        {
            "id": uuid.uuid4(),
            "name": f"Tổ chức {i:04d}",
            "name_i18n": {},
            "kind": rng.choice(KINDS),
            "country": "VN" if i % 10 else "JP",
            "province": rng.choice(PROVINCES),
            "description_i18n": {},
            "sectors": [],
            "languages": ["vi"],
            "services": [],
            "is_network": False,
            "contact": {},
            "verified": i % 3 == 0,
            "created_at": now,
            "updated_at": now,
        }
        for i in range(1000)
    ]
    async with engine.begin() as connection:
        await connection.execute(insert(Organization), organizations)
        batch: list[dict[str, Any]] = []
        for i in range(count):
            owner = organizations[rng.randrange(len(organizations))]
            field = rng.choice(FIELDS)
            is_offer = rng.random() < 0.7
            created = now - timedelta(days=rng.uniform(0, 700))
            price = Decimal(rng.randint(1, 500)) * 1_000_000
            batch.append(
                {
                    "id": uuid.uuid4(),
                    "kind": "offer" if is_offer else "demand",
                    "reference": f"{'TO' if is_offer else 'TD'}-BENCH-{i:07d}",
                    "organization_id": owner["id"],
                    "status": rng.choice(STATUSES),
                    "version": 1,
                    "language": "vi",
                    "title": f"Công nghệ {field} số {i}",
                    "summary": "Tóm tắt công nghệ dùng cho đo hiệu năng.",
                    "description": "",
                    "translations": {},
                    "field": field,
                    "concepts": rng.sample(concepts_by_field[field], 2),
                    "transfer_types": rng.sample(TRANSFER, 2),
                    "target_countries": ["VN"],
                    "languages": ["vi"],
                    "contact": {},
                    "country": owner["country"],
                    "province": owner["province"],
                    "visibility": "public",
                    "currency": "VND",
                    "expires_at": created + timedelta(days=rng.choice([200, 900])),
                    "created_at": created,
                    "updated_at": created,
                    "published_at": created,
                    "trl": rng.randint(1, 9) if is_offer else None,
                    "ip_status": rng.choice(IP) if is_offer else None,
                    "patent_numbers": [],
                    "evidence": [],
                    "price_min": price if is_offer else None,
                    "price_max": price * 2 if is_offer else None,
                    "min_trl": None if is_offer else rng.randint(1, 9),
                    "budget_min": None if is_offer else price,
                    "proposed_for_city": (rng.random() < 0.4) if is_offer else None,
                    "support_included": (rng.random() < 0.5) if is_offer else None,
                    "origin_country": owner["country"] if is_offer else None,
                    "origin_kind": "enterprise" if is_offer else None,
                    "co_development": None if is_offer else rng.random() < 0.4,
                }
            )
            if len(batch) == 5000:
                await connection.execute(insert(Listing), batch)
                batch = []
        if batch:
            await connection.execute(insert(Listing), batch)
    await engine.dispose()
    # What autovacuum does after a bulk load: statistics, and the visibility map that lets
    # PostgreSQL answer counts from the covering index without visiting the table.
    raw = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    await raw.execute("VACUUM ANALYZE")
    await raw.close()
    return time.perf_counter() - started


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


def time_floor(base: str, count: int) -> list[float]:
    samples = []
    with httpx.Client(base_url=base, timeout=30) as http:
        for _ in range(count):
            started = time.perf_counter()
            http.get("/healthz").raise_for_status()
            samples.append((time.perf_counter() - started) * 1000)
    return samples


def serve(url: str, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DATABASE_URL": url, "LOG_LEVEL": "WARNING", "EXPIRY_SWEEP_SECONDS": "0"}
    process = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(100):
        try:
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).raise_for_status()
            return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("server did not start")


def summary(samples: list[float]) -> dict[str, float]:
    return {"p50_ms": round(statistics.median(samples), 2), "p95_ms": round(percentile(samples, 0.95), 2)}


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
