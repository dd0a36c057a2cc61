"""The MaxSAT breaks prover: on small instances its optimum equals a brute force over the same placed
meetings (within a bound on moved meetings when re-scheduling), and through the whole scheduler it
proves the optimum of an event built so that it needs breaks."""

from __future__ import annotations

import itertools
import threading
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.scheduling.engine import MAXSAT_MEETINGS, Instance, _prepare, check_schedule, count_breaks, greedy, solve
from app.scheduling.instances import Shape, planted, read_dzn
from app.scheduling.maxsat import BreaksMaxSat
from tests.scheduling.checks import LOADED
from tests.scheduling.strategies import instances, without_fairness

EVENT_WITH_BREAKS = Path(__file__).parent.parent / "data" / "scheduling" / "event-09.dzn"
PLANTED = Shape(
    "planted", participants=30, meetings=0, morning_slots=5, afternoon_slots=5, tables=10, hubs=2, fairness=2
)


def fewest_breaks(instance: Instance, placed: dict[int, int], moved_at_most: int) -> int | None:
    """Brute force: the fewest breaks over every valid timetable (within the fairness bound, when the
    instance has one) of exactly the placed meetings that moves at most `moved_at_most` of them away from
    `placed`; None when there is none."""
    meetings = [m for m in instance.meetings if m.id in placed]
    options = [[m.locked_slot] if m.locked_slot is not None else range(len(instance.slots)) for m in meetings]
    best = None
    for choice in itertools.product(*options):
        slot_of = {m.id: s for m, s in zip(meetings, choice, strict=True)}
        if sum(1 for mid, s in slot_of.items() if placed[mid] != s) > moved_at_most or check_schedule(
            instance, slot_of
        ):
            continue
        breaks = sum(count_breaks(instance, slot_of).values())
        best = breaks if best is None else min(best, breaks)
    return best


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances(max_meetings=6, max_slots=4), st.integers(0, 6))
def test_the_maxsat_optimum_equals_brute_force(instance: Instance, moved_at_most: int) -> None:
    instance = without_fairness(instance)
    placed = greedy(instance)
    index_of = {m.id: i for i, m in enumerate(instance.meetings)}
    prover = BreaksMaxSat(
        _prepare(instance),
        {index_of[mid] for mid in placed},
        previous={index_of[mid]: slot for mid, slot in placed.items()},
        moved_at_most=moved_at_most,
    )
    bounds: list[int] = []
    proof = prover.run(30, threading.Event(), bounds.append)
    bound, solution = proof.bound, proof.solution

    assert solution is not None
    slot_of = {instance.meetings[i].id: slot for i, slot in solution.items()}
    assert set(slot_of) == set(placed)
    assert check_schedule(instance, slot_of) == []
    assert sum(1 for mid, slot in slot_of.items() if placed[mid] != slot) <= moved_at_most
    expected = fewest_breaks(instance, placed, moved_at_most)
    assert expected is not None
    assert bound == sum(count_breaks(instance, slot_of).values()) == expected
    assert bounds == sorted(bounds)
    assert all(b <= expected for b in bounds)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances(max_meetings=6, max_slots=4), st.integers(0, 2))
def test_the_maxsat_optimum_within_the_fairness_bound_equals_brute_force(instance: Instance, fairness: int) -> None:
    instance = Instance(instance.slots, instance.participants, instance.meetings, fairness=fairness)
    placed = greedy(without_fairness(instance))
    index_of = {m.id: i for i, m in enumerate(instance.meetings)}
    proof = BreaksMaxSat(_prepare(instance), {index_of[mid] for mid in placed}).run(30, threading.Event(), print)

    expected = fewest_breaks(instance, placed, len(placed))
    if expected is None:  # no timetable of these meetings is fair
        assert proof.infeasible
        assert proof.solution is None
        return
    assert proof.solution is not None
    slot_of = {instance.meetings[i].id: slot for i, slot in proof.solution.items()}
    assert set(slot_of) == set(placed)
    assert check_schedule(instance, slot_of) == []  # fairness included
    assert proof.bound == sum(count_breaks(instance, slot_of).values()) == expected


def test_a_proof_out_of_work_returns_no_schedule() -> None:
    instance = read_dzn(EVENT_WITH_BREAKS)
    placed = greedy(instance)
    index_of = {m.id: i for i, m in enumerate(instance.meetings)}
    prover = BreaksMaxSat(_prepare(instance), {index_of[m] for m in placed})
    proof = prover.run(30, threading.Event(), lambda _: None, propagations=1)
    assert proof.solution is None
    assert not proof.infeasible
    assert proof.bound < 6  # its optimum


def test_a_stopped_proof_returns_its_bound_and_no_schedule() -> None:
    instance = read_dzn(EVENT_WITH_BREAKS)
    placed = greedy(instance)
    index_of = {m.id: i for i, m in enumerate(instance.meetings)}
    stop = threading.Event()
    stop.set()
    proof = BreaksMaxSat(_prepare(instance), {index_of[m] for m in placed}).run(30, stop, lambda _: None)
    assert proof.solution is None
    assert proof.bound == 0
    assert not proof.infeasible


def test_the_scheduler_proves_the_fewest_breaks_of_an_event_that_needs_some() -> None:
    # built around a schedule with breaks that no schedule placing every meeting can avoid (see `planted`)
    made = planted(PLANTED, seed=6, forced_breaks=4)
    instance = made.instance
    assert len(instance.meetings) >= MAXSAT_MEETINGS  # the proof is RC2's
    schedule = solve(instance, time_limit=20, wall_limit=LOADED)
    assert len(schedule.placements) == len(instance.meetings)
    assert check_schedule(instance, schedule.slot_of) == []
    assert schedule.fairness_met
    assert schedule.breaks.optimal
    assert schedule.breaks.bound == schedule.breaks.value == made.breaks > 0
    assert schedule.breaks.value < sum(count_breaks(instance, greedy(instance, first_fit=True)).values())
