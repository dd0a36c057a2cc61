"""What the concept bridge costs the embedded engine, in process: the same index, the same queries,
with and without the words a query's concepts stand for.

    .venv/bin/python scripts/bench_search_inprocess.py [--listings 20000] [--repeat 15]

Builds an embedded index of generated listings (the texts of `bench_search.py`) in a temporary
folder, then times each query of `bench_search.py`'s mix as the public search asks it, and the same
query without `concept_words` (the concepts still retrieve and the broader bonus stays), one after
the other, so that a loaded machine slows both alike. No HTTP, no database: the engine's share only.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import benchdata  # noqa: E402
from bench_search import MIX  # noqa: E402

from app.matching.concepts import infer_concepts  # noqa: E402
from app.search.documents import listing_document  # noqa: E402
from app.search.embedded import EmbeddedBackend  # noqa: E402
from app.search.service import SearchParams, build_query  # noqa: E402
from app.taxonomy.data import get_taxonomy  # noqa: E402

FIELDS = ["biotech", "environment", "new_energy", "automation", "new_materials"]


def documents(count: int, now: datetime) -> list[dict[str, object]]:
    rng = random.Random(7)
    concepts = list(get_taxonomy().concepts)
    owner = SimpleNamespace(id=uuid.uuid4(), name="Org", verified=True, kind="enterprise")
    built = []
    for i in range(count):
        pair = rng.sample(concepts, 2)
        texts = benchdata._texts(rng, rng.choice(FIELDS), pair, i)
        listing = SimpleNamespace(
            id=uuid.uuid4(),
            kind="offer",
            reference=f"R{i}",
            title=texts["title"],
            summary=texts["summary"],
            description="",
            language=texts["language"],
            translations=texts["translations"],
            problem_statement=None,
            requirements=None,
            concepts=pair,
            inferred_concepts=infer_concepts(texts["title"]),
            field=rng.choice(FIELDS),
            trl=rng.randint(1, 9),
            min_trl=None,
            ip_status="know_how",
            transfer_types=["licence"],
            country="VN",
            province="Hải Phòng",
            origin_kind="enterprise",
            proposed_for_city=False,
            price_min=None,
            price_max=None,
            budget_min=None,
            budget_max=None,
            currency="VND",
            visibility="public",
            created_at=now,
            updated_at=now,
            expires_at=now + timedelta(days=300),
        )
        built.append(listing_document(listing, owner))
    return built


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--listings", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    now = datetime.now(UTC)
    backend = EmbeddedBackend(Path(tempfile.mkdtemp(prefix="techex-inprocess-")) / "index")
    asyncio.run(backend.ensure_indexes())
    asyncio.run(backend.rebuild("offers", documents(args.listings, now)))
    live = backend.indexes["offers"]
    print(f"{'query':<26} {'bridge p50':>10} {'p95':>8} {'without p50':>11} {'p95':>8}")
    every: dict[str, list[float]] = {"with": [], "without": []}
    for label, words, _params, _sql in MIX:
        query = build_query("offers", SearchParams(q=words), now)
        plain = dataclasses.replace(query, concept_words=())
        samples: dict[str, list[float]] = {"with": [], "without": []}
        for _ in range(args.repeat):
            for name, variant in (("with", query), ("without", plain)):
                start = time.perf_counter()
                backend._search(live, variant)
                samples[name].append((time.perf_counter() - start) * 1000)
        for name, values in samples.items():
            every[name] += values
        a, b = sorted(samples["with"]), sorted(samples["without"])
        p95 = int(0.95 * len(a))
        print(f"{label:<26} {statistics.median(a):>10.2f} {a[p95]:>8.2f} {statistics.median(b):>11.2f} {b[p95]:>8.2f}")
    a, b = sorted(every["with"]), sorted(every["without"])
    p95 = int(0.95 * len(a))
    print(f"{'ALL':<26} {statistics.median(a):>10.2f} {a[p95]:>8.2f} {statistics.median(b):>11.2f} {b[p95]:>8.2f}")
    print(f"bridge ÷ without, p50 {statistics.median(a) / statistics.median(b):.2f}, p95 {a[p95] / b[p95]:.2f}")


if __name__ == "__main__":
    main()
