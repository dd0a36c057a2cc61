"""Benchmark the meeting scheduler against a greedy first-fit baseline, on generated events or on instances
in the MiniZinc data format of the B2B scheduling literature.

    .venv/bin/python scripts/bench_scheduler.py                      # 20 event-size instances + Kitakyushu + large
    .venv/bin/python scripts/bench_scheduler.py --events 5 --no-large
    .venv/bin/python scripts/bench_scheduler.py --dzn a.dzn b.dzn --fairness 2 --time-limit 60
    .venv/bin/python scripts/bench_scheduler.py --write-dzn /tmp/instances   # export the generated events

For each instance: meetings placed vs the proven bound, total breaks vs the proven lower bound, seconds;
and greedy first-fit (meetings by priority, each in the earliest free slot) in the same run.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.scheduling.engine import Instance, check_schedule, count_breaks, greedy, solve
from app.scheduling.instances import KITAKYUSHU, LARGE, event_shape, generate, read_dzn, write_dzn


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run(name: str, instance: Instance, time_limit: float, workers: int | None) -> dict[str, object]:
    baseline = greedy(instance, first_fit=True)
    schedule = solve(instance, time_limit=time_limit, workers=workers)
    problems = check_schedule(instance, schedule.slot_of)
    if problems:
        raise SystemExit(f"{name}: invalid schedule: {problems[:3]}")
    return {
        "instance": name,
        "participants": len(instance.participants),
        "meetings": len(instance.meetings),
        "slots": len(instance.slots),
        "tables": instance.slots[0].tables if instance.slots else 0,
        "placed": len(schedule.placements),
        "priority": schedule.priority.value,
        "priority_bound": schedule.priority.bound,
        "priority_optimal": schedule.priority.optimal,
        "breaks": schedule.breaks.value,
        "breaks_lower_bound": schedule.breaks.bound,
        "optimal": schedule.breaks.optimal and schedule.priority.optimal,
        "seconds": round(schedule.seconds, 2),
        "greedy_placed": len(baseline),
        "greedy_priority": sum(m.priority for m in instance.meetings if m.id in baseline),
        "greedy_breaks": sum(count_breaks(instance, baseline).values()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dzn", nargs="+", type=Path, help="instances in the literature's MiniZinc data format")
    parser.add_argument("--fairness", type=int, default=None, help="max − min breaks per participant")
    parser.add_argument("--time-limit", type=float, default=60.0, help="seconds per event-size instance")
    parser.add_argument("--large-time-limit", type=float, default=30.0)
    parser.add_argument("--events", type=int, default=20, help="generated event-size instances")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workers", type=int, default=None, help="CP-SAT workers; default one per core")
    parser.add_argument("--no-large", action="store_true")
    parser.add_argument("--write-dzn", type=Path, help="write the generated event instances here and stop")
    args = parser.parse_args()

    if args.dzn:
        for path in args.dzn:
            instance = read_dzn(path)
            if args.fairness is not None:
                instance = Instance(instance.slots, instance.participants, instance.meetings, fairness=args.fairness)
            result = run(path.name, instance, args.time_limit, args.workers)
            print(
                json.dumps(
                    {k: result[k] for k in ("placed", "meetings", "breaks", "breaks_lower_bound", "optimal", "seconds")}
                    | {"file": str(path)}
                ),
                flush=True,
            )
        return

    rng = random.Random(args.seed)
    shapes = [KITAKYUSHU] + [event_shape(rng, i) for i in range(args.events)]
    instances = [(shape.name, generate(shape, seed)) for seed, shape in enumerate(shapes)]
    if args.write_dzn:
        args.write_dzn.mkdir(parents=True, exist_ok=True)
        for name, instance in instances:
            if all(p.booth is None for p in instance.participants):
                write_dzn(instance, args.write_dzn / f"{name}.dzn")
        print(f"wrote {args.write_dzn}")
        return

    header = (
        f"{'instance':<26}{'P':>5}{'M':>6}{'S':>4}{'T':>4} | {'placed':>7}{'bound':>7} | "
        f"{'breaks':>6}{'LB':>5}{'opt':>5}{'sec':>7} | {'greedy placed':>13}{'breaks':>7}"
    )
    print(header)
    print("-" * len(header))
    results = []
    for name, instance in instances:
        r = run(name, instance, args.time_limit, args.workers)
        results.append(r)
        print(
            f"{name:<26}{r['participants']:>5}{r['meetings']:>6}{r['slots']:>4}{r['tables']:>4} | "
            f"{r['placed']:>7}{(r['priority_optimal'] and r['placed']) or '?':>7} | {r['breaks']:>6}"
            f"{r['breaks_lower_bound']:>5}{'yes' if r['optimal'] else 'no':>5}{r['seconds']:>7} | "
            f"{r['greedy_placed']:>13}{r['greedy_breaks']:>7}",
            flush=True,
        )
    events = [r for r in results if r["instance"] != KITAKYUSHU.name]
    proven = sum(1 for r in events if r["optimal"] and float(r["seconds"]) <= 60)  # type: ignore[arg-type]
    times = [float(r["seconds"]) for r in events]  # type: ignore[arg-type]
    kitakyushu = results[0]
    print()
    print(
        f"event-size: {proven}/{len(events)} proven optimal (both objectives) within 60 s "
        f"({proven / len(events):.0%}); all placeable meetings placed in "
        f"{sum(1 for r in events if r['priority_optimal'])}/{len(events)}; "
        f"seconds median {statistics.median(times):.1f}, p95 {percentile(times, 0.95):.1f}"
    )
    print(
        f"breaks: scheduler {sum(int(r['breaks']) for r in events)} vs greedy first-fit "  # type: ignore[call-overload]
        f"{sum(int(r['greedy_breaks']) for r in events)} in total; meetings placed "  # type: ignore[call-overload]
        f"{sum(int(r['placed']) for r in events)} vs {sum(int(r['greedy_placed']) for r in events)}"
    )  # type: ignore[call-overload]
    print(
        f"{KITAKYUSHU.name}: {kitakyushu['placed']}/{kitakyushu['meetings']} placed, breaks "
        f"{kitakyushu['breaks']} (lower bound {kitakyushu['breaks_lower_bound']}), optimal "
        f"{'yes' if kitakyushu['optimal'] else 'no'} in {kitakyushu['seconds']} s"
    )

    if not args.no_large:
        instance = generate(LARGE, seed=args.seed)
        r = run(LARGE.name, instance, args.large_time_limit, args.workers)
        ratio = int(r["priority"]) / int(r["priority_bound"])  # type: ignore[call-overload]
        greedy_ratio = int(r["greedy_priority"]) / int(r["priority_bound"])  # type: ignore[call-overload]
        print()
        print(
            f"{LARGE.name}: {r['participants']} participants, {r['meetings']} accepted requests, {r['slots']} slots, "
            f"{r['tables']} tables + {LARGE.booths} booths"
        )
        print(
            f"  scheduler: placed {r['placed']} meetings, priority {r['priority']} = {ratio:.2%} of the proven "
            f"bound {r['priority_bound']}; breaks {r['breaks']} (lower bound {r['breaks_lower_bound']}); "
            f"{r['seconds']} s"
        )
        print(
            f"  greedy first-fit: placed {r['greedy_placed']}, priority {r['greedy_priority']} = "
            f"{greedy_ratio:.2%} of the bound; breaks {r['greedy_breaks']}"
        )


if __name__ == "__main__":
    main()
