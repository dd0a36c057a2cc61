"""Measure public search on a labelled set of search cases, per class, through the real API.

    .venv/bin/python scripts/eval_search.py [--cases tests/data/search_dev.yaml] [--catalogue PATH] [--per-case]

Loads the case file's catalogue (organisations and offers, in the API's
shapes) through the public API — registration, `POST /api/v1/offers`,
submission and publication by a moderator — into a fresh SQLite file database
and embedded index, drains the outbox into the index and runs every case
against `GET /api/v1/search/offers`. It does this twice: on an empty
catalogue, then with the demo catalogue (`techex seed --demo`) loaded first as
distractors. Prints per-class success and totals for both.

The catalogue is the `catalogue:` key of the case file, or `--catalogue`, or a
`catalogue.yaml` beside the case file (the held-out set's layout). An offer
gives its texts either as `title`/`summary`/`description` (+ `translations`)
or as `texts: {lang: {title, summary, description}}` with `language` naming
the original; its free `keywords` (not concept ids) are appended to the
description, and `note` is not listing text. A case: `id`, `class`, `query`,
`expect_top` (a key or a list of keys, each within the first `within` hits: 5
by default, 10 for cross-lingual cases) and `must_rank_above`: keys every
expected listing must outrank, or `[better, worse]` pairs (a listing missing
from the hits counts as outranked). A key is a catalogue key or
`demo:<original title>`; a case naming a demo listing runs only with the demo
catalogue. Nothing is skipped silently: a listing the API refuses stops the
run, and every case that cannot run is reported.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import uuid
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml
from sqlalchemy import select, update

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.config import Environment, Settings  # noqa: E402
from app.db import Database, unit_of_work  # noqa: E402
from app.main import create_app  # noqa: E402
from app.migrations import upgrade  # noqa: E402
from app.models import Account, Listing  # noqa: E402
from app.search.embedded import EmbeddedBackend  # noqa: E402
from app.search.indexer import Indexer  # noqa: E402
from app.seed import load_demo_data  # noqa: E402

DEFAULT_CASES = ROOT / "tests" / "data" / "search_dev.yaml"
DEMO = "demo:"
SHOW: set[str] = set()  # case ids whose top 10 to print
PASSWORD = "danh-gia-tim-kiem-2026"  # noqa: S105 - accounts of a throwaway database
NOT_SENT = ("key", "owner", "kind", "note", "keywords", "texts")
DEFAULT_WITHIN, CROSS_LINGUAL_WITHIN = 5, 10


@dataclass
class Outcome:
    case: dict[str, Any]
    passed: bool | None  # None: the case could not run in this setting
    detail: str


def _expected(case: dict[str, Any]) -> list[str]:
    value = case["expect_top"]
    return [str(v) for v in (value if isinstance(value, list) else [value])]


async def _register(client: httpx.AsyncClient, organisation: dict[str, Any]) -> dict[str, str]:
    body = {
        "email": f"eval-{uuid.uuid4().hex[:10]}@example.vn",
        "password": PASSWORD,
        "full_name": "Người đánh giá",
        "organization": {k: v for k, v in organisation.items() if k != "key" and v is not None},
    }
    response = await client.post("/api/v1/auth/register", json=body)
    if response.status_code != 201:
        raise SystemExit(f"organisation {organisation.get('key')!r} refused: {response.status_code} {response.text}")
    data = response.json()
    return {"Authorization": f"Bearer {data['tokens']['access_token']}", "account": data["account"]["id"]}


async def _load_catalogue(client: httpx.AsyncClient, database: Database, catalogue: dict[str, Any]) -> dict[str, str]:
    """Create the organisations and publish the listings; returns listing key → id."""
    moderator = await _register(client, {"name": "Sở KH&CN (kiểm duyệt)", "kind": "government", "country": "VN"})
    async with unit_of_work(database.writer) as session:
        await session.execute(
            update(Account).where(Account.id == uuid.UUID(moderator.pop("account"))).values(role="moderator")
        )
    owners = {}
    for organisation in catalogue.get("organisations") or catalogue.get("organizations") or []:
        headers = await _register(client, organisation)
        headers.pop("account")
        owners[organisation["key"]] = headers
    ids: dict[str, str] = {}
    listings = [("offer", o) for o in catalogue.get("offers") or []]
    listings += [("demand", d) for d in catalogue.get("demands") or []]
    for kind, listing in listings:
        key, owner = listing["key"], listing["owner"]
        if owner not in owners:
            raise SystemExit(f"listing {key!r}: unknown owner {owner!r}")
        payload = _payload(listing)
        created = await client.post(f"/api/v1/{kind}s", json=payload, headers=owners[owner])
        if created.status_code != 201:
            raise SystemExit(f"listing {key!r} refused: {created.status_code} {created.text}")
        listing_id = created.json()["id"]
        for step, headers in (("submit", owners[owner]), ("publish", moderator)):
            response = await client.post(f"/api/v1/{kind}s/{listing_id}/{step}", headers=headers)
            if response.status_code != 200:
                raise SystemExit(f"listing {key!r}: {step} refused: {response.status_code} {response.text}")
        ids[key] = listing_id
    return ids


def _payload(listing: dict[str, Any]) -> dict[str, Any]:
    """The API's create body: texts by language become the original and its translations."""
    payload = {k: v for k, v in listing.items() if k not in NOT_SENT}
    texts = dict(listing.get("texts") or {})
    if texts:
        original = texts.pop(payload["language"])
        payload |= {key: original.get(key) or "" for key in ("title", "summary", "description")}
        payload["translations"] = {lang: {k: v for k, v in t.items() if v} for lang, t in texts.items()}
    if listing.get("keywords"):
        words = ", ".join(str(k) for k in listing["keywords"])
        payload["description"] = f"{payload.get('description') or ''}\n{words}".strip()
    return payload


async def _demo_titles(database: Database) -> dict[str, str]:
    async with unit_of_work(database.writer) as session:
        rows = (await session.execute(select(Listing.title, Listing.id))).all()
    return {f"{DEMO}{title}": str(listing_id) for title, listing_id in rows}


async def _run_case(client: httpx.AsyncClient, case: dict[str, Any], ids: dict[str, str]) -> Outcome:
    wanted = _expected(case)
    pairs: list[tuple[str, str]] = []
    for item in case.get("must_rank_above") or []:
        if isinstance(item, list):  # [better, worse]
            pairs.append((str(item[0]), str(item[1])))
        else:  # a key every expected listing must outrank
            pairs += [(key, str(item)) for key in wanted]
    unknown = [k for k in dict.fromkeys([*wanted, *(k for pair in pairs for k in pair)]) if k not in ids]
    if unknown:
        return Outcome(case, None, f"not in this catalogue: {', '.join(unknown)}")
    default = CROSS_LINGUAL_WITHIN if case["class"] == "cross_lingual" else DEFAULT_WITHIN
    within = int(case.get("within") or default)
    index = "demands" if case.get("index") == "demands" else "offers"
    response = await client.get(
        f"/api/v1/search/{index}", params={"q": case["query"], "limit": max(20, within), "highlight": "false"}
    )
    if response.status_code != 200:
        return Outcome(case, False, f"search failed: {response.status_code}")
    hits = response.json()["items"]
    ranked = [hit["id"] for hit in hits]
    if case["id"] in SHOW:
        names = {listing_id: key for key, listing_id in ids.items()}
        for rank, hit in enumerate(hits[:10], 1):
            name = names.get(hit["id"], hit["document"]["title"])
            print(f"      {case['id']} {rank:>2} {hit['score']:>9.3f} {name}")
    position = {listing_id: rank for rank, listing_id in enumerate(ranked, 1)}
    problems = []
    for key in wanted:
        rank = position.get(ids[key])
        if rank is None or rank > within:
            problems.append(f"{key} at {rank or 'absent'} (wanted ≤ {within})")
    for better, worse in pairs:
        high, low = position.get(ids[better]), position.get(ids[worse])
        if high is None or (low is not None and low < high):
            problems.append(f"{better} not above {worse} ({high or 'absent'} vs {low or 'absent'})")
    return Outcome(case, not problems, "; ".join(problems) or "ok")


async def evaluate(cases: list[dict[str, Any]], catalogue: dict[str, Any], *, with_demo: bool) -> list[Outcome]:
    workdir = Path(tempfile.mkdtemp(prefix="techex-eval-search-"))
    url = f"sqlite+aiosqlite:///{workdir / 'eval.db'}"
    await asyncio.to_thread(upgrade, url)
    database = Database.from_url(url)
    backend = EmbeddedBackend(workdir / "index")
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        environment=Environment.TEST,
        database_url=url,
        expiry_sweep_seconds=0,
        indexer_in_process=False,
        log_level="WARNING",
    )
    app = create_app(settings, database=database, search=backend)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://eval") as client:
            if with_demo:
                await load_demo_data(database)
            ids = await _load_catalogue(client, database, catalogue)
            if with_demo:
                ids = await _demo_titles(database) | ids
            await Indexer(database, backend, batch_size=1000).drain()
            outcomes = [await _run_case(client, case, ids) for case in cases]
    await database.dispose()
    return outcomes


def report(title: str, outcomes: list[Outcome], per_case: bool) -> None:
    print(f"\n{title}")
    by_class: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        by_class[outcome.case["class"]].append(outcome)
    for name, items in by_class.items():
        ran = [o for o in items if o.passed is not None]
        passed = sum(1 for o in ran if o.passed)
        note = f"  ({len(items) - len(ran)} not run: they name demo listings)" if len(ran) < len(items) else ""
        print(f"  {name:<16} {passed:>3}/{len(ran):<3}{note}")
    ran = [o for o in outcomes if o.passed is not None]
    print(f"  {'total':<16} {sum(1 for o in ran if o.passed):>3}/{len(ran):<3}")
    for outcome in outcomes:
        if per_case or outcome.passed is False:
            mark = {True: "ok  ", False: "FAIL", None: "n/a "}[outcome.passed]
            print(f"    {mark} {outcome.case['id']:<6} {outcome.case['query']!r}: {outcome.detail}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=Path, default=DEFAULT_CASES)
    parser.add_argument("--catalogue", type=Path, default=None)
    parser.add_argument("--per-case", action="store_true")
    parser.add_argument("--show", action="append", default=[], metavar="ID", help="A case id: print its top 10.")
    args = parser.parse_args()
    SHOW.update(args.show)
    document = yaml.safe_load(args.cases.read_text(encoding="utf-8"))
    cases = document["cases"] if isinstance(document, dict) else document
    if args.catalogue is not None:
        catalogue = yaml.safe_load(args.catalogue.read_text(encoding="utf-8"))
    elif isinstance(document, dict) and "catalogue" in document:
        catalogue = document["catalogue"]
    else:
        catalogue = yaml.safe_load((args.cases.parent / "catalogue.yaml").read_text(encoding="utf-8"))
    print(f"{len(cases)} cases from {args.cases}")
    report("Catalogue alone:", asyncio.run(evaluate(cases, catalogue, with_demo=False)), args.per_case)
    report(
        "With the demo catalogue as distractors:",
        asyncio.run(evaluate(cases, catalogue, with_demo=True)),
        args.per_case,
    )


if __name__ == "__main__":
    main()
