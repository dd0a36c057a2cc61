"""Benchmark the meeting scheduler against a greedy first-fit baseline, on generated events or on instances
in the MiniZinc data format of the B2B scheduling literature.

    .venv/bin/python scripts/bench_scheduler.py                      # 20 event-size instances + Kitakyushu + large
    .venv/bin/python scripts/bench_scheduler.py --events 5 --no-large
    .venv/bin/python scripts/bench_scheduler.py --fair 10 --events 0 --no-large   # fairness families only
    .venv/bin/python scripts/bench_scheduler.py --fair 4 --only planted --events 0 --no-large --wall-slack 10
    .venv/bin/python scripts/bench_scheduler.py --events 0 --fair 0 --wall-slack 3   # the large instance only
    .venv/bin/python scripts/bench_scheduler.py --dzn a.dzn b.dzn --fairness 2 --time-limit 60
    .venv/bin/python scripts/bench_scheduler.py --write-dzn /tmp/instances   # export the generated events

For each instance: meetings placed vs the proven bound, total breaks vs the proven lower bound, seconds;
and greedy first-fit (meetings by priority, each in the earliest free slot) in the same run.

With --fair N (default 10), the fairness families with d = 2: N forum- and technology-transfer-shaped
instances and N planted ones (a schedule with 0 or k forced breaks built first, the requests derived from
it, so the optimum is known), each row with breaks, proven lower bound, planted optimum, spread and
seconds. A schedule that misses the fairness bound, or breaks any other rule, is a FAILURE row, not a
result. The bound (`--fairness D`, default 2; `--no-fairness` for none) is on the event-size, Kitakyushu
and large instances too. Runs are deterministic (work, not seconds): on a loaded machine `--wall-slack K`
lets each run finish the work of its time limit, and the CPU seconds column says what it cost.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.scheduling.engine import Instance, Schedule, check_schedule, count_breaks, greedy, solve
from app.scheduling.instances import (
    FORUM,
    KITAKYUSHU,
    LARGE,
    TECHNOLOGY_TRANSFER,
    event_shape,
    generate,
    planted,
    read_dzn,
    real_shape,
    write_dzn,
)

WALL_SLACK = 1.0  # --wall-slack: on a loaded machine, let the same work (and so the same schedule) finish


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def with_fairness(instance: Instance, fairness: int | None) -> Instance:
    return Instance(instance.slots, instance.participants, instance.meetings, fairness=fairness)


def failure(schedule: Schedule, instance: Instance) -> str | None:
    """Why the schedule is not a result: it misses the fairness bound (a draft) or breaks another rule."""
    if not schedule.fairness_met:
        proven = " (proven impossible)" if schedule.fairness_impossible else ""
        return f"FAILURE: no fair schedule found{proven}; draft spread {schedule.spread} > {instance.fairness}"
    problems = check_schedule(instance, schedule.slot_of)
    return f"FAILURE: invalid schedule: {problems[:3]}" if problems else None


def run(name: str, instance: Instance, time_limit: float, workers: int | None) -> dict[str, object]:
    baseline = greedy(instance, first_fit=True)
    # CPU seconds of this process and of the proving processes: what a run cost, whatever the machine's load
    cpu = time.process_time() + resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime
    schedule = solve(instance, time_limit=time_limit, workers=workers, wall_limit=time_limit * WALL_SLACK)
    cpu = time.process_time() + resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime - cpu
    problem = failure(schedule, instance)
    if problem:
        print(f"{name}: {problem}", flush=True)
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
        "cpu": round(cpu, 1),
        "spread": schedule.spread,
        "failure": problem,
        "greedy_placed": len(baseline),
        "greedy_priority": sum(m.priority for m in instance.meetings if m.id in baseline),
        "greedy_breaks": sum(count_breaks(instance, baseline).values()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dzn", nargs="+", type=Path, help="instances in the literature's MiniZinc data format")
    parser.add_argument("--fairness", type=int, default=2, help="max − min breaks per participant (default 2)")
    parser.add_argument("--no-fairness", action="store_true", help="no fairness bound on the event-size families")
    parser.add_argument("--time-limit", type=float, default=60.0, help="seconds per event-size instance")
    parser.add_argument("--large-time-limit", type=float, default=30.0)
    parser.add_argument("--events", type=int, default=20, help="generated event-size instances")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workers", type=int, default=None, help="CP-SAT workers; default one per core")
    parser.add_argument("--no-large", action="store_true")
    parser.add_argument("--write-dzn", type=Path, help="write the generated event instances here and stop")
    parser.add_argument(
        "--wall-slack",
        type=float,
        default=1.0,
        help="wall-clock limit as a multiple of the time limit: the work (and so the schedule) of a run is "
        "that of the time limit; on a shared, loaded machine a slack lets it finish as it would on an idle one",
    )
    parser.add_argument("--only", choices=("real-shaped", "planted"), help="one of the fairness families")
    parser.add_argument("--fair", type=int, default=10, help="instances per fairness family (d = 2)")
    args = parser.parse_args()
    global WALL_SLACK
    WALL_SLACK = args.wall_slack
    if args.no_fairness:
        args.fairness = None

    if args.dzn:
        for path in args.dzn:
            instance = read_dzn(path)
            if args.fairness is not None:
                instance = with_fairness(instance, args.fairness)
            result = run(path.name, instance, args.time_limit, args.workers)
            print(
                json.dumps(
                    {k: result[k] for k in ("placed", "meetings", "breaks", "breaks_lower_bound", "optimal", "seconds")}
                    | {"file": str(path)}
                ),
                flush=True,
            )
        return

    if args.fair:
        fair_families(args)
    rng = random.Random(args.seed)
    shapes = [KITAKYUSHU] + [event_shape(rng, i) for i in range(args.events)]
    instances = [(shape.name, with_fairness(generate(shape, seed), args.fairness)) for seed, shape in enumerate(shapes)]
    if args.events == 0:
        instances = []
    if args.write_dzn:
        args.write_dzn.mkdir(parents=True, exist_ok=True)
        for name, instance in instances:
            if all(p.booth is None for p in instance.participants):
                write_dzn(instance, args.write_dzn / f"{name}.dzn")
        print(f"wrote {args.write_dzn}")
        return

    if not instances:
        return large(args) if not args.no_large else None
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
        large(args)


def large(args: argparse.Namespace) -> None:
    """The 1,000-participant instance within its own time limit."""
    instance = with_fairness(generate(LARGE, seed=args.seed), args.fairness)
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
        f"spread {r['spread']} (fairness {args.fairness}); {r['seconds']} s, {r['cpu']} CPU s {r['failure'] or ''}"
    )
    print(
        f"  greedy first-fit: placed {r['greedy_placed']}, priority {r['greedy_priority']} = "
        f"{greedy_ratio:.2%} of the bound; breaks {r['greedy_breaks']}"
    )


def fair_families(args: argparse.Namespace) -> None:
    """Forum- and technology-transfer-shaped events and planted ones, fairness d = 2."""
    rng = random.Random(args.seed)
    shapes = [real_shape(FORUM if i % 2 == 0 else TECHNOLOGY_TRANSFER, rng, i) for i in range(args.fair)]
    families: list[tuple[str, str, Instance, int | None]] = []
    for seed, shape in enumerate(shapes):
        families.append(("real-shaped", shape.name, generate(shape, seed), None))
    for seed, shape in enumerate(shapes):
        made = planted(shape, 1000 + seed, forced_breaks=(0, 0, 2, 4)[seed % 4])
        families.append(("planted", f"planted-{shape.name}", made.instance, made.breaks))
    header = (
        f"{'instance':<26}{'P':>4}{'M':>5}{'S':>4}{'T':>4} | {'placed':>6} | {'breaks':>6}{'LB':>4}{'planted':>8}"
        f"{'spread':>7}{'sec':>7}{'cpu':>7} | {'greedy breaks':>13}"
    )
    print("fairness d = 2, time limit", args.time_limit, "s")
    print(header)
    print("-" * len(header))
    rows = []
    families = [f for f in families if args.only in (None, f[0])]
    for family, name, instance, optimum in families:
        r = run(name, instance, args.time_limit, args.workers) | {"family": family, "planted": optimum}
        rows.append(r)
        shown = "FAILURE" if r["failure"] else r["breaks"]
        print(
            f"{name:<26}{r['participants']:>4}{r['meetings']:>5}{r['slots']:>4}{r['tables']:>4} | "
            f"{r['placed']:>6} | {shown:>6}{r['breaks_lower_bound']:>4}{'' if optimum is None else optimum:>8}"
            f"{r['spread']:>7}{r['seconds']:>7}{r['cpu']:>7} | {r['greedy_breaks']:>13}",
            flush=True,
        )
    print()
    for family in ("real-shaped", "planted"):
        mine = [r for r in rows if r["family"] == family]
        if not mine:
            continue
        failed = [r for r in mine if r["failure"]]
        results = [r for r in mine if not r["failure"]]
        proven = [r for r in results if r["optimal"]]
        line = (
            f"{family}: {len(mine)} instances, {len(failed)} failures (no fair or invalid schedule); "
            f"proven optimal {len(proven)}/{len(mine)}; breaks {sum(int(r['breaks']) for r in results)} "  # type: ignore[call-overload]
            f"vs lower bound {sum(int(r['breaks_lower_bound']) for r in results)}"  # type: ignore[call-overload]
        )
        if family == "planted":
            reached = [r for r in results if int(r["breaks"]) == r["planted"]]  # type: ignore[call-overload]
            line += (
                f"; planted optimum reached {len(reached)}/{len(mine)} ({len(reached) / len(mine):.0%}), "
                f"proven {len(proven)}/{len(mine)} ({len(proven) / len(mine):.0%}); planted total "
                f"{sum(int(r['planted']) for r in mine)}"  # type: ignore[call-overload]
            )
        times = [float(r["seconds"]) for r in mine]  # type: ignore[arg-type]
        cpus = [float(r["cpu"]) for r in mine]  # type: ignore[arg-type]
        line += (
            f"; seconds median {statistics.median(times):.1f}, p95 {percentile(times, 0.95):.1f}; "
            f"CPU seconds median {statistics.median(cpus):.1f}"
        )
        print(line, flush=True)
    print()


if __name__ == "__main__":
    main()
