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
participant's other meetings → CP-SAT for each objective in turn (each fixed
before the next), warm-started from the best complete solution so far (for
the placed priority only on large events: below, its own search proves more) →
breaks: a schedule without breaks is taken at once (it is fair); else a
Kempe-chain local search, then RC2 (`maxsat.py`, from 40 placed meetings)
beside CP-SAT, both warm-started from the best schedule so far → tables
after slots: booth hosts stay at their booth, others keep their table from
one meeting to the next where they can. Breaks are counted as "runs of
meetings − 1" per participant and day: a run starts at a busy slot whose
predecessor is idle, which keeps the encoding small (one Boolean per
participant and slot) and its linear relaxation useful, in the spirit of
the paper's busy / break-end variables and implied constraints.

Fairness — max − min breaks over the participants with a placed meeting
≤ d — is a hard constraint in every breaks step: the local search pays a
penalty for each unit of spread over d and keeps the best fair schedule;
CP-SAT and the MaxSAT encoding carry it as constraints (m ≤ breaks ≤ m + d).
On large events (no proof there) the local search also makes moves that
bring a shared-table meeting back when a move overfills a slot's tables, and
if participants are still over the bound, the cheapest runs of their
meetings are left out (priority comes first, but an unfair schedule is no
schedule) and whatever then fits within the bound is put back.
The returned schedule never breaks a hard rule silently: when no fair
schedule is found, `Schedule.fairness_met` is False and the schedule is the
fewest-breaks draft (`fairness_impossible` says when that is proven).

Reproducible by default: the time limit is turned into amounts of work —
CP-SAT's deterministic time (workers interleaved), a number of local-search
moves (its own seeded random generator), a number of SAT propagations for RC2
— and solvers that run side by side never stop each other in a way that
changes the answer (RC2's optimum wins when it comes; CP-SAT is stopped
then). So the same instance and seed give the same schedule. The wall
clock stays a safety net: on a machine too loaded to do that work within
the limit, the run stops at the limit and may then differ, and a proof that
needed more time is simply missing. `deterministic=False` races on the
clock instead (stops as soon as a schedule meets a proven bound).
"""

from __future__ import annotations

import itertools
import math
import os
import random
import threading
import time
from collections import defaultdict
from collections.abc import Collection, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from app.lazy import lazy_import
from app.scheduling.maxsat import BreaksMaxSat, Proof

if TYPE_CHECKING:
    from ortools.sat.python import cp_model
else:
    # loaded on first use: it imports pandas, a second of start-up that every process (the API, each
    # `techex` command) would otherwise pay before it schedules anything
    cp_model = lazy_import("ortools.sat.python.cp_model")

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
    fairness = "fairness"  # left out to keep the breaks within the fairness bound (large events)


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
    # True when the fairness bound holds (or none was asked for). False: no fair schedule was found, and
    # this schedule is only a draft with the fewest breaks found — it breaks the bound (see `spread`).
    fairness_met: bool
    table_changes: int
    seconds: float
    spread: int = 0  # max − min breaks over the participants with a placed meeting
    fairness_impossible: bool = False  # proven: no schedule of these placed meetings meets the bound

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
    if instance.fairness is not None:
        spread = breaks_spread(instance, slot_of)
        if spread > instance.fairness:
            problems.append(f"breaks spread {spread} exceeds the fairness bound {instance.fairness}")
    return problems


def breaks_spread(instance: Instance, slot_of: dict[Hashable, int]) -> int:
    """Max − min breaks over the participants with at least one placed meeting (what fairness bounds)."""
    breaks = count_breaks(instance, slot_of)
    present = participants_of(m for m in instance.meetings if m.id in slot_of)
    counted = [breaks[p.id] for p in instance.participants if p.id in present]
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
FAIRNESS_WEIGHT = 3  # local search: a break over the fairness bound costs as much as three breaks
LOCAL_SHARE = 0.1  # of the breaks stage's budget, before the proof (all of it above LARGE_INSTANCE)
BALANCE_TRIES = 4  # large instances: shared meetings tried to move back when a move overfills a slot's tables
STALE_STEPS = 50  # per movable meeting: the length of one round of cooling in the local search
# Work per second of the time limit in deterministic runs, from CPU time measured on event-size instances
# (local search ~19,000–21,000 moves per CPU second; RC2 with CaDiCaL 2.5–4.6 million propagations on
# real-shaped events; CP-SAT 0.1–0.5 units of deterministic time, one worker the slowest), at the low end.
STEPS_PER_SECOND = 15_000  # local-search moves
PROPAGATIONS_PER_SECOND = 2_000_000  # RC2's SAT propagations
DETERMINISTIC_PER_SECOND = 0.1  # CP-SAT's deterministic time


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
class _CpResult:
    status: Any
    solution: dict[int, int] | None
    bound: int


def _add_fairness(
    prepared: _Prepared,
    built: _Model,
    per_participant: dict[Hashable, cp_model.LinearExprT],
    placed: set[int] | None,
) -> cp_model.Constraint:
    """low ≤ breaks ≤ high for every participant with a placed meeting and high − low ≤ d, all enforced by
    one literal; returns the constraint that switches it on (cleared when the bound is proven impossible).
    With `placed` fixed, who has a meeting is known; otherwise a Boolean per participant says it."""
    instance, model = prepared.instance, built.model
    assert instance.fairness is not None
    on = model.new_bool_var("fair")
    n_slots = len(instance.slots)
    high = model.new_int_var(0, n_slots, "max_breaks")
    low = model.new_int_var(0, n_slots, "min_breaks")
    for pid, indices in prepared.meetings_of.items():
        breaks = per_participant.get(pid, 0)
        model.add(high >= breaks).only_enforce_if(on)
        if placed is not None:
            if any(i in placed for i in indices):
                model.add(low <= breaks).only_enforce_if(on)
            continue
        present = model.new_bool_var(f"present{pid}")
        model.add(sum(built.placed[i] for i in indices) >= 1).only_enforce_if(present)
        model.add(sum(built.placed[i] for i in indices) == 0).only_enforce_if(present.Not())
        model.add(low <= breaks).only_enforce_if([on, present])
    model.add(high - low <= instance.fairness).only_enforce_if(on)
    return model.add(on == 1)


def _search_cp(built: _Model, units: float, budget: _Budget, workers: int | None = None) -> _CpResult:
    solver = _solver(units, budget, workers)
    status = solver.solve(built.model)
    budget.spent += solver.response_proto.deterministic_time / DETERMINISTIC_PER_SECOND
    if not _status_ok(status):
        return _CpResult(status, None, 0)
    return _CpResult(status, _read(built, solver), math.ceil(solver.best_objective_bound - 1e-6))


def _race(built: _Model, maxsat: BreaksMaxSat, units: float, budget: _Budget) -> tuple[Proof, _CpResult]:
    """RC2 (in its own process) beside CP-SAT (the other cores, warm-started from the model's hint). RC2's
    answer wins whenever it comes: it stops CP-SAT, and CP-SAT's schedule is kept only when RC2 found
    none. In a deterministic run nothing else stops early, so which solver finishes first never changes
    the schedule; otherwise a CP-SAT optimum (or a schedule at RC2's bound) also stops RC2."""
    solver = _solver(units, budget, max(1, budget.workers - 1))
    stop = threading.Event()
    lock = threading.Lock()
    state = {"bound": 0.0, "best": math.inf}
    result: dict[str, Any] = {"status": cp_model.UNKNOWN}

    def check() -> None:  # only in runs on the clock
        if not budget.deterministic and state["best"] <= state["bound"]:
            stop.set()
            solver.stop_search()

    def on_bound(bound: float) -> None:
        with lock:
            state["bound"] = max(state["bound"], bound)
            check()

    class OnSolution(cp_model.CpSolverSolutionCallback):
        def on_solution_callback(self) -> None:
            with lock:
                state["best"] = min(state["best"], self.objective_value)
                check()

    def run_cp() -> None:
        result["status"] = solver.solve(built.model, OnSolution())
        if result["status"] == cp_model.INFEASIBLE or (
            not budget.deterministic and result["status"] == cp_model.OPTIMAL
        ):
            stop.set()

    thread = threading.Thread(target=run_cp)
    thread.start()
    propagations = int(units * PROPAGATIONS_PER_SECOND) if budget.deterministic else None
    proof = maxsat.run(budget.wall_left(), stop, on_bound, propagations)
    if proof.solution is not None or proof.infeasible:
        solver.stop_search()
    thread.join()
    status = result["status"]
    if not _status_ok(status):
        return proof, _CpResult(status, None, 0)
    cp = _CpResult(status, _read(built, solver), math.ceil(solver.best_objective_bound - 1e-6))
    return proof, cp


class _BreakSearch:
    """Local search on complete schedules for fewer breaks within the fairness bound: Kempe-chain
    interchanges — swap two slots for a chain of meetings linked by shared participants, which never
    double-books anyone — accepted by simulated annealing on breaks + FAIRNESS_WEIGHT × excess (breaks
    over the bound, summed over participants),
    the best kept in that order (fair first, then fewest breaks). Bounded by a number of steps, so a
    seed gives the same schedule whatever the machine's load."""

    def __init__(self, prepared: _Prepared, start: dict[int, int], seed: int, *, balance: bool = False):
        self.prepared = prepared
        self.balance = balance
        self.instance = prepared.instance
        self.fairness = self.instance.fairness
        self.slot_of = dict(start)
        self.occupant = {}
        self.shared_count = [0] * len(self.instance.slots)
        self.shared_in: list[set[int]] = [set() for _ in self.instance.slots]
        for index, slot in sorted(self.slot_of.items()):
            meeting = self.instance.meetings[index]
            self.occupant[meeting.a, slot] = index
            self.occupant[meeting.b, slot] = index
            if prepared.shared[index]:
                self.shared_count[slot] += 1
                self.shared_in[slot].add(index)
        self.busy: dict[Hashable, set[int]] = defaultdict(set)
        for participant, slot in self.occupant:
            self.busy[participant].add(slot)
        self.breaks = {p: self._breaks(p) for p in self.busy}
        self.histogram: dict[int, int] = defaultdict(int)  # breaks → participants with that many
        for value in self.breaks.values():
            self.histogram[value] += 1
        self.total = sum(self.breaks.values())
        self.movable = sorted(i for i in self.slot_of if self.instance.meetings[i].locked_slot is None)
        self.allowed = [set(slots) for slots in prepared.allowed]
        self.random = random.Random(seed)  # noqa: S311  (search moves, not security)
        self.targets: list[int] = []
        self._refresh_targets()

    def excess(self) -> int:
        """Breaks over the fairness bound, summed over participants: each one's breaks above the fewest
        anyone has + d (0 exactly when the bound holds). A sum, not the spread alone, so that helping any
        of many participants at the maximum counts."""
        if self.fairness is None or not self.breaks:
            return 0
        ceiling = min(value for value, count in self.histogram.items() if count > 0) + self.fairness
        return sum(count * (value - ceiling) for value, count in self.histogram.items() if value > ceiling)

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
                self.shared_in[old].discard(index)
                self.shared_in[new].add(index)
        for index in chain:
            meeting = self.instance.meetings[index]
            for participant in (meeting.a, meeting.b):
                self.occupant[participant, self.slot_of[index]] = index
                self.busy[participant].add(self.slot_of[index])

    def _set_breaks(self, values: dict[Hashable, int]) -> None:
        for participant, value in values.items():
            self.histogram[self.breaks[participant]] -= 1
            self.histogram[value] += 1
            self.total += value - self.breaks[participant]
            self.breaks[participant] = value

    def _refresh_targets(self) -> None:
        """The movable meetings of the participants over the fairness bound, while any is."""
        self.targets = []
        if self.excess() > 0:
            assert self.fairness is not None
            ceiling = min(value for value, count in self.histogram.items() if count > 0) + self.fairness
            over = {p for p, value in self.breaks.items() if value > ceiling}
            self.targets = [
                i for i in self.movable if {self.instance.meetings[i].a, self.instance.meetings[i].b} & over
            ]

    def step(self, temperature: float) -> None:
        """One attempted move: half of them on the participants over the fairness bound, while any is."""
        if self.targets and self.random.random() < 0.5:
            index = self.targets[self.random.randrange(len(self.targets))]
        else:
            index = self.movable[self.random.randrange(len(self.movable))]
        source = self.slot_of[index]
        options = self.prepared.allowed[index]
        target = options[self.random.randrange(len(options))]
        if target == source:
            return
        chain = self._chain(index, target)
        if chain is None:
            return
        self._swap(chain, source, target)
        moves = [(chain, source, target)]
        if not self._tables_hold(source, target) and not (self.balance and self._balance(moves)):
            self._swap(chain, source, target)
            return
        touched = sorted(
            {p for c, _, _ in moves for i in c for p in (self.instance.meetings[i].a, self.instance.meetings[i].b)},
            key=str,
        )
        before_total, before_excess = self.total, self.excess()
        old = {p: self.breaks[p] for p in touched}
        self._set_breaks({p: self._breaks(p) for p in touched})
        delta = self.total - before_total + FAIRNESS_WEIGHT * (self.excess() - before_excess)
        if delta <= 0 or self.random.random() < math.exp(-delta / temperature):
            return
        self._set_breaks(old)
        for c, one, other in reversed(moves):
            self._swap(c, one, other)

    def _tables_hold(self, source: int, target: int) -> bool:
        slots = self.instance.slots
        return self.shared_count[source] <= slots[source].tables and self.shared_count[target] <= slots[target].tables

    def _balance(self, moves: list[tuple[list[int], int, int]]) -> bool:
        """The move just made overfills one slot's tables (every table taken, as on large events): move a
        chain of a shared meeting there back to the other slot, trying a few at random. Appends that chain
        to `moves` when the tables then hold."""
        chain, source, target = moves[0]
        full, other = (
            (target, source) if self.shared_count[target] > self.instance.slots[target].tables else (source, target)
        )
        candidates = sorted(self.shared_in[full] - set(chain))
        for _ in range(min(BALANCE_TRIES, len(candidates))):
            back = self._chain(candidates[self.random.randrange(len(candidates))], other)
            if back is None:
                continue
            self._swap(back, full, other)
            if self._tables_hold(source, target):
                moves.append((back, full, other))
                return True
            self._swap(back, full, other)
        return False

    def run(self, steps: int, deadline: float) -> tuple[tuple[int, int], dict[int, int], int]:
        """Anneal in rounds of cooling (hot to cold over STALE_STEPS moves per movable meeting, each round
        from the best schedule so far) for at most `steps` moves — or until the wall-clock `deadline`, a
        safety net only —, until no break is left or two rounds in a row found nothing better:
        ((excess, breaks) of the best schedule, that schedule, moves taken)."""
        best = (self.excess(), self.total)
        best_slots = dict(self.slot_of)
        if not self.movable:
            return best, best_slots, 0
        round_length = max(2_000, STALE_STEPS * len(self.movable))
        taken = fruitless = 0
        while taken < steps and best[1] > 0 and fruitless < 2:
            improved = False
            for step in range(min(round_length, steps - taken)):
                taken += 1
                if taken % 256 == 0:
                    if time.monotonic() >= deadline:
                        return best, best_slots, taken
                    self._refresh_targets()
                self.step(max(0.05, 1.0 - step / round_length))
                if self.total < best[1] or self.excess() < best[0]:
                    current = (self.excess(), self.total)
                    if current < best:
                        best, best_slots, improved = current, dict(self.slot_of), True
                        if best[1] == 0:
                            return best, best_slots, taken
            fruitless = 0 if improved else fruitless + 1
            self._restart(best_slots)
        return best, best_slots, taken

    def _restart(self, slot_of: dict[int, int]) -> None:
        """Continue from `slot_of` (moves are chains of swaps: undo them by reloading the state)."""
        fresh = _BreakSearch(self.prepared, slot_of, 0)
        for name in ("slot_of", "occupant", "shared_count", "shared_in", "busy", "breaks", "histogram", "total"):
            setattr(self, name, getattr(fresh, name))


def _drop_for_fairness(prepared: _Prepared, start: dict[int, int]) -> dict[int, int]:
    """Large instances, when the local search leaves participants over the fairness bound: one at a time,
    most breaks first, leave out a run of its meetings (back-to-back slots) whose removal takes a break off
    it — one that takes nobody else over the bound if there is one, the least valuable among those — until
    nobody is over; then put back, most valuable first, every left-out meeting that fits in a slot without
    taking anyone over the bound. Priority comes first, but a schedule over the bound is no schedule."""
    instance, meetings = prepared.instance, prepared.instance.meetings
    assert instance.fairness is not None
    slot_of = dict(start)
    days = instance.slots

    def busy(pid: Hashable) -> dict[int, int]:
        return {slot_of[i]: i for i in prepared.meetings_of.get(pid, ()) if i in slot_of}

    def breaks_of(slots: Iterable[int]) -> int:
        ordered = sorted(slots)
        return sum(1 for a, b in itertools.pairwise(ordered) if b > a + 1 and days[a].day == days[b].day)

    breaks = {pid: breaks_of(busy(pid)) for pid in prepared.participants}

    def ceiling() -> int:
        present = [breaks[pid] for pid in prepared.participants if busy(pid)]
        return (min(present) if present else 0) + instance.fairness  # type: ignore[operator]

    def within(change: dict[Hashable, set[int]], limit: int) -> dict[Hashable, int] | None:
        """New breaks of the participants whose busy slots would become `change`, if none goes over."""
        after = {pid: breaks_of(slots) for pid, slots in change.items()}
        return after if all(b <= max(limit, breaks[pid]) for pid, b in after.items()) else None

    limit = ceiling()
    stuck: set[Hashable] = set()  # over the bound, but every run of theirs is locked
    for _ in range(len(slot_of)):  # each round leaves out at least one meeting
        over = [pid for pid in prepared.participants if breaks[pid] > limit and pid not in stuck]
        if not over:
            break
        pid = min(over, key=lambda p: (-breaks[p], str(p)))
        mine = busy(pid)
        runs: list[list[int]] = []
        for slot in sorted(mine):
            if runs and runs[-1][-1] == slot - 1 and days[slot].day == days[slot - 1].day:
                runs[-1].append(slot)
            else:
                runs.append([slot])
        options = []
        for run in runs:
            indices = [mine[s] for s in run]
            if any(meetings[i].locked_slot is not None for i in indices):
                continue
            change: dict[Hashable, set[int]] = {pid: set(mine) - set(run)}
            for i in indices:
                other = meetings[i].b if meetings[i].a == pid else meetings[i].a
                change.setdefault(other, set(busy(other))).discard(slot_of[i])
            after = {q: breaks_of(slots) for q, slots in change.items()}
            if after[pid] >= breaks[pid]:
                continue
            # partners taken over the bound (a run out of the middle of theirs): only when nothing else will do
            pushed = sum(max(0, b - max(limit, breaks[q])) for q, b in after.items() if q != pid)
            options.append((pushed, sum(meetings[i].priority for i in indices), run[0], indices, after))
        if not options:
            stuck.add(pid)
            continue
        *_, indices, after = min(options, key=lambda o: o[:3])
        for i in indices:
            del slot_of[i]
        breaks.update(after)
    # put back what fits, within the bound
    count = {pid: len(busy(pid)) for pid in prepared.participants}
    shared_used = [0] * len(days)
    for i, slot in slot_of.items():
        if prepared.shared[i]:
            shared_used[slot] += 1
    limit = ceiling()
    left_out = [i for i, m in enumerate(meetings) if i not in slot_of and prepared.allowed[i] and m.locked_slot is None]
    for i in sorted(left_out, key=lambda i: (-meetings[i].priority, i)):
        m = meetings[i]
        if count[m.a] >= prepared.capacity[m.a] or count[m.b] >= prepared.capacity[m.b]:
            continue
        busy_a, busy_b = busy(m.a), busy(m.b)
        best: tuple[int, int, dict[Hashable, int]] | None = None
        for slot in prepared.allowed[i]:
            if slot in busy_a or slot in busy_b or (prepared.shared[i] and shared_used[slot] >= days[slot].tables):
                continue
            fits = within({m.a: set(busy_a) | {slot}, m.b: set(busy_b) | {slot}}, limit)
            if fits is None:
                continue
            added = fits[m.a] + fits[m.b] - breaks[m.a] - breaks[m.b]
            if best is None or (added, slot) < best[:2]:
                best = (added, slot, fits)
        if best is not None:
            slot_of[i] = best[1]
            breaks.update(best[2])
            count[m.a] += 1
            count[m.b] += 1
            if prepared.shared[i]:
                shared_used[best[1]] += 1
    return slot_of


def _status_ok(status: Any) -> bool:
    return status in (cp_model.OPTIMAL, cp_model.FEASIBLE)


@dataclass
class _Budget:
    """Who gets how much of the time limit. Deterministic runs count work, not seconds: CP-SAT's
    deterministic time, local-search moves and SAT propagations, each converted at a fixed rate; the wall
    clock (`deadline`) is then only a safety net for a machine too loaded to do that work in time."""

    seed: int
    workers: int
    deterministic: bool
    total: float  # the time limit
    deadline: float  # time.monotonic() at which everything stops
    spent: float = 0.0  # work already used, in seconds of the limit (deterministic runs)

    def share(self, fraction: float) -> float:
        """Seconds of work for the next stage: `fraction` of what is left."""
        if self.deterministic:
            return max(0.05, (self.total - self.spent) * fraction)
        return max(0.05, (self.deadline - time.monotonic()) * fraction)

    def wall_left(self) -> float:
        return max(0.05, self.deadline - time.monotonic())


def _solver(seconds: float, budget: _Budget, workers: int | None = None) -> cp_model.CpSolver:
    """A CP-SAT solver. Deterministic runs count CP-SAT's deterministic time instead of wall time on a
    single worker, so the same seed gives the same schedule on any machine load."""
    solver = cp_model.CpSolver()
    solver.parameters.random_seed = budget.seed
    solver.parameters.num_workers = workers if workers is not None else budget.workers
    if budget.deterministic:
        solver.parameters.max_deterministic_time = max(seconds * DETERMINISTIC_PER_SECOND, 0.01)
        solver.parameters.max_time_in_seconds = budget.wall_left()
        # One worker: interleaved multi-worker search (CP-SAT's deterministic portfolio) aborts the
        # whole process on some models ("Check failed: heuristics.fixed_search"); the local search
        # and the MaxSAT prover use the other core meanwhile.
        solver.parameters.num_workers = 1
    else:
        solver.parameters.max_time_in_seconds = min(max(seconds, 0.05), budget.wall_left())
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
    deadline = time.monotonic() + seconds
    return _priority_bound(_prepare(instance), seconds, _Budget(seed, workers, False, seconds, deadline))


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
    budget.spent += solver.response_proto.deterministic_time / DETERMINISTIC_PER_SECOND
    if not _status_ok(status):
        return sum(instance.meetings[i].priority for i in y), False
    return round(solver.best_objective_bound), status == cp_model.OPTIMAL


def solve(
    instance: Instance,
    *,
    time_limit: float = 30.0,
    seed: int = 0,
    workers: int | None = None,
    deterministic: bool = True,
    wall_limit: float | None = None,
) -> Schedule:
    """Schedule the instance: lexicographically maximise placed priority, minimise moves (when
    re-scheduling), minimise breaks within the fairness bound. Each stage gets a share of `time_limit`
    seconds. By default a run is reproducible: the same instance and seed give the same schedule, work
    being counted rather than timed (see `_Budget`); `deterministic=False` races on the clock instead.
    `wall_limit` (default `time_limit`) is when the wall clock stops a deterministic run regardless."""
    started = time.monotonic()
    prepared = _prepare(instance)
    meetings = instance.meetings
    wall = time_limit if wall_limit is None or not deterministic else wall_limit
    budget = _Budget(seed, workers or max(2, os.cpu_count() or 2), deterministic, time_limit, started + wall)

    # 1. bound and a first complete solution
    bound, bound_optimal = _priority_bound(prepared, budget.share(0.1), budget)
    index_of = {m.id: i for i, m in enumerate(meetings)}
    candidates = [_greedy(prepared, first_fit=False)]
    if instance.previous:
        candidates.append(_previous_kept(prepared, instance.previous))
    best = {index_of[mid]: slot for mid, slot in max(candidates, key=lambda c: _value(prepared, c)).items()}
    value = _value_by_index(prepared, best)

    # 2. placed priority
    built = _placement_model(prepared)
    priority_optimal = value >= bound and bound_optimal
    large = len(meetings) > LARGE_INSTANCE
    if value < bound:
        # Warm-started from the best start only on large events, where no proof is in reach and CP-SAT's
        # schedule must start from the repaired greedy one to beat it. Below that, the hint steers CP-SAT
        # into the start's neighbourhood: on a 273-meeting forum it stalled one meeting short, where its own
        # search placed all and proved it in two thirds of the work. The start is kept if CP-SAT finds worse.
        if large:
            _hint(built, best)
        built.model.maximize(built.priority)
        solver = _solver(budget.share(0.35), budget)
        status = solver.solve(built.model)
        budget.spent += solver.response_proto.deterministic_time / DETERMINISTIC_PER_SECOND
        if _status_ok(status):
            found = _read(built, solver)
            if _value_by_index(prepared, found) >= value:
                best, value = found, _value_by_index(prepared, found)
            bound = min(bound, round(solver.best_objective_bound))
            priority_optimal = status == cp_model.OPTIMAL or value >= bound
    if priority_optimal:
        bound = value
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
        solver = _solver(budget.share(0.3), budget)
        status = solver.solve(built.model)
        budget.spent += solver.response_proto.deterministic_time / DETERMINISTIC_PER_SECOND
        moved_bound = 0
        if _status_ok(status):
            found = _read(built, solver)
            if _moved(prepared, found, index_of) <= moved_value:
                best, moved_value = found, _moved(prepared, found, index_of)
            moved_bound = round(solver.best_objective_bound)
        moved_objective = Objective(moved_value, min(moved_bound, moved_value), moved_bound >= moved_value)
        built.model.add(moved_expr <= moved_value)

    # 4. breaks, within the fairness bound
    stage = _BreaksStage(prepared, built, budget, fixed_set=fixed_set, large=large)
    if moved_objective is not None:
        stage.previous = {index_of[mid]: slot for mid, slot in instance.previous.items() if mid in index_of}
        stage.moved_at_most = moved_objective.value
    placed_before = set(best)
    best, breaks_bound, fairness_impossible = stage.run(best)
    if _value_by_index(prepared, best) != value:  # large instances: left out (or added) for fairness
        priority_optimal = priority_optimal and _value_by_index(prepared, best) >= value
        value = _value_by_index(prepared, best)

    slot_of = {meetings[i].id: s for i, s in best.items()}
    breaks = count_breaks(instance, slot_of)
    breaks_value = sum(breaks.values())
    spread = breaks_spread(instance, slot_of)
    fairness_met = instance.fairness is None or spread <= instance.fairness
    placements, table_changes = assign_tables(instance, slot_of)
    return Schedule(
        placements=placements,
        unplaced=_unplaced_reasons(prepared, slot_of, left_out={meetings[i].id for i in placed_before - set(best)}),
        priority=Objective(value, max(bound, value), priority_optimal),
        breaks=Objective(breaks_value, min(breaks_bound, breaks_value), breaks_value <= breaks_bound),
        moved=moved_objective,
        breaks_per_participant=breaks,
        fairness_met=fairness_met,
        table_changes=table_changes,
        seconds=time.monotonic() - started,
        spread=spread,
        fairness_impossible=fairness_impossible,
    )


class _BreaksStage:
    """Fewest breaks for the placed meetings (a fixed set, or any set of at least the placed priority),
    with the fairness bound hard in every step: stop at once at a schedule without breaks (it is fair)
    → local search → RC2 beside CP-SAT, both warm-started from the best schedule so far (small or
    re-scheduled instances: CP-SAT alone; large ones: the local search alone). When the bound is
    proven impossible, the rest of the budget goes to the fewest breaks without it: a draft the
    organiser may accept, with `fairness_met` False."""

    def __init__(self, prepared: _Prepared, built: _Model, budget: _Budget, *, fixed_set: bool, large: bool):
        self.prepared, self.built, self.budget = prepared, built, budget
        self.instance = prepared.instance
        self.fixed_set, self.large = fixed_set, large
        self.previous: dict[int, int] = {}
        self.moved_at_most: int | None = None

    def score(self, solution: dict[int, int], fair: bool = True) -> tuple[int, int]:
        """(how far over the fairness bound, breaks): smaller is better."""
        slot_of = {self.instance.meetings[i].id: s for i, s in solution.items()}
        over = 0
        if fair and self.instance.fairness is not None:
            over = max(0, breaks_spread(self.instance, slot_of) - self.instance.fairness)
        return over, sum(count_breaks(self.instance, slot_of).values())

    def run(self, start: dict[int, int]) -> tuple[dict[int, int], int, bool]:
        """(the best schedule, a lower bound on breaks for schedules within the bound, bound impossible)."""
        found = [start]
        if self.score(start)[1] == 0:
            return start, 0, False
        if not self.instance.previous:  # the local search knows nothing of moved meetings
            units = self.budget.share(1.0 if self.large else LOCAL_SHARE)
            search = _BreakSearch(self.prepared, start, self.budget.seed, balance=self.large)
            (_, total), solution, taken = search.run(int(units * STEPS_PER_SECOND), self.budget.deadline)
            self.budget.spent += taken / STEPS_PER_SECOND
            found.append(solution)
            if total == 0:
                return solution, 0, False
        if self.large:
            best = min(found, key=self.score)
            if self.instance.fairness is not None and not self.instance.previous and self.score(best)[0] > 0:
                best = _drop_for_fairness(self.prepared, best)
            return best, 0, False
        best = min(found, key=self.score)
        breaks_expr, per_participant = _add_breaks(self.prepared, self.built)
        fair = None
        if self.instance.fairness is not None:
            placed = set(best) if self.fixed_set else None
            fair = _add_fairness(self.prepared, self.built, per_participant, placed)
        self.built.model.minimize(breaks_expr)
        units = self.budget.share(1.0)
        proven, bound, impossible = self._prove(best, units, fairness=True)
        if proven is not None:
            found.append(proven)
        if not impossible:
            return min(found, key=self.score), bound, False
        # no fair schedule of these meetings: the fewest breaks without the bound, as a draft
        assert fair is not None
        fair.proto.clear_linear()
        unfair = min(found, key=lambda s: self.score(s, fair=False))
        bound = 0
        if self.budget.deterministic or self.budget.wall_left() > 0.1 * self.budget.total:
            proven, bound, _ = self._prove(unfair, units / 2, fairness=False)
            if proven is not None:
                found.append(proven)
        return min(found, key=lambda s: self.score(s, fair=False)), bound, True

    def _prove(self, best: dict[int, int], units: float, *, fairness: bool) -> tuple[dict[int, int] | None, int, bool]:
        """(a schedule, a lower bound, whether no schedule meets the hard constraints) from RC2 beside
        CP-SAT when the placed set is fixed and large enough, else from CP-SAT alone."""
        _hint(self.built, best)
        if self.fixed_set and len(best) >= MAXSAT_MEETINGS:
            maxsat = BreaksMaxSat(
                self.prepared,
                set(best),
                previous=self.previous,
                moved_at_most=self.moved_at_most,
                hint=best,
                fairness=fairness,
            )
            proof, cp = _race(self.built, maxsat, units, self.budget)
            if proof.solution is not None:
                return proof.solution, proof.bound, False
            impossible = proof.infeasible or cp.status == cp_model.INFEASIBLE
            return cp.solution, max(proof.bound, cp.bound), impossible
        cp = _search_cp(self.built, units, self.budget)
        return cp.solution, cp.bound, cp.status == cp_model.INFEASIBLE


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


def _unplaced_reasons(
    prepared: _Prepared, slot_of: dict[Hashable, int], left_out: Collection[Hashable] = ()
) -> dict[Hashable, UnplacedReason]:
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
        if meeting.id in left_out:
            reasons[meeting.id] = UnplacedReason.fairness
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
