"""The meeting scheduler: pure, deterministic under a seed — an instance in, a schedule with proven bounds out.

This is the B2B meeting scheduling problem of Bofill, Coll, Garcia,
Giráldez-Cru, Pesant, Suy and Villaret (JAIR 74, 2022): assign accepted
meetings to slots so that nobody is double-booked, sessions, availability,
caps and table counts hold and locked meetings stay put. Objectives, in
order: (1) the placed priority (sum of the meetings' weights), (2) in a
re-schedule, the number of meetings moved, (3) breaks — a break is a run
of idle slots between two meetings of one participant on one day —,
optionally with a fairness bound on the spread of breaks per participant.

Pipeline: allowed slots per meeting → an upper bound on the placed
priority from a relaxation (caps, free slots and the table budget, with no
timetable) → a greedy construction that favours slots next to a
participant's other meetings → CP-SAT, warm-started from the best complete
solution so far, for each objective in turn (each fixed before the next; the
fewest breaks proven by RC2 in `maxsat.py` from 40 placed meetings) →
tables after slots: booth hosts stay at their booth, others keep their
table from one meeting to the next where they can. Breaks are counted as
"runs of meetings − 1" per participant and day: a run starts at a busy
slot whose predecessor is idle, which keeps the encoding small (one
Boolean per participant and slot) and its linear relaxation useful, in
the spirit of the paper's busy / break-end variables and implied
constraints.
"""

from __future__ import annotations

import itertools
import math
import os
import random
import threading
import time
from collections import defaultdict
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ortools.sat.python import cp_model

from app.scheduling.maxsat import BreaksMaxSat

# --------------------------------------------------------------------------- instance


@dataclass(frozen=True)
class Slot:
    """One meeting slot; slots are given in time order."""

    session: int = 1  # e.g. 1 = morning, 2 = afternoon
    day: int = 0  # breaks never span two days
    tables: int = 1  # shared tables open in this slot (booths are extra)


@dataclass(frozen=True)
class Participant:
    id: Hashable
    forbidden: frozenset[int] = frozenset()  # slot indices the participant is not available
    max_meetings: int | None = None
    booth: str | None = None  # a fixed booth: all this participant's meetings happen there


@dataclass(frozen=True)
class Meeting:
    id: Hashable
    a: Hashable  # participant ids
    b: Hashable
    priority: int = 1  # weight of placing it (e.g. the reciprocal match score × 100)
    session: int | None = None  # only slots of this session; None = any
    locked_slot: int | None = None  # published or fixed by the organiser: must stay here
    locked_table: int | None = None


@dataclass(frozen=True)
class Instance:
    slots: Sequence[Slot]
    participants: Sequence[Participant]
    meetings: Sequence[Meeting]
    fairness: int | None = None  # max − min breaks over participants with meetings, when given
    previous: dict[Hashable, int] = field(default_factory=dict)  # meeting id → slot of the last published schedule


class SchedulingError(ValueError):
    """The instance is inconsistent (unknown participant, locked meetings that collide, …)."""


# --------------------------------------------------------------------------- result


class UnplacedReason(StrEnum):
    no_common_slot = "no_common_slot"  # no slot where both are available and free
    cap_reached = "cap_reached"  # a participant already has its maximum of meetings
    no_table = "no_table"  # both free in some slot, but every table is taken


@dataclass(frozen=True)
class Placement:
    meeting_id: Hashable
    slot: int
    table: int | None  # shared table number, 1-based; None at a booth
    booth: str | None


@dataclass(frozen=True)
class Objective:
    """An objective's value, the best bound proven for it and the relative gap between them."""

    value: int
    bound: int
    optimal: bool

    @property
    def gap(self) -> float:
        if self.value == self.bound:
            return 0.0
        return abs(self.bound - self.value) / max(abs(self.bound), abs(self.value), 1)


@dataclass(frozen=True)
class Schedule:
    placements: list[Placement]
    unplaced: dict[Hashable, UnplacedReason]
    priority: Objective  # maximised: bound ≥ value
    breaks: Objective  # minimised: bound ≤ value
    moved: Objective | None  # minimised; only when re-scheduling
    breaks_per_participant: dict[Hashable, int]
    fairness_met: bool
    table_changes: int
    seconds: float

    @property
    def slot_of(self) -> dict[Hashable, int]:
        return {p.meeting_id: p.slot for p in self.placements}


# --------------------------------------------------------------------------- preparation


@dataclass
class _Prepared:
    instance: Instance
    participants: dict[Hashable, Participant]
    allowed: list[list[int]]  # per meeting index: slots where it may happen
    meetings_of: dict[Hashable, list[int]]
    shared: list[bool]  # per meeting: needs a shared table (no booth host)
    capacity: dict[Hashable, int]  # most meetings a participant can have

    @property
    def meetings(self) -> Sequence[Meeting]:
        return self.instance.meetings


def _prepare(instance: Instance) -> _Prepared:
    participants = {p.id: p for p in instance.participants}
    if len(participants) != len(instance.participants):
        raise SchedulingError("participant ids must be unique")
    seen_ids: set[Hashable] = set()
    n_slots = len(instance.slots)
    allowed: list[list[int]] = []
    meetings_of: dict[Hashable, list[int]] = defaultdict(list)
    for index, meeting in enumerate(instance.meetings):
        if meeting.id in seen_ids:
            raise SchedulingError(f"meeting id {meeting.id!r} is not unique")
        seen_ids.add(meeting.id)
        if meeting.a not in participants or meeting.b not in participants:
            raise SchedulingError(f"meeting {meeting.id!r} names an unknown participant")
        if meeting.a == meeting.b:
            raise SchedulingError(f"meeting {meeting.id!r} has the same participant on both sides")
        a, b = participants[meeting.a], participants[meeting.b]
        if meeting.locked_slot is not None:
            if not 0 <= meeting.locked_slot < n_slots:
                raise SchedulingError(f"meeting {meeting.id!r} is locked to a slot that does not exist")
            slots = [meeting.locked_slot]
        else:
            slots = [
                s
                for s, slot in enumerate(instance.slots)
                if (meeting.session is None or slot.session == meeting.session)
                and s not in a.forbidden
                and s not in b.forbidden
            ]
        allowed.append(slots)
        meetings_of[meeting.a].append(index)
        meetings_of[meeting.b].append(index)
    capacity = {}
    for pid, participant in participants.items():
        free = n_slots - len({s for s in participant.forbidden if 0 <= s < n_slots})
        capacity[pid] = min(free, participant.max_meetings if participant.max_meetings is not None else free)
    shared = [participants[m.a].booth is None and participants[m.b].booth is None for m in instance.meetings]
    _check_locked(instance)
    return _Prepared(instance, participants, allowed, dict(meetings_of), shared, capacity)


def _check_locked(instance: Instance) -> None:
    busy: set[tuple[Hashable, int]] = set()
    for meeting in instance.meetings:
        if meeting.locked_slot is None:
            continue
        for pid in (meeting.a, meeting.b):
            if (pid, meeting.locked_slot) in busy:
                raise SchedulingError(f"locked meetings of {pid!r} collide in slot {meeting.locked_slot}")
            busy.add((pid, meeting.locked_slot))


# --------------------------------------------------------------------------- evaluation


def count_breaks(instance: Instance, slot_of: dict[Hashable, int]) -> dict[Hashable, int]:
    """Breaks per participant: runs of idle slots between two of its meetings on the same day."""
    busy: dict[Hashable, set[int]] = defaultdict(set)
    for meeting in instance.meetings:
        slot = slot_of.get(meeting.id)
        if slot is not None:
            busy[meeting.a].add(slot)
            busy[meeting.b].add(slot)
    result = {}
    for participant in instance.participants:
        slots = sorted(busy.get(participant.id, ()))
        result[participant.id] = sum(
            1
            for before, after in itertools.pairwise(slots)
            if after > before + 1 and instance.slots[before].day == instance.slots[after].day
        )
    return result


def check_schedule(instance: Instance, slot_of: dict[Hashable, int]) -> list[str]:
    """Every rule a schedule breaks, in words; empty when it is valid. Used by tests and benchmarks."""
    prepared = _prepare(instance)
    problems = []
    busy: dict[tuple[Hashable, int], Hashable] = {}
    shared_in_slot: dict[int, int] = defaultdict(int)
    count: dict[Hashable, int] = defaultdict(int)
    for index, meeting in enumerate(instance.meetings):
        slot = slot_of.get(meeting.id)
        if meeting.locked_slot is not None and slot != meeting.locked_slot:
            problems.append(f"locked meeting {meeting.id!r} moved")
        if slot is None:
            continue
        if slot not in prepared.allowed[index]:
            problems.append(f"meeting {meeting.id!r} in slot {slot}, outside its session or availability")
        for pid in (meeting.a, meeting.b):
            other = busy.setdefault((pid, slot), meeting.id)
            if other != meeting.id:
                problems.append(f"{pid!r} double-booked in slot {slot}")
            count[pid] += 1
        if prepared.shared[index]:
            shared_in_slot[slot] += 1
    for slot, used in shared_in_slot.items():
        if used > instance.slots[slot].tables:
            problems.append(f"slot {slot} needs {used} tables, has {instance.slots[slot].tables}")
    for participant in instance.participants:
        if participant.max_meetings is not None and count[participant.id] > participant.max_meetings:
            problems.append(f"{participant.id!r} has more than {participant.max_meetings} meetings")
    breaks = count_breaks(instance, slot_of)
    if instance.fairness is not None:
        spread = _spread(instance, prepared, breaks)
        if spread > instance.fairness:
            problems.append(f"breaks spread {spread} exceeds the fairness bound {instance.fairness}")
    return problems


def _spread(instance: Instance, prepared: _Prepared, breaks: dict[Hashable, int]) -> int:
    counted = [breaks[p.id] for p in instance.participants if prepared.meetings_of.get(p.id)]
    return max(counted) - min(counted) if counted else 0


# --------------------------------------------------------------------------- greedy


def greedy(instance: Instance, *, first_fit: bool = False) -> dict[Hashable, int]:
    """Meetings by priority, each placed in a free slot. First fit takes the earliest slot
    (the baseline event tools use); otherwise the slot that adds the fewest breaks."""
    prepared = _prepare(instance)
    return _greedy(prepared, first_fit=first_fit)


def _greedy(prepared: _Prepared, *, first_fit: bool) -> dict[Hashable, int]:
    state = _Timetable(prepared)
    instance = prepared.instance
    for index, meeting in enumerate(instance.meetings):
        if meeting.locked_slot is not None:
            state.place(index, meeting.locked_slot)
    # Most valuable first; among equals, the most constrained (fewest allowed slots, busiest participants).
    order = [i for i, m in enumerate(instance.meetings) if m.locked_slot is None]
    order.sort(
        key=lambda i: (
            -instance.meetings[i].priority,
            len(prepared.allowed[i]),
            -(len(prepared.meetings_of[instance.meetings[i].a]) + len(prepared.meetings_of[instance.meetings[i].b])),
            i,
        )
    )
    for index in order:
        if not state.has_room(index):
            continue
        free = [slot for slot in prepared.allowed[index] if state.fits(index, slot)]
        if not free:
            continue
        if first_fit:
            state.place(index, free[0])
        else:
            state.place(index, min(free, key=lambda slot: (state.added_breaks(index, slot), slot)))
    if not first_fit:
        for index in order:
            if index not in state.slot_of and state.has_room(index):
                state.insert_by_moving(index)
    return {instance.meetings[i].id: slot for i, slot in state.slot_of.items()}


class _Timetable:
    """A partial schedule with the bookkeeping greedy construction and repair need."""

    def __init__(self, prepared: _Prepared):
        self.prepared = prepared
        self.instance = prepared.instance
        self.slot_of: dict[int, int] = {}
        self.occupant: dict[tuple[Hashable, int], int] = {}
        self.count: dict[Hashable, int] = defaultdict(int)
        self.tables_left = [slot.tables for slot in self.instance.slots]
        self.shared_in: dict[int, set[int]] = defaultdict(set)

    def has_room(self, index: int) -> bool:
        m = self.instance.meetings[index]
        return all(self.count[p] < self.prepared.capacity[p] for p in (m.a, m.b))

    def fits(self, index: int, slot: int) -> bool:
        m = self.instance.meetings[index]
        if (m.a, slot) in self.occupant or (m.b, slot) in self.occupant:
            return False
        return not (self.prepared.shared[index] and self.tables_left[slot] <= 0)

    def place(self, index: int, slot: int) -> None:
        m = self.instance.meetings[index]
        self.slot_of[index] = slot
        for p in (m.a, m.b):
            self.occupant[p, slot] = index
            self.count[p] += 1
        if self.prepared.shared[index]:
            self.tables_left[slot] -= 1
            self.shared_in[slot].add(index)

    def remove(self, index: int) -> int:
        m = self.instance.meetings[index]
        slot = self.slot_of.pop(index)
        for p in (m.a, m.b):
            del self.occupant[p, slot]
            self.count[p] -= 1
        if self.prepared.shared[index]:
            self.tables_left[slot] += 1
            self.shared_in[slot].discard(index)
        return slot

    def added_breaks(self, index: int, slot: int) -> float:
        m = self.instance.meetings[index]
        return sum(_added_breaks(self.instance, {s for (q, s) in self._busy_of(p)}, slot) for p in (m.a, m.b))

    def _busy_of(self, participant: Hashable) -> list[tuple[Hashable, int]]:
        return [
            (participant, self.slot_of[i]) for i in self.prepared.meetings_of.get(participant, []) if i in self.slot_of
        ]

    def _relocate(self, index: int, avoid: int) -> bool:
        """Move a placed, unlocked meeting to another slot where it fits (not `avoid`)."""
        if self.instance.meetings[index].locked_slot is not None:
            return False
        old = self.remove(index)
        for slot in self.prepared.allowed[index]:
            if slot not in (old, avoid) and self.fits(index, slot):
                self.place(index, slot)
                return True
        self.place(index, old)
        return False

    def insert_by_moving(self, index: int) -> bool:
        """Place an unplaced meeting by moving the one or two meetings in its way (and, if the slot has no
        table left, one meeting at a shared table) to other slots — a short augmenting move."""
        m = self.instance.meetings[index]
        for slot in self.prepared.allowed[index]:
            moved: list[tuple[int, int]] = []
            blockers = {self.occupant.get((m.a, slot)), self.occupant.get((m.b, slot))} - {None}
            ok = True
            for blocker in blockers:
                assert blocker is not None
                before = self.slot_of[blocker]
                if self._relocate(blocker, avoid=slot):
                    moved.append((blocker, before))
                else:
                    ok = False
                    break
            if ok and self.prepared.shared[index] and self.tables_left[slot] <= 0:
                ok = False
                for other in sorted(self.shared_in[slot]):
                    if self._relocate(other, avoid=slot):
                        moved.append((other, slot))
                        ok = True
                        break
            if ok and self.fits(index, slot):
                self.place(index, slot)
                return True
            for blocker, before in reversed(moved):  # undo
                self.remove(blocker)
                self.place(blocker, before)
        return False


def _added_breaks(instance: Instance, busy: set[int], slot: int) -> float:
    """How many breaks a meeting in `slot` adds to a participant busy in `busy` (fractional: prefers contact)."""
    day = instance.slots[slot].day
    same_day = [s for s in busy if instance.slots[s].day == day]
    if not same_day:
        return 0.0
    before = [s for s in same_day if s < slot]
    after = [s for s in same_day if s > slot]
    if before and after:  # filling a gap: removes a break if it closes it, splits one otherwise
        gap_closed = (slot - 1 in busy) and (slot + 1 in busy)
        touches = (slot - 1 in busy) or (slot + 1 in busy)
        return -1.0 if gap_closed else (0.0 if touches else 1.0)
    adjacent = (slot - 1 in busy) if before else (slot + 1 in busy)
    return 0.0 if adjacent else 1.0 + 0.01 * (slot - max(before) if before else min(after) - slot)


# --------------------------------------------------------------------------- solve


LARGE_INSTANCE = 1000  # meetings; above, the breaks stage improves the best schedule instead of racing a proof
MAXSAT_MEETINGS = 40  # placed meetings; from here on, RC2 in its own process proves the fewest breaks


@dataclass
class _Model:
    model: cp_model.CpModel
    x: dict[tuple[int, int], cp_model.IntVar]  # (meeting index, slot) → placed there
    placed: list[cp_model.LinearExprT]
    priority: cp_model.LinearExprT


def _placement_model(prepared: _Prepared) -> _Model:
    instance = prepared.instance
    model = cp_model.CpModel()
    x: dict[tuple[int, int], cp_model.IntVar] = {}
    placed: list[cp_model.LinearExprT] = []
    by_participant_slot: dict[tuple[Hashable, int], list[cp_model.IntVar]] = defaultdict(list)
    shared_by_slot: dict[int, list[cp_model.IntVar]] = defaultdict(list)
    for index, meeting in enumerate(instance.meetings):
        literals = []
        for slot in prepared.allowed[index]:
            var = model.new_bool_var(f"x{index}_{slot}")
            x[index, slot] = var
            literals.append(var)
            by_participant_slot[meeting.a, slot].append(var)
            by_participant_slot[meeting.b, slot].append(var)
            if prepared.shared[index]:
                shared_by_slot[slot].append(var)
        if meeting.locked_slot is not None:
            model.add(sum(literals) == 1)
        elif literals:
            model.add_at_most_one(literals)
        placed.append(sum(literals) if literals else 0)
    for literals in by_participant_slot.values():
        if len(literals) > 1:
            model.add_at_most_one(literals)
    for slot, literals in shared_by_slot.items():
        if len(literals) > instance.slots[slot].tables:
            model.add(sum(literals) <= instance.slots[slot].tables)
    for pid, indices in prepared.meetings_of.items():
        if len(indices) > prepared.capacity[pid]:
            model.add(sum(placed[i] for i in indices) <= prepared.capacity[pid])
    priority = sum(m.priority * placed[i] for i, m in enumerate(instance.meetings))
    return _Model(model, x, placed, priority)


def _add_breaks(
    prepared: _Prepared, built: _Model
) -> tuple[cp_model.LinearExprT, dict[Hashable, cp_model.LinearExprT]]:
    """Breaks per participant as a sum of Booleans, the paper's encoding: per slot, `busy`, `had` (a
    meeting at or before this slot, same day) and `break_end` (busy now, idle just before, had one
    earlier). A sum of positive Booleans suits CP-SAT's core-based lower bounding."""
    instance, model, x = prepared.instance, built.model, built.x
    exact = instance.fairness is not None
    slots_by_day: dict[int, list[int]] = defaultdict(list)
    for s, slot in enumerate(instance.slots):
        slots_by_day[slot.day].append(s)
    per_participant: dict[Hashable, cp_model.LinearExprT] = {}
    total: list[cp_model.IntVar] = []
    for pid, indices in prepared.meetings_of.items():
        ends: list[cp_model.IntVar] = []
        for day_slots in slots_by_day.values():
            busy = {s: [x[i, s] for i in indices if (i, s) in x] for s in day_slots}
            possible = [s for s in day_slots if busy[s]]
            if len(possible) < 2:
                continue  # at most one meeting that day: never a break
            had_before: cp_model.IntVar | None = None  # a meeting in an earlier slot of the day
            for s in day_slots[day_slots.index(possible[0]) :]:
                current = sum(busy[s]) if busy[s] else 0
                previous_busy = sum(busy[s - 1]) if s - 1 in busy and busy[s - 1] else 0
                if busy[s] and had_before is not None:
                    end = model.new_bool_var(f"end{pid}_{s}")
                    # a break ends here iff busy now, idle in the previous slot and busy earlier
                    model.add(end >= current - previous_busy + had_before - 1)
                    if exact:
                        model.add(end <= current)
                        model.add(end <= had_before)
                        model.add(end <= 1 - previous_busy)
                    ends.append(end)
                if s == possible[-1]:
                    break
                had = model.new_bool_var(f"had{pid}_{s}")
                model.add(had >= current)
                if had_before is not None:
                    model.add(had >= had_before)
                    model.add(had <= had_before + current)
                else:
                    model.add(had <= current)
                had_before = had
        per_participant[pid] = sum(ends) if ends else 0
        total.extend(ends)
    return sum(total), per_participant


@dataclass
class _RaceOutcome:
    solution: dict[int, int] | None
    bound: int
    infeasible: bool
    objective: float = math.inf


def _race(
    built: _Model,
    seconds: float,
    budget: _Budget,
    local: _BreakSearch | None = None,
    maxsat: BreaksMaxSat | None = None,
) -> _RaceOutcome:
    """Minimise the model's objective with solvers side by side: a prover that raises the lower bound
    by refuting cheaper schedules — RC2 on the MaxSAT encoding when given, else CP-SAT's core-guided
    search on one worker —, a CP-SAT portfolio searcher when cores are left, and — when given — a local
    search on this thread. Whichever proves optimality stops the others; so does any schedule reaching
    the prover's bound. The CP-SAT solvers get no hint: a greedy start steers their breaks search into
    poor regions."""
    if budget.deterministic:
        return _race_in_turn(built, seconds, budget)
    # the prover and the local search take a thread each; the portfolio gets what is left (maybe nothing)
    searcher_workers = budget.workers - 1 - (1 if local is not None else 0)
    prover = _solver(seconds, budget, 1)
    prover.parameters.optimize_with_core = True
    searcher = _solver(seconds, budget, max(1, searcher_workers))
    lock = threading.Lock()
    state = {"bound": 0.0, "best": float("inf")}
    stop = threading.Event()

    def stop_all() -> None:
        stop.set()
        prover.stop_search()
        searcher.stop_search()

    def on_better(value: float) -> None:
        with lock:
            state["best"] = min(state["best"], value)
            if state["best"] <= state["bound"]:
                stop_all()

    def on_bound(bound: float) -> None:
        with lock:
            state["bound"] = max(state["bound"], bound)
            if state["best"] <= state["bound"]:
                stop_all()

    class OnSolution(cp_model.CpSolverSolutionCallback):
        def on_solution_callback(self) -> None:
            on_better(self.objective_value)

    prover.best_bound_callback = on_bound
    statuses: dict[str, Any] = {"prover": cp_model.UNKNOWN, "searcher": cp_model.UNKNOWN}
    proven: list[_RaceOutcome] = []

    def run(name: str, solver: cp_model.CpSolver) -> None:
        statuses[name] = solver.solve(built.model, OnSolution())
        if statuses[name] in (cp_model.OPTIMAL, cp_model.INFEASIBLE):
            stop_all()

    def run_maxsat(maxsat: BreaksMaxSat) -> None:
        bound, solution = maxsat.run(seconds, stop, on_bound)
        if solution is not None:
            proven.append(_RaceOutcome(solution, bound, False, bound))
            on_better(bound)

    threads = [
        threading.Thread(target=run_maxsat, args=(maxsat,))
        if maxsat is not None
        else threading.Thread(target=run, args=("prover", prover))
    ]
    if searcher_workers > 0:
        threads.append(threading.Thread(target=run, args=("searcher", searcher)))
    for thread in threads:
        thread.start()
    local_result = local.run(seconds, stop, on_better) if local is not None else None
    for thread in threads:
        thread.join()
    if cp_model.INFEASIBLE in statuses.values():
        return _RaceOutcome(None, 0, True)
    solvers = [solver for name, solver in (("prover", prover), ("searcher", searcher)) if _status_ok(statuses[name])]
    bound = max((math.ceil(solver.best_objective_bound - 1e-6) for solver in solvers), default=0)
    bound = max(bound, math.ceil(state["bound"] - 1e-6))  # a stopped prover may have found no schedule
    outcomes = [_RaceOutcome(_read(built, solver), bound, False, solver.objective_value) for solver in solvers]
    outcomes += [_RaceOutcome(o.solution, bound, False, o.objective) for o in proven]
    if local_result is not None:
        outcomes.append(_RaceOutcome(local_result[1], bound, False, local_result[0]))
    if not outcomes:
        return _RaceOutcome(None, bound, False)
    return min(outcomes, key=lambda o: o.objective)


class _BreakSearch:
    """Local search on complete schedules for fewer breaks: Kempe-chain interchanges — swap two slots for
    a chain of meetings linked by shared participants, which never double-books anyone — accepted by
    simulated annealing. Pure Python; it runs on the main thread while CP-SAT searches in its own."""

    def __init__(self, prepared: _Prepared, start: dict[int, int], seed: int):
        self.prepared = prepared
        self.instance = prepared.instance
        self.slot_of = dict(start)
        self.occupant = {}
        self.shared_count = [0] * len(self.instance.slots)
        for index, slot in self.slot_of.items():
            meeting = self.instance.meetings[index]
            self.occupant[meeting.a, slot] = index
            self.occupant[meeting.b, slot] = index
            if prepared.shared[index]:
                self.shared_count[slot] += 1
        self.busy: dict[Hashable, set[int]] = defaultdict(set)
        for participant, slot in self.occupant:
            self.busy[participant].add(slot)
        self.breaks = {p: self._breaks(p) for p in self.busy}
        self.total = sum(self.breaks.values())
        self.movable = [i for i in self.slot_of if self.instance.meetings[i].locked_slot is None]
        self.allowed = [set(slots) for slots in prepared.allowed]
        self.random = random.Random(seed)  # noqa: S311  (search moves, not security)

    def _breaks(self, participant: Hashable) -> int:
        slots = sorted(self.busy[participant])
        days = self.instance.slots
        return sum(1 for a, b in itertools.pairwise(slots) if b > a + 1 and days[a].day == days[b].day)

    def _chain(self, index: int, target: int) -> list[int] | None:
        """Meetings to swap between `index`'s slot and `target` so that nobody is double-booked."""
        source = self.slot_of[index]
        chain, queue, seen = [], [index], {index}
        while queue:
            current = queue.pop()
            here = self.slot_of[current]
            there = target if here == source else source
            if self.instance.meetings[current].locked_slot is not None or there not in self.allowed[current]:
                return None
            chain.append(current)
            if len(chain) > 16:
                return None
            meeting = self.instance.meetings[current]
            for participant in (meeting.a, meeting.b):
                other = self.occupant.get((participant, there))
                if other is not None and other not in seen:
                    seen.add(other)
                    queue.append(other)
        return chain

    def _swap(self, chain: list[int], source: int, target: int) -> None:
        for index in chain:
            meeting = self.instance.meetings[index]
            for participant in (meeting.a, meeting.b):
                if self.occupant.get((participant, self.slot_of[index])) == index:
                    del self.occupant[participant, self.slot_of[index]]
                self.busy[participant].discard(self.slot_of[index])
        for index in chain:
            old = self.slot_of[index]
            new = target if old == source else source
            self.slot_of[index] = new
            if self.prepared.shared[index]:
                self.shared_count[old] -= 1
                self.shared_count[new] += 1
        for index in chain:
            meeting = self.instance.meetings[index]
            for participant in (meeting.a, meeting.b):
                self.occupant[participant, self.slot_of[index]] = index
                self.busy[participant].add(self.slot_of[index])

    def step(self, temperature: float) -> bool:
        """One attempted move; True when the total changed."""
        if not self.movable:
            return False
        index = self.random.choice(self.movable)
        source = self.slot_of[index]
        options = self.prepared.allowed[index]
        target = options[self.random.randrange(len(options))]
        if target == source:
            return False
        chain = self._chain(index, target)
        if chain is None:
            return False
        self._swap(chain, source, target)
        if (
            self.shared_count[source] > self.instance.slots[source].tables
            or self.shared_count[target] > self.instance.slots[target].tables
        ):
            self._swap(chain, source, target)
            return False
        touched = {p for i in chain for p in (self.instance.meetings[i].a, self.instance.meetings[i].b)}
        before = sum(self.breaks[p] for p in touched)
        after_each = {p: self._breaks(p) for p in touched}
        delta = sum(after_each.values()) - before
        if delta <= 0 or self.random.random() < math.exp(-delta / temperature):
            self.breaks.update(after_each)
            self.total += delta
            return delta != 0
        self._swap(chain, source, target)
        return False

    def run(self, seconds: float, stop: threading.Event, on_better: Any) -> tuple[int, dict[int, int]]:
        """Anneal until `seconds` pass or `stop` is set; report each new best through `on_better`."""
        best, best_slots = self.total, dict(self.slot_of)
        started = time.monotonic()
        temperature, steps = 1.0, 0
        while not stop.is_set() and best > 0:
            steps += 1
            if steps % 256 == 0:
                elapsed = time.monotonic() - started
                if elapsed >= seconds:
                    break
                temperature = max(0.05, 1.0 - elapsed / seconds)
            self.step(temperature)
            if self.total < best:
                best, best_slots = self.total, dict(self.slot_of)
                on_better(best)
        return best, best_slots


def _race_in_turn(built: _Model, seconds: float, budget: _Budget) -> _RaceOutcome:
    """The deterministic variant of the race: the prover, then (unless it proved optimality) the searcher."""
    prover = _solver(seconds / 2, budget, 1)
    prover.parameters.optimize_with_core = True
    status = prover.solve(built.model)
    if status == cp_model.INFEASIBLE:
        return _RaceOutcome(None, 0, True)
    bound = math.ceil(prover.best_objective_bound - 1e-6) if _status_ok(status) else 0
    proved = _RaceOutcome(_read(built, prover), bound, False, prover.objective_value) if _status_ok(status) else None
    if proved is not None and status == cp_model.OPTIMAL:
        return proved
    searched = _improve(built, seconds / 2, budget)
    best = min(
        (o for o in (proved, searched) if o is not None and o.solution is not None),
        key=lambda o: o.objective,
        default=None,
    )
    return _RaceOutcome(
        best.solution if best else None, max(bound, searched.bound), False, best.objective if best else math.inf
    )


def _improve(built: _Model, seconds: float, budget: _Budget) -> _RaceOutcome:
    solver = _solver(seconds, budget)
    status = solver.solve(built.model)
    if not _status_ok(status):
        return _RaceOutcome(None, 0, status == cp_model.INFEASIBLE)
    return _RaceOutcome(
        _read(built, solver), math.ceil(solver.best_objective_bound - 1e-6), False, solver.objective_value
    )


def _status_ok(status: Any) -> bool:
    return status in (cp_model.OPTIMAL, cp_model.FEASIBLE)


@dataclass(frozen=True)
class _Budget:
    seed: int
    workers: int
    deterministic: bool


def _solver(seconds: float, budget: _Budget, workers: int | None = None) -> cp_model.CpSolver:
    """A CP-SAT solver. Deterministic runs count CP-SAT's deterministic time instead of wall time and
    interleave their workers, so the same seed gives the same schedule on any machine load."""
    solver = cp_model.CpSolver()
    solver.parameters.random_seed = budget.seed
    solver.parameters.num_workers = workers if workers is not None else budget.workers
    if budget.deterministic:
        solver.parameters.max_deterministic_time = max(seconds, 0.05)
        solver.parameters.interleave_search = solver.parameters.num_workers > 1
    else:
        solver.parameters.max_time_in_seconds = max(seconds, 0.05)
    return solver


def _clear_hints(model: cp_model.CpModel) -> None:
    model.clear_hints()  # type: ignore[no-untyped-call]  # untyped in ortools' stubs


def _hint(built: _Model, slot_of_index: dict[int, int]) -> None:
    _clear_hints(built.model)
    for (index, slot), var in built.x.items():
        built.model.add_hint(var, slot_of_index.get(index) == slot)


def _read(built: _Model, solver: cp_model.CpSolver) -> dict[int, int]:
    return {index: slot for (index, slot), var in built.x.items() if solver.boolean_value(var)}


def priority_bound(instance: Instance, *, seconds: float = 5.0, seed: int = 0, workers: int = 2) -> tuple[int, bool]:
    """An upper bound on the placed priority: caps and free slots per participant and the shared-table
    budget, with no timetable. Returns (bound, whether that relaxation was solved to optimality)."""
    return _priority_bound(_prepare(instance), seconds, _Budget(seed, workers, deterministic=False))


def _priority_bound(prepared: _Prepared, seconds: float, budget: _Budget) -> tuple[int, bool]:
    instance = prepared.instance
    model = cp_model.CpModel()
    y = {i: model.new_bool_var(f"y{i}") for i in range(len(instance.meetings)) if prepared.allowed[i]}
    for i, meeting in enumerate(instance.meetings):
        if meeting.locked_slot is not None and i in y:
            model.add(y[i] == 1)
    for pid, indices in prepared.meetings_of.items():
        literals = [y[i] for i in indices if i in y]
        if len(literals) > prepared.capacity[pid]:
            model.add(sum(literals) <= prepared.capacity[pid])
        # per session: not more meetings restricted to a session than the participant's free slots in it
        by_session: dict[int, list[cp_model.IntVar]] = defaultdict(list)
        for i in indices:
            session = instance.meetings[i].session
            if i in y and session is not None:
                by_session[session].append(y[i])
        for session, in_session in by_session.items():
            free = sum(
                1
                for s, slot in enumerate(instance.slots)
                if slot.session == session and s not in prepared.participants[pid].forbidden
            )
            if len(in_session) > free:
                model.add(sum(in_session) <= free)
    shared = [var for i, var in y.items() if prepared.shared[i]]
    table_slots = sum(slot.tables for slot in instance.slots)
    if len(shared) > table_slots:
        model.add(sum(shared) <= table_slots)
    model.maximize(sum(instance.meetings[i].priority * var for i, var in y.items()))
    solver = _solver(seconds, budget)
    status = solver.solve(model)
    if not _status_ok(status):
        return sum(instance.meetings[i].priority for i in y), False
    return round(solver.best_objective_bound), status == cp_model.OPTIMAL


def solve(
    instance: Instance,
    *,
    time_limit: float = 30.0,
    seed: int = 0,
    workers: int | None = None,
    deterministic: bool = False,
) -> Schedule:
    """Schedule the instance: lexicographically maximise placed priority, minimise moves (when
    re-scheduling), minimise breaks. Each stage gets a share of `time_limit` seconds; `deterministic`
    counts CP-SAT's deterministic time instead, so a seed always gives the same schedule."""
    started = time.monotonic()
    deadline = started + time_limit
    prepared = _prepare(instance)
    meetings = instance.meetings
    # one worker per core: on two cores, the breaks stage is the prover and the local search
    budget = _Budget(seed, workers or max(2, os.cpu_count() or 2), deterministic)
    spent = 0.0

    def remaining(share: float) -> float:
        nonlocal spent
        if deterministic:  # fixed shares of the limit, whatever the clock says
            seconds = (time_limit - spent) * share
            spent += seconds
            return max(0.05, seconds)
        # keep a margin for building models and reading solutions
        return max(0.05, (deadline - time.monotonic() - 0.08 * time_limit) * share)

    # 1. bound and a first complete solution
    bound, bound_optimal = _priority_bound(prepared, remaining(0.15), budget)
    index_of = {m.id: i for i, m in enumerate(meetings)}
    candidates = [_greedy(prepared, first_fit=False)]
    if instance.previous:
        candidates.append(_previous_kept(prepared, instance.previous))
    best = {index_of[mid]: slot for mid, slot in max(candidates, key=lambda c: _value(prepared, c)).items()}
    value = _value_by_index(prepared, best)

    # 2. placed priority
    built = _placement_model(prepared)
    priority_optimal = value >= bound and bound_optimal
    if value < bound:
        _hint(built, best)
        built.model.maximize(built.priority)
        solver = _solver(remaining(0.4), budget)
        status = solver.solve(built.model)
        if _status_ok(status):
            found = _read(built, solver)
            if _value_by_index(prepared, found) >= value:
                best, value = found, _value_by_index(prepared, found)
            bound = min(bound, round(solver.best_objective_bound))
            priority_optimal = status == cp_model.OPTIMAL or value >= bound
    if priority_optimal:
        bound = value
    large = len(meetings) > LARGE_INSTANCE
    fixed_set = large or len(best) == sum(1 for slots in prepared.allowed if slots)
    if fixed_set:
        # Fix the placed set: exact when everything placeable is placed, and on large instances the price
        # of a model small enough to improve in time. Per-meeting constraints propagate far better than a sum.
        for i, slots in enumerate(prepared.allowed):
            if slots:
                built.model.add(built.placed[i] == (1 if i in best else 0))
    else:
        built.model.add(built.priority >= value)

    # 3. moves, when re-scheduling
    moved_objective: Objective | None = None
    if instance.previous:
        moved_expr = sum(
            1 - built.x[index_of[mid], slot] if (index_of.get(mid), slot) in built.x else 1
            for mid, slot in instance.previous.items()
            if mid in index_of
        )
        moved_value = _moved(prepared, best, index_of)
        _hint(built, best)
        built.model.minimize(moved_expr)
        solver = _solver(remaining(0.3), budget)
        status = solver.solve(built.model)
        moved_bound = 0
        if _status_ok(status):
            found = _read(built, solver)
            if _moved(prepared, found, index_of) <= moved_value:
                best, moved_value = found, _moved(prepared, found, index_of)
            moved_bound = round(solver.best_objective_bound)
        moved_objective = Objective(moved_value, min(moved_bound, moved_value), moved_bound >= moved_value)
        built.model.add(moved_expr <= moved_value)

    # 4. breaks
    breaks_expr, per_participant = _add_breaks(prepared, built)
    slot_of = {meetings[i].id: s for i, s in best.items()}
    breaks_value = sum(count_breaks(instance, slot_of).values())
    fairness_met = instance.fairness is None or _spread(instance, prepared, count_breaks(instance, slot_of)) <= (
        instance.fairness
    )
    breaks_bound = 0
    fairness_constraint = None
    if instance.fairness is not None:
        counted = [per_participant.get(p.id, 0) for p in instance.participants if prepared.meetings_of.get(p.id)]
        if counted:
            high = built.model.new_int_var(0, len(instance.slots), "max_breaks")
            low = built.model.new_int_var(0, len(instance.slots), "min_breaks")
            built.model.add_max_equality(high, counted)
            built.model.add_min_equality(low, counted)
            fairness_constraint = built.model.add(high - low <= instance.fairness)
    _clear_hints(built.model)
    built.model.minimize(breaks_expr)

    def minimise_breaks() -> _RaceOutcome:
        # the local search moves meetings within a fixed set and knows nothing of fairness
        local = (
            _BreakSearch(prepared, best, seed)
            if fixed_set and instance.fairness is None and not deterministic
            else None
        )
        if large:  # no proof in reach: improve the best schedule by local search, else CP-SAT's LNS from it
            if local is not None:
                value, found = local.run(remaining(1.0), threading.Event(), lambda _value: None)
                return _RaceOutcome(found, 0, False, value)
            _hint(built, best)
            return _improve(built, remaining(1.0), budget)
        # the MaxSAT prover knows nothing of fairness either and needs the placed set fixed; on small
        # instances CP-SAT proves the optimum before a process could start
        maxsat = (
            BreaksMaxSat(
                prepared,
                set(best),
                previous={index_of[mid]: slot for mid, slot in instance.previous.items() if mid in index_of},
                moved_at_most=moved_objective.value if moved_objective is not None else None,
            )
            if local is not None and len(best) >= MAXSAT_MEETINGS
            else None
        )
        return _race(built, remaining(0.5 if fairness_constraint is not None else 1.0), budget, local, maxsat)

    outcome = minimise_breaks()
    if outcome.infeasible and fairness_constraint is not None:
        # the bound cannot hold with this many meetings placed: say so, and give the fewest breaks without it
        fairness_met = False
        fairness_constraint.proto.clear_linear()
        outcome = minimise_breaks()
    if outcome.solution is not None:
        found_slot_of = {meetings[i].id: s for i, s in outcome.solution.items()}
        found_breaks = sum(count_breaks(instance, found_slot_of).values())
        fair = instance.fairness is None or _spread(instance, prepared, count_breaks(instance, found_slot_of)) <= (
            instance.fairness
        )
        if found_breaks <= breaks_value or (fair and not fairness_met):
            best, slot_of, breaks_value = outcome.solution, found_slot_of, found_breaks
            fairness_met = fair
    breaks_bound = outcome.bound
    breaks_optimal = breaks_value <= breaks_bound

    placements, table_changes = assign_tables(instance, slot_of)
    breaks = count_breaks(instance, slot_of)
    return Schedule(
        placements=placements,
        unplaced=_unplaced_reasons(prepared, slot_of),
        priority=Objective(value, max(bound, value), priority_optimal),
        breaks=Objective(breaks_value, min(breaks_bound, breaks_value), breaks_optimal),
        moved=moved_objective,
        breaks_per_participant=breaks,
        fairness_met=fairness_met,
        table_changes=table_changes,
        seconds=time.monotonic() - started,
    )


def _value(prepared: _Prepared, slot_of: dict[Hashable, int]) -> int:
    return sum(m.priority for m in prepared.meetings if m.id in slot_of)


def _value_by_index(prepared: _Prepared, slot_of_index: dict[int, int]) -> int:
    return sum(prepared.meetings[i].priority for i in slot_of_index)


def _moved(prepared: _Prepared, slot_of_index: dict[int, int], index_of: dict[Hashable, int]) -> int:
    previous = prepared.instance.previous
    return sum(1 for mid, slot in previous.items() if mid in index_of and slot_of_index.get(index_of[mid]) != slot)


def _previous_kept(prepared: _Prepared, previous: dict[Hashable, int]) -> dict[Hashable, int]:
    """The last schedule, minus what no longer fits, completed greedily: a start that moves little."""
    instance = prepared.instance
    kept_meetings = []
    for index, meeting in enumerate(instance.meetings):
        slot = previous.get(meeting.id)
        if meeting.locked_slot is None and slot is not None and slot in prepared.allowed[index]:
            meeting = Meeting(
                meeting.id, meeting.a, meeting.b, meeting.priority, meeting.session, slot, meeting.locked_table
            )
        kept_meetings.append(meeting)
    trial = Instance(instance.slots, instance.participants, kept_meetings, instance.fairness)
    try:
        kept_prepared = _prepare(trial)
    except SchedulingError:
        return {}
    if check_schedule(trial, {m.id: m.locked_slot for m in kept_meetings if m.locked_slot is not None}):
        return {}
    return _greedy(kept_prepared, first_fit=False)


def _unplaced_reasons(prepared: _Prepared, slot_of: dict[Hashable, int]) -> dict[Hashable, UnplacedReason]:
    instance = prepared.instance
    busy: dict[Hashable, set[int]] = defaultdict(set)
    count: dict[Hashable, int] = defaultdict(int)
    shared_used: dict[int, int] = defaultdict(int)
    for index, meeting in enumerate(instance.meetings):
        slot = slot_of.get(meeting.id)
        if slot is None:
            continue
        for pid in (meeting.a, meeting.b):
            busy[pid].add(slot)
            count[pid] += 1
        if prepared.shared[index]:
            shared_used[slot] += 1
    reasons = {}
    for index, meeting in enumerate(instance.meetings):
        if meeting.id in slot_of:
            continue
        if any(count[pid] >= prepared.capacity[pid] for pid in (meeting.a, meeting.b)):
            reasons[meeting.id] = UnplacedReason.cap_reached
            continue
        common = [s for s in prepared.allowed[index] if s not in busy[meeting.a] and s not in busy[meeting.b]]
        reasons[meeting.id] = UnplacedReason.no_table if common else UnplacedReason.no_common_slot
    return reasons


# --------------------------------------------------------------------------- tables


def assign_tables(instance: Instance, slot_of: dict[Hashable, int]) -> tuple[list[Placement], int]:
    """Tables after slots: a booth host's meetings are at its booth; locked tables stay; others keep the
    table one of them had in its previous meeting where it is free. Returns placements and table changes."""
    participants = {p.id: p for p in instance.participants}
    by_slot: dict[int, list[Meeting]] = defaultdict(list)
    for meeting in instance.meetings:
        if meeting.id in slot_of:
            by_slot[slot_of[meeting.id]].append(meeting)
    last_table: dict[Hashable, int] = {}
    placements: list[Placement] = []
    changes = 0
    for slot in sorted(by_slot):
        free = set(range(1, instance.slots[slot].tables + 1))
        pending = []
        for meeting in sorted(by_slot[slot], key=lambda m: str(m.id)):
            booth = participants[meeting.a].booth or participants[meeting.b].booth
            if booth is not None:
                placements.append(Placement(meeting.id, slot, None, booth))
            elif meeting.locked_table is not None and meeting.locked_table in free:
                free.discard(meeting.locked_table)
                placements.append(Placement(meeting.id, slot, meeting.locked_table, None))
                changes += _note_table(last_table, meeting, meeting.locked_table)
            else:
                pending.append(meeting)
        # meetings whose participants had a table before go first, to keep it
        pending.sort(key=lambda m: (m.a not in last_table and m.b not in last_table, str(m.id)))
        for meeting in pending:
            preferred = [last_table[p] for p in (meeting.a, meeting.b) if p in last_table and last_table[p] in free]
            table = preferred[0] if preferred else min(free) if free else None
            if table is None:  # the slot is over capacity: only possible for an invalid schedule
                raise SchedulingError(f"slot {slot} has more meetings than tables")
            free.discard(table)
            placements.append(Placement(meeting.id, slot, table, None))
            changes += _note_table(last_table, meeting, table)
    return placements, changes


def _note_table(last_table: dict[Hashable, int], meeting: Meeting, table: int) -> int:
    changes = 0
    for pid in (meeting.a, meeting.b):
        if pid in last_table and last_table[pid] != table:
            changes += 1
        last_table[pid] = table
    return changes


def participants_of(meetings: Iterable[Meeting]) -> set[Hashable]:
    return {pid for m in meetings for pid in (m.a, m.b)}
