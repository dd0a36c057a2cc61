"""The embedded engine's share of a search, in process, and how two checkouts of the code compare.

    .venv/bin/python scripts/bench_search_inprocess.py [--listings 20000] [--repeat 15] [--against DIR]

Builds an embedded index of generated listings (the texts of `bench_search.py`) in a temporary
folder and times each query of `bench_search.py`'s mix — with its filters, facets and sort — as the
public search asks it: `build_query` (query analysis, concepts) and the engine's search (hits,
highlights, count, facets). No HTTP, no database.

`--asgi`: ask through the real app instead (`GET /api/v1/search/offers` over httpx's ASGI transport,
in the same process: routing, dependencies, validation and serialisation, no sockets).

`--against DIR`: a second checkout of the project (e.g. `git worktree add /tmp/before <commit>`).
Each checkout runs in a process of its own, builds its own index from the same generated listings
with its own code, and the two are asked each query in turn, one after the other, so a loaded
machine slows both alike; the script prints both and their ratio.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
FIELDS = ["biotech", "environment", "new_energy", "automation", "new_materials"]


def documents(count: int, now: datetime) -> list[dict[str, object]]:
    import benchdata

    from app.matching.concepts import infer_concepts
    from app.search.documents import listing_document
    from app.taxonomy.data import get_taxonomy

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
            ip_status=rng.choice(["know_how", "patent_granted", "none"]),
            transfer_types=["licence"],
            country="VN",
            province=rng.choice(["Hải Phòng", "Cần Thơ", "Hà Nội"]),
            origin_kind="enterprise",
            proposed_for_city=False,
            price_min=None,
            price_max=None,
            budget_min=None,
            budget_max=None,
            currency="VND",
            visibility="public",
            created_at=now - timedelta(days=rng.uniform(0, 700)),
            updated_at=now,
            expires_at=now + timedelta(days=300),
        )
        built.append(listing_document(listing, owner))
    return built


def search_params(words: str, extra: dict[str, Any]) -> Any:
    """The parameters the HTTP route would build from `bench_search.MIX`'s query string."""
    from app.search.schemas import SearchSort
    from app.search.service import SearchParams

    options: dict[str, Any] = {}
    terms = []
    for name, value in extra.items():
        if name == "facets":
            options["facets"] = tuple(value.split(","))
        elif name in ("trl_min", "trl_max"):
            options[name] = value
        elif name == "sort":
            options["sort"] = SearchSort(value)
        else:  # exact-value filters are named like the document fields in the mix
            terms.append((name, (value,)))
    return SearchParams(q=words, terms=tuple(terms), **options)


def worker(listings: int, asgi: bool) -> None:
    """Build an index with this checkout's code, then answer "time query i" lines on stdin."""
    import asyncio

    from app.search.embedded import EmbeddedBackend

    with tempfile.TemporaryDirectory(prefix="techex-inprocess-") as folder:
        backend = EmbeddedBackend(Path(folder) / "index")
        asyncio.run(backend.ensure_indexes())
        asyncio.run(backend.rebuild("offers", documents(listings, datetime.now(UTC))))
        if asgi:
            asyncio.run(_asgi_worker(backend, Path(folder)))
        else:
            _engine_worker(backend)


def _engine_worker(backend: Any) -> None:
    from bench_search import MIX

    from app.search.service import build_query

    now = datetime.now(UTC)
    live = backend.indexes["offers"]
    for _label, words, extra, _sql in MIX:  # warm-up: readers, caches, the Japanese analyser
        backend._search(live, build_query("offers", search_params(words, extra), now))
    print(json.dumps({"ready": [label for label, *_ in MIX]}), flush=True)
    for line in sys.stdin:
        _label, words, extra, _sql = MIX[int(line)]
        started = time.perf_counter()
        result = backend._search(live, build_query("offers", search_params(words, extra), now))
        elapsed = (time.perf_counter() - started) * 1000
        print(json.dumps({"ms": elapsed, "total": result.total}), flush=True)


async def _asgi_worker(backend: Any, folder: Path) -> None:
    """The same, through the app: the search routes read no database, an empty SQLite file will do."""
    import httpx
    from bench_search import MIX

    from app.config import Environment, Settings
    from app.db import Database
    from app.main import create_app

    url = f"sqlite+aiosqlite:///{folder / 'unused.db'}"
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        environment=Environment.TEST,
        database_url=url,
        expiry_sweep_seconds=0,
        indexer_in_process=False,
        log_level="WARNING",
    )
    app = create_app(settings, database=Database.from_url(url), search=backend)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            for _label, words, extra, _sql in MIX:
                (await client.get("/api/v1/search/offers", params={"q": words, **extra})).raise_for_status()
            print(json.dumps({"ready": [label for label, *_ in MIX]}), flush=True)
            for line in sys.stdin:  # blocking reads: nothing else runs on this loop meanwhile
                _label, words, extra, _sql = MIX[int(line)]
                started = time.perf_counter()
                response = await client.get("/api/v1/search/offers", params={"q": words, **extra})
                elapsed = (time.perf_counter() - started) * 1000
                response.raise_for_status()
                print(json.dumps({"ms": elapsed, "total": response.json()["total"]}), flush=True)


class Checkout:
    def __init__(self, root: Path, listings: int, asgi: bool) -> None:
        self.root = root
        command = [sys.executable, str(Path(__file__).resolve()), "--worker", "--root", str(root)]
        command += ["--asgi"] if asgi else []
        self.process = subprocess.Popen(  # noqa: S603
            [*command, "--listings", str(listings)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.labels: list[str] = self._read()["ready"]

    def _read(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the worker for {self.root} stopped")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def time(self, index: int) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(f"{index}\n")
        self.process.stdin.flush()
        return self._read()

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=30)


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--listings", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--against", type=Path, default=None, help="Another checkout to compare with.")
    parser.add_argument("--asgi", action="store_true", help="Through the app's search route (ASGI, no sockets).")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args()
    # the code under test is the checkout's (`--root`); this script only drives it
    sys.path[:0] = [str(args.root), str(args.root / "scripts")]
    if args.worker:
        worker(args.listings, args.asgi)
        return
    checkouts = [Checkout(ROOT, args.listings, args.asgi)]
    if args.against is not None:
        checkouts.append(Checkout(args.against.resolve(), args.listings, args.asgi))
    labels = checkouts[0].labels
    samples: list[dict[str, list[float]]] = [{label: [] for label in labels} for _ in checkouts]
    for _ in range(args.repeat):
        for index, label in enumerate(labels):
            answers = [checkout.time(index) for checkout in checkouts]
            if len({answer["total"] for answer in answers}) > 1:
                print(f"warning: {label}: totals differ {[answer['total'] for answer in answers]}")
            for mine, answer in zip(samples, answers, strict=True):
                mine[label].append(answer["ms"])
    for checkout in checkouts:
        checkout.close()
    heads = ["p50", "p95"] if len(checkouts) == 1 else ["p50", "p95", "other p50", "p95", "÷ p50", "÷ p95"]
    print(f"{'query':<26} " + " ".join(f"{head:>9}" for head in heads))
    for label in [*labels, "ALL"]:
        row = []
        for mine in samples:
            values = [v for vs in mine.values() for v in vs] if label == "ALL" else mine[label]
            row += [statistics.median(values), p95(values)]
        if len(checkouts) == 2:
            row += [row[2] / row[0], row[3] / row[1]]
        print(f"{label:<26} " + " ".join(f"{value:>9.2f}" for value in row))
    if len(checkouts) == 2:
        print(f"(other: {checkouts[1].root}; ÷: other ÷ this checkout)")


if __name__ == "__main__":
    main()
