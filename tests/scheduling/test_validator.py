"""The schedule validator itself: a valid hand-built schedule passes, each broken rule is named, and
the scheduler's schedules on small random instances pass it."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from app.scheduling.engine import (
    Instance,
    Meeting,
    Objective,
    Participant,
    Placement,
    Schedule,
    Slot,
    UnplacedReason,
    solve,
)
from tests.scheduling.validator import violations

# Day 0 has slots 0–2 (slot 2 is the afternoon, with two shared tables); day 1 has slot 3.
SLOTS = [Slot(1, 0, 1), Slot(1, 0, 1), Slot(2, 0, 2), Slot(1, 1, 1)]
PEOPLE = [
    Participant("A", forbidden=frozenset({3}), max_meetings=3),
    Participant("B"),
    Participant("C", booth="C1"),
    Participant("D", booth="D1"),
    Participant("E"),
    Participant("F"),
    Participant("G"),
]
MEETINGS = [
    Meeting("m1", "A", "B", priority=3),
    Meeting("m2", "A", "C", priority=2),
    Meeting("m3", "C", "D"),
    Meeting("m4", "B", "E", session=2, locked_slot=2, locked_table=2),
    Meeting("m5", "D", "E", locked_slot=3),
    Meeting("m6", "A", "E"),
    Meeting("m8", "F", "G"),
]
INSTANCE = Instance(SLOTS, PEOPLE, MEETINGS, fairness=1, previous={"m1": 0, "m2": 1, "m6": 3})
# A, B and C each wait one slot (slot 1) between their meetings of day 0; E's meetings are on two days.
SCHEDULE = Schedule(
    placements=[
        Placement("m1", 0, 1, None),
        Placement("m2", 2, None, "C1"),
        Placement("m3", 0, None, "D1"),
        Placement("m4", 2, 2, None),
        Placement("m5", 3, None, "D1"),
        Placement("m8", 2, 1, None),
    ],
    unplaced={"m6": UnplacedReason.no_common_slot},
    priority=Objective(9, 10, False),
    breaks=Objective(3, 2, False),
    moved=Objective(2, 2, True),  # m2 left slot 1, m6 was dropped
    breaks_per_participant={"A": 1, "B": 1, "C": 1, "D": 0, "E": 0},
    fairness_met=True,
    table_changes=0,
    seconds=0.0,
)


def rules(messages: list[str]) -> list[str]:
    return [m.split(":", 1)[0] for m in messages]


def with_placement(schedule: Schedule, meeting_id: str, **changes: object) -> Schedule:
    placements = [replace(p, **changes) if p.meeting_id == meeting_id else p for p in schedule.placements]
    return replace(schedule, placements=placements)


def with_meeting(instance: Instance, meeting_id: str, **changes: object) -> Instance:
    return replace(instance, meetings=[replace(m, **changes) if m.id == meeting_id else m for m in instance.meetings])


def with_participant(instance: Instance, pid: str, **changes: object) -> Instance:
    people = [replace(p, **changes) if p.id == pid else p for p in instance.participants]
    return replace(instance, participants=people)


def test_a_valid_schedule_has_no_violations() -> None:
    assert violations(INSTANCE, SCHEDULE) == []


def test_reporting_unfairness_of_an_unfair_schedule_is_valid() -> None:
    assert violations(replace(INSTANCE, fairness=0), replace(SCHEDULE, fairness_met=False)) == []


# Each case breaks exactly one rule of the valid schedule above, by changing the instance or the schedule.
CASES: dict[str, tuple[Instance, Schedule]] = {
    "unknown_meeting": (
        INSTANCE,
        replace(SCHEDULE, placements=[*SCHEDULE.placements, Placement("zz", 1, 1, None)]),
    ),
    "unknown_meeting/unplaced": (
        INSTANCE,
        replace(SCHEDULE, unplaced={**SCHEDULE.unplaced, "zz": UnplacedReason.cap_reached}),
    ),
    "duplicate_placement": (
        INSTANCE,
        replace(SCHEDULE, placements=[*SCHEDULE.placements, Placement("m1", 1, 1, None)]),
    ),
    "placed_and_unplaced": (
        INSTANCE,
        replace(SCHEDULE, unplaced={**SCHEDULE.unplaced, "m1": UnplacedReason.no_table}),
    ),
    "missing_meeting": (INSTANCE, replace(SCHEDULE, unplaced={})),
    "slot_index": (INSTANCE, with_placement(SCHEDULE, "m8", slot=9)),
    "forbidden_slot": (with_participant(INSTANCE, "A", forbidden=frozenset({0, 3})), SCHEDULE),
    "session": (with_meeting(INSTANCE, "m1", session=2), SCHEDULE),
    "locked_slot": (with_meeting(INSTANCE, "m1", locked_slot=1), SCHEDULE),
    "locked_slot/unplaced": (with_meeting(INSTANCE, "m6", locked_slot=1), SCHEDULE),
    "locked_table": (with_meeting(INSTANCE, "m8", locked_table=2), SCHEDULE),
    # A now meets G in slot 2, where A already meets C; A's cap of 3 still holds
    "double_booking": (with_meeting(INSTANCE, "m8", a="A"), SCHEDULE),
    "max_meetings": (with_participant(INSTANCE, "A", max_meetings=1), SCHEDULE),
    "table": (INSTANCE, with_placement(SCHEDULE, "m1", table=2)),  # slot 0 has one table
    "table/none": (INSTANCE, with_placement(SCHEDULE, "m1", table=None)),
    "table/booth": (INSTANCE, with_placement(SCHEDULE, "m1", booth="C1")),
    "table_clash": (INSTANCE, with_placement(SCHEDULE, "m8", table=2)),
    "booth": (INSTANCE, with_placement(SCHEDULE, "m2", booth="D1")),
    "booth/table": (INSTANCE, with_placement(SCHEDULE, "m2", table=1)),
    # F shares D's stand and meets G there while D meets C
    "booth_clash": (
        with_participant(INSTANCE, "F", booth="D1"),
        with_placement(SCHEDULE, "m8", slot=0, table=None, booth="D1"),
    ),
    "breaks_per_participant": (
        INSTANCE,
        replace(SCHEDULE, breaks_per_participant={**SCHEDULE.breaks_per_participant, "A": 0}),
    ),
    "breaks_per_participant/idle": (
        INSTANCE,
        replace(SCHEDULE, breaks_per_participant={**SCHEDULE.breaks_per_participant, "F": 1}),
    ),
    "breaks_value": (INSTANCE, replace(SCHEDULE, breaks=Objective(4, 2, False))),
    "breaks_bound": (INSTANCE, replace(SCHEDULE, breaks=Objective(3, 4, False))),
    "breaks_bound/optimal": (INSTANCE, replace(SCHEDULE, breaks=Objective(3, 2, True))),
    "priority_value": (INSTANCE, replace(SCHEDULE, priority=Objective(8, 10, False))),
    "priority_bound": (INSTANCE, replace(SCHEDULE, priority=Objective(9, 8, False))),
    "priority_bound/optimal": (INSTANCE, replace(SCHEDULE, priority=Objective(9, 10, True))),
    "fairness": (replace(INSTANCE, fairness=0), SCHEDULE),
    "moved_value": (INSTANCE, replace(SCHEDULE, moved=Objective(1, 1, True))),
    "moved_value/missing": (INSTANCE, replace(SCHEDULE, moved=None)),
    "moved_value/not_rescheduling": (replace(INSTANCE, previous={}), SCHEDULE),
    "moved_bound": (INSTANCE, replace(SCHEDULE, moved=Objective(2, 3, False))),
}


@pytest.mark.parametrize(("case", "broken"), CASES.items(), ids=CASES.keys())
def test_each_broken_rule_is_reported_alone(case: str, broken: tuple[Instance, Schedule]) -> None:
    instance, schedule = broken
    assert rules(violations(instance, schedule)) == [case.split("/")[0]]


@pytest.mark.parametrize(
    ("busy", "expected"),
    [
        ({0, 4}, 1),  # a long wait is one break
        ({0, 2, 4}, 2),
        ({1, 2, 3}, 0),  # idle slots before the first and after the last meeting are not breaks
        ({2, 6}, 0),  # slots 3–5 lie between, but on the next day
        ({0, 2, 6, 8}, 2),
    ],
)
def test_breaks_are_idle_runs_between_meetings_of_one_day(busy: set[int], expected: int) -> None:
    # two days of five slots; X meets a different partner in each busy slot
    slots = [Slot(day=i // 5) for i in range(10)]
    partners = [Participant(f"p{s}") for s in sorted(busy)]
    meetings = [Meeting(f"m{s}", "X", f"p{s}") for s in sorted(busy)]
    instance = Instance(slots, [Participant("X"), *partners], meetings)
    schedule = Schedule(
        placements=[Placement(f"m{s}", s, 1, None) for s in sorted(busy)],
        unplaced={},
        priority=Objective(len(busy), len(busy), True),
        breaks=Objective(expected, 0, False),
        moved=None,
        breaks_per_participant={"X": expected},
        fairness_met=True,
        table_changes=0,
        seconds=0.0,
    )
    assert violations(instance, schedule) == []
    off_by_one = replace(schedule, breaks_per_participant={"X": expected + 1})
    assert rules(violations(instance, off_by_one)) == ["breaks_per_participant"]


def random_instance(rng: random.Random) -> Instance:
    """A small fair or unfair, capped, booth-and-table instance with a session wish and a lock here and there."""
    n_days = rng.randint(1, 2)
    per_day = rng.randint(4, 6)
    slots = [
        Slot(session=1 if i < (per_day + 1) // 2 else 2, day=d, tables=rng.randint(1, 2))
        for d in range(n_days)
        for i in range(per_day)
    ]
    n_slots = len(slots)
    people = [
        Participant(
            f"p{i}",
            forbidden=frozenset(s for s in range(n_slots) if rng.random() < 0.25),
            max_meetings=rng.choice([None, None, 2, 3]),
            booth=f"b{i}" if rng.random() < 0.25 else None,
        )
        for i in range(rng.randint(4, 8))
    ]
    pairs = [(a.id, b.id) for i, a in enumerate(people) for b in people[i + 1 :]]
    meetings = [
        Meeting(
            f"m{k}",
            a,
            b,
            priority=rng.randint(1, 5),
            session=rng.choice([1, 2]) if rng.random() < 0.2 else None,
        )
        for k, (a, b) in enumerate(rng.sample(pairs, rng.randint(len(people), min(len(pairs), 2 * len(people)))))
    ]
    # lock the first meeting in a slot both sides can attend, at a shared table if it needs one
    first, by_id = meetings[0], {p.id: p for p in people}
    free = [s for s in range(n_slots) if s not in by_id[first.a].forbidden | by_id[first.b].forbidden]
    if free and first.session is None and rng.random() < 0.5:
        shared = by_id[first.a].booth is None and by_id[first.b].booth is None
        meetings[0] = replace(first, locked_slot=free[0], locked_table=1 if shared else None)
    fairness = rng.choice([None, 0, 1, 2])
    return Instance(slots, people, meetings, fairness=fairness)


@pytest.mark.parametrize("seed", range(12))
def test_the_schedulers_schedules_are_valid(seed: int) -> None:
    rng = random.Random(seed)
    instance = random_instance(rng)
    schedule = solve(instance, time_limit=5.0, seed=seed, deterministic=True)
    assert violations(instance, schedule) == []
    # re-schedule after a participant becomes unavailable in a slot they used
    previous = schedule.slot_of
    if schedule.placements:
        dropped = schedule.placements[-1]
        meeting = next(m for m in instance.meetings if m.id == dropped.meeting_id)
        people = [
            replace(p, forbidden=p.forbidden | {dropped.slot}) if p.id == meeting.a else p
            for p in instance.participants
        ]
        meetings = [
            replace(m, locked_slot=None, locked_table=None) if m.id == meeting.id else m for m in instance.meetings
        ]
        instance = replace(instance, participants=people, meetings=meetings)
    instance = replace(instance, previous=previous)
    again = solve(instance, time_limit=5.0, seed=seed, deterministic=True)
    assert violations(instance, again) == []
