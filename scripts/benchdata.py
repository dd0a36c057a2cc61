"""Shared by the benchmarks: a throwaway PostgreSQL database, generated listings, a served app, percentiles."""

from __future__ import annotations

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
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from app.db import create_engine  # noqa: E402
from app.models import Listing, Organization, OutboxEvent  # noqa: E402
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
CONTEXTS = [
    ("cho doanh nghiệp vừa và nhỏ", "for small businesses"),
    ("quy mô công nghiệp", "at industrial scale"),
    ("tại Hải Phòng", "in Hai Phong"),
    ("cho vùng ven biển", "for coastal areas"),
    ("thế hệ mới", "new generation"),
]


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summary(samples: list[float]) -> dict[str, float]:
    return {"p50_ms": round(statistics.median(samples), 2), "p95_ms": round(percentile(samples, 0.95), 2)}


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


def _texts(rng: random.Random, field: str, concepts: list[str], i: int) -> dict[str, Any]:
    """Believable multilingual texts from taxonomy labels: vi with an en translation, 10 % Japanese originals."""
    taxonomy = get_taxonomy()
    first, second = (taxonomy.concepts[c] for c in concepts)
    context_vi, context_en = rng.choice(CONTEXTS)
    if rng.random() < 0.1:
        return {
            "language": "ja",
            "title": f"{first.labels['ja']}・{second.labels['ja']}の技術 {i}",
            "summary": f"{first.labels['ja']}と{second.labels['ja']}を組み合わせた実証済みの技術です。",
            "translations": {
                "en": {
                    "title": f"{first.labels['en']} and {second.labels['en']}",
                    "summary": "A proven technology.",
                    "description": "",
                }
            },
        }
    return {
        "language": "vi",
        "title": f"{first.labels['vi'].capitalize()} và {second.labels['vi']} {context_vi} {i}",
        "summary": f"Giải pháp {first.labels['vi']} kết hợp {second.labels['vi']}, đã thử nghiệm thực tế.",
        "translations": {
            "en": {
                "title": f"{first.labels['en'].capitalize()} and {second.labels['en']} {context_en}",
                "summary": f"{first.labels['en']} with {second.labels['en']}.",
                "description": "",
            }
        },
    }


async def load(url: str, count: int, rng: random.Random, *, outbox: bool = False, offer_share: float = 0.7) -> float:
    """Bulk-insert 1,000 organisations and `count` listings (with outbox events if asked); returns seconds."""
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
        events: list[dict[str, Any]] = []
        for i in range(count):
            owner = organizations[rng.randrange(len(organizations))]
            field = rng.choice(FIELDS)
            is_offer = rng.random() < offer_share
            created = now - timedelta(days=rng.uniform(0, 700))
            price = Decimal(rng.randint(1, 500)) * 1_000_000
            concepts = rng.sample(concepts_by_field[field], 2)
            listing_id = uuid.uuid4()
            batch.append(
                {
                    "id": listing_id,
                    "kind": "offer" if is_offer else "demand",
                    "reference": f"{'TO' if is_offer else 'TD'}-BENCH-{i:07d}",
                    "organization_id": owner["id"],
                    "status": rng.choice(STATUSES),
                    "version": 1,
                    **_texts(rng, field, concepts, i),
                    "description": "",
                    "field": field,
                    "concepts": concepts,
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
            if outbox:
                events.append(
                    {
                        "index_name": "offers" if is_offer else "demands",
                        "record_id": listing_id,
                        "created_at": now,
                        "attempts": 0,
                    }
                )
            if len(batch) == 5000:
                await connection.execute(insert(Listing), batch)
                batch = []
        if batch:
            await connection.execute(insert(Listing), batch)
        for start in range(0, len(events), 5000):
            await connection.execute(insert(OutboxEvent), events[start : start + 5000])
    await engine.dispose()
    # What autovacuum does after a bulk load: statistics, and the visibility map that lets
    # PostgreSQL answer counts from a covering index without visiting the table.
    raw = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    await raw.execute("VACUUM ANALYZE")
    await raw.close()
    return time.perf_counter() - started


def serve(
    url: str, port: int, *, workers: int = 1, cpus: set[int] | None = None, **env_overrides: str
) -> subprocess.Popen[bytes]:
    """The real app under uvicorn on 127.0.0.1; returns once /healthz answers.

    `cpus`: pin the server's processes to these CPUs, so that a load client can have the others.
    """
    env = {**os.environ, "DATABASE_URL": url, "LOG_LEVEL": "WARNING", "EXPIRY_SWEEP_SECONDS": "0", **env_overrides}
    command = [sys.executable, "-m", "app.cli", "serve", "--port", str(port), "--workers", str(workers)]
    if cpus is not None:
        command = ["taskset", "--cpu-list", ",".join(map(str, sorted(cpus))), *command]
    process = subprocess.Popen(  # noqa: S603
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(150):
        try:
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).raise_for_status()
            return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("server did not start")


def time_floor(base: str, count: int) -> list[float]:
    """Latency of GET /healthz: the HTTP floor on this machine."""
    samples = []
    with httpx.Client(base_url=base, timeout=30) as http:
        for _ in range(count):
            started = time.perf_counter()
            http.get("/healthz").raise_for_status()
            samples.append((time.perf_counter() - started) * 1000)
    return samples
