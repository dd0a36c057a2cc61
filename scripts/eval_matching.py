"""Measure the matching service on the project's labelled set (tests/data/matching_eval.yaml).

    .venv/bin/python scripts/eval_matching.py [--per-case] [--explain=E11 ...]
    .venv/bin/python scripts/eval_matching.py --heldout tests/data/heldout [--per-case]

Loads the demo catalogue into a fresh SQLite database and embedded index,
adds each labelled need as a published demand, asks the matching service for
its offers, and prints nDCG@10, Recall@20 and MRR for the full model and for
two ablations (text only, concepts only), for all needs and for each split
(the development needs the model was tuned on, the held-out ones);
`--per-case` adds each need's nDCG@10 and `--explain=E11` (repeatable) a
need's top 10 under each model with its reasons.

`--heldout DIR` measures instead on a set written before any tuning (see
tests/data/heldout/): its organisations register, and its offers and demands
are created, submitted and published, through the public HTTP API of a fresh
app on an empty database — then again with the demo catalogue loaded first as
distractors — and each demand's matches are read from
GET /api/v1/demands/{id}/matches. It prints nDCG@10, Recall@20, MRR, how often
a near miss (`not_relevant`) ranks above a graded answer, and for the demands
whose best answers are all in another language how many have one in the top 10.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import statistics
import sys
import tempfile
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.db import Database, unit_of_work  # noqa: E402
from app.listings.service import inferred_concepts_of  # noqa: E402
from app.matching.engine import DEFAULT_WEIGHTS, Weights  # noqa: E402
from app.matching.service import matching_service  # noqa: E402
from app.migrations import upgrade  # noqa: E402
from app.models import Listing, Organization  # noqa: E402
from app.models.base import utcnow  # noqa: E402
from app.search.embedded import EmbeddedBackend  # noqa: E402
from app.search.indexer import Indexer  # noqa: E402
from app.search.text import is_cjk  # noqa: E402
from app.seed import load_demo_data  # noqa: E402

EXPLAIN = {a.split("=", 1)[1] for a in sys.argv if a.startswith("--explain=")}
LABELS = ROOT / "tests" / "data" / "matching_eval.yaml"
DEVELOPMENT = "development"  # needs the model was tuned on; the others carry `split: holdout`
ZERO = {name: 0.0 for name in Weights.__dataclass_fields__}
MODELS = {
    "full": DEFAULT_WEIGHTS,
    "text only": Weights(**{**ZERO, "text": 1.0}),
    "concepts only": Weights(**{**ZERO, "concepts": 1.0}),
}


def ndcg(ranked: list[str], grades: dict[str, int], k: int = 10) -> float:
    gain = sum((2 ** grades.get(t, 0) - 1) / math.log2(i + 2) for i, t in enumerate(ranked[:k]))
    ideal = sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(sorted(grades.values(), reverse=True)[:k]))
    return gain / ideal if ideal else 0.0


def recall(ranked: list[str], grades: dict[str, int], k: int = 20) -> float:
    return len(set(ranked[:k]) & set(grades)) / len(grades)


def best_in_top3(ranked: list[str], grades: dict[str, int]) -> bool:
    """Is one of the best-graded answers among the first three: what a reader of the list sees first."""
    best = max(grades.values(), default=0)
    return any(grades.get(t) == best for t in ranked[:3]) if best else True


def classes_of(case: dict[str, Any], foreign: set[str] | bool) -> tuple[str, ...]:
    """The classes a labelled demand belongs to, for the per-class report: the ones its file names
    (`class`, a name or a list), its language, whether its answers are only / also in another language,
    and whether its substance sits in the form's problem statement and requirements."""
    named = case.get("class") or []
    classes = [*([named] if isinstance(named, str) else named), f"language {case['language']}"]
    classes.append("answers in another language" if foreign else "answers in its own language")
    if case.get("problem_statement") or case.get("requirements"):
        classes.append("text in problem statement / requirements")
    return tuple(classes)


def report_classes(rows: list[tuple[tuple[str, ...], dict[str, float], bool]]) -> dict[str, dict[str, Any]]:
    """Per class: demands, mean nDCG@10 / Recall@20 / MRR, and how many have a best answer in the top 3.
    `rows`: each demand's classes, metrics and top-3 flag."""
    names = list(dict.fromkeys(name for classes, _, _ in rows for name in classes))
    table: dict[str, dict[str, Any]] = {}
    print(f"\n{'class':<42} {'demands':>7} {'nDCG@10':>8} {'Recall@20':>10} {'MRR':>7} {'best in top 3':>14}")
    for name in names:
        members = [(metrics, top3) for classes, metrics, top3 in rows if name in classes]
        figures = {
            metric: round(statistics.fmean(m[metric] for m, _ in members), 4)
            for metric in ("ndcg@10", "recall@20", "mrr")
        }
        hits = sum(top3 for _, top3 in members)
        table[name] = {"demands": len(members), **figures, "best_in_top3": hits}
        print(
            f"{name:<42} {len(members):>7} {figures['ndcg@10']:>8} {figures['recall@20']:>10} "
            f"{figures['mrr']:>7} {f'{hits}/{len(members)}':>14}"
        )
    return table


def reciprocal_rank(ranked: list[str], grades: dict[str, int]) -> float:
    return next((1 / (i + 1) for i, t in enumerate(ranked) if t in grades), 0.0)


@dataclass
class CaseResult:
    """One labelled need's figures under every model."""

    id: str
    split: str
    metrics: dict[str, dict[str, float]]  # model → metric → value
    foreign: int = 0  # answers with no text in the need's language
    foreign_found: dict[str, int] = field(default_factory=dict)  # model → how many of those in its top 10
    japanese_in_top10: bool | None = None  # Vietnamese needs with a Japanese answer: is one in the top 10?
    classes: tuple[str, ...] = ()  # failure classes it belongs to (see `classes_of`)
    best_in_top3: dict[str, bool] = field(default_factory=dict)  # model → a best-graded answer in the top 3


async def evaluate() -> list[CaseResult]:
    workdir = Path(tempfile.mkdtemp(prefix="techex-eval-"))
    url = f"sqlite+aiosqlite:///{workdir / 'eval.db'}"
    await asyncio.to_thread(upgrade, url)
    database = Database.from_url(url)
    backend = EmbeddedBackend(workdir / "index")
    await backend.ensure_indexes()
    await load_demo_data(database)
    await Indexer(database, backend, batch_size=1000).drain()
    cases = yaml.safe_load(LABELS.read_text(encoding="utf-8"))
    now = utcnow()
    results = []
    async with unit_of_work(database.writer) as session:
        buyer = Organization(
            id=uuid.uuid4(),
            name="Doanh nghiệp đánh giá",
            name_i18n={},
            kind="enterprise",
            country="VN",
            province="Hải Phòng",
            description_i18n={},
            sectors=[],
            languages=["vi"],
            services=[],
            contact={},
            verified=True,
        )
        session.add(buyer)
        await session.flush()
        offers = (await session.execute(_offer_titles())).all()
        titles = {title: listing_id for title, listing_id, _language, _translations in offers}
        text_languages = {
            listing_id: {language, *(translations or {})} for _title, listing_id, language, translations in offers
        }
        for case in cases:
            grades = {}
            for grade, title, _why in case["relevant"]:
                if title not in titles:
                    raise SystemExit(f"{case['id']}: no demo offer titled {title!r}")
                grades[str(titles[title])] = int(grade)
            japanese = {str(titles[t]) for _g, t, _w in case["relevant"] if is_cjk(t)}
            # answers with no text in the need's language: only concepts (and the rest) can find them
            foreign = {
                str(titles[t]) for _g, t, _w in case["relevant"] if case["language"] not in text_languages[titles[t]]
            }
            demand = _demand(case, buyer, now)
            session.add(demand)
            await session.flush()
            result = CaseResult(
                case["id"], case.get("split", DEVELOPMENT), {}, foreign=len(foreign), classes=classes_of(case, foreign)
            )
            for name, weights in MODELS.items():
                found = await matching_service.rank_for(
                    session, backend, demand, buyer, limit=20, min_score=0.0, weights=weights
                )
                ranked = [m.match.candidate_id for m in found]
                if case["id"] in EXPLAIN:
                    _explain(case, name, found, grades)
                result.metrics[name] = {
                    "ndcg@10": ndcg(ranked, grades),
                    "recall@20": recall(ranked, grades),
                    "mrr": reciprocal_rank(ranked, grades),
                }
                result.foreign_found[name] = len(set(ranked[:10]) & foreign)
                result.best_in_top3[name] = best_in_top3(ranked, grades)
                if name == "full" and japanese and case["language"] == "vi":
                    result.japanese_in_top10 = bool(set(ranked[:10]) & japanese)
            results.append(result)
    await backend.close()
    await database.dispose()
    return results


def _demand(case: dict[str, Any], buyer: Organization, now: Any) -> Listing:
    """A labelled need as a published demand of the evaluation's enterprise, its concepts inferred as on create."""
    demand = Listing(
        id=uuid.uuid4(),
        kind="demand",
        reference=f"TD-EVAL-{case['id']}",
        organization_id=buyer.id,
        status="published",
        language=case["language"],
        title=case["title"],
        summary=case["summary"],
        description="",
        problem_statement=case.get("problem_statement"),
        requirements=case.get("requirements"),
        translations={},
        field=case["field"],
        concepts=[],
        transfer_types=[],
        target_countries=["VN"],
        languages=[case["language"]],
        contact={},
        country="VN",
        province="Hải Phòng",
        visibility="public",
        currency="VND",
        expires_at=now + timedelta(days=300),
        min_trl=case.get("min_trl"),
        patent_numbers=[],
        evidence=[],
        co_development=False,
        created_at=now,
        updated_at=now,
    )
    demand.inferred_concepts = inferred_concepts_of(demand, buyer)
    return demand


def summarise(results: list[CaseResult]) -> dict[str, Any]:
    """Mean metrics per model, other-language recall, and how clearly the full model leads text only."""
    models = {
        name: {
            metric: round(statistics.fmean(r.metrics[name][metric] for r in results), 4)
            for metric in ("ndcg@10", "recall@20", "mrr")
        }
        for name in MODELS
    }
    foreign = sum(r.foreign for r in results)
    for name in MODELS:
        found = sum(r.foreign_found[name] for r in results)
        models[name]["other_language_recall@10"] = round(found / max(1, foreign), 4)
    full = [r.metrics["full"]["ndcg@10"] for r in results]
    text = [r.metrics["text only"]["ndcg@10"] for r in results]
    low, high = paired_bootstrap(full, text)
    won = sum(1 for a, b in zip(full, text, strict=True) if a > b)
    lost = sum(1 for a, b in zip(full, text, strict=True) if a < b)
    return {
        "cases": len(results),
        "models": models,
        "other_language_answers": foreign,
        "full_minus_text_only_ndcg@10_95ci": [round(low, 4), round(high, 4)],
        "full_vs_text_only_needs_won_lost": [won, lost],
        "sign_test_p": round(sign_test(won, lost), 4),
    }


def _explain(case: dict[str, Any], model: str, found: list[Any], grades: dict[str, int]) -> None:
    """A need's top 10 under one model: grade, score, title, the reasons' contributions and shared concepts."""
    print(f"--- {case['id']} {model}: {case['title']}")
    for position, ranked in enumerate(found[:10], 1):
        match = ranked.match
        reasons = " ".join(f"{r.feature}={r.contribution:.3f}" for r in match.reasons[:5])
        shared = next((r.params.get("shared") for r in match.reasons if r.feature == "concepts"), [])
        grade = grades.get(match.candidate_id, "-")
        print(f"{position:>2} [{grade}] {match.score:.3f} {ranked.listing.title[:60]!r} {reasons} {shared}")


def sign_test(wins: int, losses: int) -> float:
    """Two-sided p-value of so uneven a split of wins and losses if either model were as likely to win (ties out)."""
    n, k = wins + losses, min(wins, losses)
    return min(1.0, 2 * sum(math.comb(n, i) for i in range(k + 1)) / 2**n) if n else 1.0


def paired_bootstrap(a: list[float], b: list[float], resamples: int = 10_000) -> tuple[float, float]:
    """95 % interval of the mean per-need difference a − b, resampling needs (seeded, so runs agree)."""
    differences = [x - y for x, y in zip(a, b, strict=True)]
    rng = random.Random(0)
    means = sorted(statistics.fmean(rng.choices(differences, k=len(differences))) for _ in range(resamples))
    return means[int(0.025 * resamples)], means[int(0.975 * resamples) - 1]


def _offer_titles() -> Any:
    from sqlalchemy import select

    return select(Listing.title, Listing.id, Listing.language, Listing.translations).where(Listing.kind == "offer")


async def evaluate_heldout(directory: Path, with_demo: bool) -> list[dict[str, Any]]:
    """Each held-out demand's figures, from a fresh app loaded through its API (see the module doc)."""
    from httpx import ASGITransport, AsyncClient
    from sqlalchemy import update

    from app.config import Environment, Settings
    from app.main import create_app
    from app.models import Account

    catalogue = yaml.safe_load((directory / "catalogue.yaml").read_text(encoding="utf-8"))
    demands = yaml.safe_load((directory / "demands.yaml").read_text(encoding="utf-8"))["demands"]
    sys.path.insert(0, str(directory))
    from check_heldout import DEMAND_FIELDS, offer_payload  # the set's own record → payload mapping

    workdir = Path(tempfile.mkdtemp(prefix="techex-heldout-"))
    url = f"sqlite+aiosqlite:///{workdir / 'eval.db'}"
    await asyncio.to_thread(upgrade, url)
    database = Database.from_url(url)
    backend = EmbeddedBackend(workdir / "index")
    await backend.ensure_indexes()
    if with_demo:
        await load_demo_data(database)
        await Indexer(database, backend, batch_size=1000).drain()
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        environment=Environment.TEST,
        database_url=url,
        expiry_sweep_seconds=0,
        indexer_in_process=False,
    )
    app = create_app(settings, database=database, search=backend)
    password = "Heldout-set-2026-11-30!"  # noqa: S105 - accounts of a throw-away evaluation database
    ids: dict[str, str] = {}
    async with (
        app.router.lifespan_context(app),
        AsyncClient(transport=ASGITransport(app=app), base_url="http://heldout", timeout=60) as client,
    ):

        async def sign_up(email: str, organization: dict[str, Any]) -> dict[str, str]:
            body = {"email": email, "password": password, "full_name": "Heldout Writer", "organization": organization}
            response = await client.post("/api/v1/auth/register", json=body)
            if response.status_code != 201:
                raise SystemExit(f"{email}: {response.status_code} {response.text[:300]}")
            return {"Authorization": f"Bearer {response.json()['tokens']['access_token']}"}

        moderator_email = "moderator@heldout.example.org"
        moderator = await sign_up(
            moderator_email, {"name": "Heldout moderation", "kind": "government", "country": "VN"}
        )
        async with unit_of_work(database.writer) as session:
            await session.execute(update(Account).where(Account.email == moderator_email).values(role="moderator"))
        owners = {
            org["key"]: await sign_up(
                f"{org['key'].lower()}@heldout.example.org", {k: v for k, v in org.items() if k != "key"}
            )
            for org in catalogue["organizations"]
        }
        records = [("offers", o["key"], o["owner"], offer_payload(o)) for o in catalogue["offers"]]
        for demand in demands:
            payload = {"language": demand["language"], **{n: demand[n] for n in DEMAND_FIELDS if n in demand}}
            records.append(("demands", demand["key"], demand["owner"], payload))
        for kind, key, owner, payload in records:
            response = await client.post(f"/api/v1/{kind}", json=payload, headers=owners[owner])
            if response.status_code != 201:
                raise SystemExit(f"{key}: {response.status_code} {response.text[:300]}")
            ids[key] = listing_id = response.json()["id"]
            for step, headers in (("submit", owners[owner]), ("publish", moderator)):
                response = await client.post(f"/api/v1/{kind}/{listing_id}/{step}", headers=headers)
                if response.status_code != 200:
                    raise SystemExit(f"{key} {step}: {response.status_code} {response.text[:300]}")
        await app.state.indexer.drain()
        keys = {listing_id: key for key, listing_id in ids.items()}
        languages = {o["key"]: set(o["texts"]) for o in catalogue["offers"]}
        results = []
        for demand in demands:
            response = await client.get(f"/api/v1/demands/{ids[demand['key']]}/matches", params={"limit": 20})
            ranked = [keys.get(m["candidate"]["id"], "demo") for m in response.json()["items"]]
            grades = {a["offer"]: int(a["grade"]) for a in demand.get("answers") or []}
            near_misses = {n["offer"] if isinstance(n, dict) else n for n in demand.get("not_relevant") or []}
            foreign = {o for o in grades if demand["language"] not in languages[o]}
            lowest_answer = max((ranked.index(o) for o in grades if o in ranked), default=len(ranked))
            results.append(
                {
                    "key": demand["key"],
                    "language": demand["language"],
                    "other_language": bool(demand.get("answers_in_other_language")),
                    "ndcg@10": ndcg(ranked, grades),
                    "recall@20": recall(ranked, grades) if grades else 1.0,
                    "mrr": reciprocal_rank(ranked, grades),
                    "near_misses_above_an_answer": sum(
                        1 for o in near_misses if o in ranked and ranked.index(o) < lowest_answer
                    ),
                    "near_misses": len(near_misses),
                    "foreign_answer_in_top10": bool(set(ranked[:10]) & foreign),
                    "best_in_top3": best_in_top3(ranked, grades),
                    "classes": classes_of(demand, bool(demand.get("answers_in_other_language"))),
                    "demo_in_top10": ranked[:10].count("demo"),
                }
            )
    await backend.close()
    await database.dispose()
    return results


def report_heldout(title: str, results: list[dict[str, Any]]) -> dict[str, Any]:
    def mean(rows: list[dict[str, Any]], metric: str) -> float:
        return round(statistics.fmean(r[metric] for r in rows), 4) if rows else 0.0

    flagged = [r for r in results if r["other_language"]]
    summary: dict[str, Any] = {
        "demands": len(results),
        **{m: mean(results, m) for m in ("ndcg@10", "recall@20", "mrr")},
        "by_language": {
            language: {"demands": len(rows), "ndcg@10": mean(rows, "ndcg@10"), "recall@20": mean(rows, "recall@20")}
            for language in ("vi", "en", "ja")
            if (rows := [r for r in results if r["language"] == language])
        },
        "other_language_demands": len(flagged),
        "other_language_answer_in_top10": sum(r["foreign_answer_in_top10"] for r in flagged),
        "other_language_ndcg@10": mean(flagged, "ndcg@10"),
        "near_misses_above_an_answer": [
            sum(r["near_misses_above_an_answer"] for r in results),
            sum(r["near_misses"] for r in results),
        ],
        "demo_listings_in_top10": sum(r["demo_in_top10"] for r in results),
    }
    print(f"\n{title}: {summary['demands']} held-out demands")
    print(f"nDCG@10 {summary['ndcg@10']}  Recall@20 {summary['recall@20']}  MRR {summary['mrr']}")
    for language, figures in summary["by_language"].items():
        print(
            f"  {language}: {figures['demands']} demands, "
            f"nDCG@10 {figures['ndcg@10']}, Recall@20 {figures['recall@20']}"
        )
    print(
        f"answers only in another language: a relevant one in the top 10 for "
        f"{summary['other_language_answer_in_top10']}/{summary['other_language_demands']} demands "
        f"(their nDCG@10 {summary['other_language_ndcg@10']})"
    )
    above, total = summary["near_misses_above_an_answer"]
    print(f"near misses ranked above a graded answer: {above} of {total}")
    print(f"demo listings in the top 10s: {summary['demo_listings_in_top10']}")
    summary["by_class"] = report_classes([(r["classes"], r, r["best_in_top3"]) for r in results])
    if "--per-case" in sys.argv:
        for r in results:
            print(
                f"  {r['key']} {r['language']} {'other-language' if r['other_language'] else '':<15} {r['ndcg@10']:.3f}"
            )
    return summary


def main_heldout(directory: Path) -> None:
    report = {
        "empty catalogue": report_heldout("held-out set alone", asyncio.run(evaluate_heldout(directory, False))),
        "with demo catalogue": report_heldout(
            "held-out set with the demo catalogue as distractors", asyncio.run(evaluate_heldout(directory, True))
        ),
    }
    print(json.dumps(report))


def main() -> None:
    if "--heldout" in sys.argv:
        main_heldout(ROOT / sys.argv[sys.argv.index("--heldout") + 1])
        return
    results = asyncio.run(evaluate())
    if "--per-case" in sys.argv:
        print(f"{'need':<6} {'split':<12}" + "".join(f"{name:>15}" for name in MODELS))
        for r in results:
            print(f"{r.id:<6} {r.split:<12}" + "".join(f"{r.metrics[name]['ndcg@10']:>15.3f}" for name in MODELS))
    report: dict[str, Any] = {"all": summarise(results)}
    for split in dict.fromkeys(r.split for r in results):
        report[split] = summarise([r for r in results if r.split == split])
    for title, summary in report.items():
        print(f"\n{title}: {summary['cases']} labelled needs")
        print(f"{'model':<16} {'nDCG@10':>8} {'Recall@20':>10} {'MRR':>8} {'other-language Recall@10':>25}")
        for name, metrics in summary["models"].items():
            print(
                f"{name:<16} {metrics['ndcg@10']:>8} {metrics['recall@20']:>10} {metrics['mrr']:>8} "
                f"{metrics['other_language_recall@10']:>25}"
            )
        low, high = summary["full_minus_text_only_ndcg@10_95ci"]
        won, lost = summary["full_vs_text_only_needs_won_lost"]
        print(f"full − text only, nDCG@10: 95 % interval [{low}, {high}] (paired bootstrap over needs)")
        print(
            f"needs where the full model ranks better / worse than text only: {won} / {lost} "
            f"(sign test p = {summary['sign_test_p']})"
        )
        print(f"other-language answers (no text in the need's language): {summary['other_language_answers']}")
    for split in dict.fromkeys(r.split for r in results):
        print(f"\nper class, full model, {split} needs:", end="")
        members = [r for r in results if r.split == split]
        report[split]["by_class"] = report_classes(
            [(r.classes, r.metrics["full"], r.best_in_top3["full"]) for r in members]
        )
    checks = {r.id: r.japanese_in_top10 for r in results if r.japanese_in_top10 is not None}
    print(f"\nVietnamese needs whose Japanese answer is in the top 10: {sum(checks.values())}/{len(checks)} {checks}")
    report["vi_needs_with_japanese_answer_in_top10"] = checks
    report["ndcg@10_per_case"] = {r.id: {n: round(r.metrics[n]["ndcg@10"], 3) for n in MODELS} for r in results}
    print(json.dumps(report))


if __name__ == "__main__":
    main()
