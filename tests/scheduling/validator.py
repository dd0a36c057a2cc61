"""An independent checker of meeting schedules, written from the problem's definition alone.

The scheduler proves bounds and claims objective values; this module recomputes every claim
from the instance and the placements, so a test can check any schedule the scheduler returns
without trusting its encoding. It deliberately shares no code with `app.scheduling.engine`
beyond the data classes.

`violations(instance, schedule)` returns one message per broken rule, each starting with a
stable rule name (``"double_booking: …"``); an empty list means the schedule is valid.

Readings chosen where the data classes leave room:

- A placement of an unknown meeting, or a repeated placement of one meeting, is reported and
  then ignored: the first placement of each meeting is the one checked. A placement with an
  invalid slot index still counts as placed (priority, moves) but takes part in no per-slot rule.
- A locked meeting (``locked_slot`` set) must be placed, in that slot. ``locked_table`` binds the
  shared table of a meeting without a booth host; a meeting at a booth has no table, so there the
  booth rule decides and ``locked_table`` is not checked.
- A meeting at a shared table has ``booth`` None; a meeting at a booth has ``table`` None.
- Booths are told apart by their name: two participants with the same booth name share it.
- Breaks are counted over a day's slots in index order, across sessions (a lunch gap between
  two meetings of one day is a break). ``breaks_per_participant`` may omit participants with no
  break; an entry for a participant without placed meetings must be 0, and entries for unknown
  participants are reported.
- Fairness is checked one way, as the rule reads: ``fairness_met`` must not be True when the
  spread exceeds the bound. Reporting False for a fair schedule is not flagged. Without a
  fairness bound ``fairness_met`` is not checked. With no participant placed the spread is 0.
- Moves count only meetings of the instance that appear in ``previous``: a meeting now in
  another slot, or now unplaced, moved; a new meeting did not. ``moved`` must be set exactly
  when ``previous`` is non-empty (the Schedule documents it as "only when re-scheduling").
- Objectives: a maximised one has bound ≥ value, a minimised one bound ≤ value; an optimal one
  has bound == value.
- ``unplaced`` reasons, ``table_changes`` and ``seconds`` are not checked.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable

from app.scheduling.engine import Instance, Meeting, Objective, Placement, Schedule


def violations(instance: Instance, schedule: Schedule) -> list[str]:
    """Every rule the schedule breaks for this instance, one message each; [] when it is valid."""
    out: list[str] = []
    participants = {p.id: p for p in instance.participants}
    meetings: dict[Hashable, Meeting] = {}
    for m in instance.meetings:
        if m.id in meetings:
            out.append(f"instance: meeting id {m.id!r} is not unique")
        meetings[m.id] = m
        for who in (m.a, m.b):
            if who not in participants:
                out.append(f"instance: meeting {m.id!r} names unknown participant {who!r}")
    n_slots = len(instance.slots)

    placed = _placed(meetings, schedule, out)
    _membership(meetings, placed, schedule, out)

    # placements whose slot exists: the only ones that take part in per-slot rules
    timed: dict[Hashable, Placement] = {}
    for mid, p in placed.items():
        if isinstance(p.slot, int) and 0 <= p.slot < n_slots:
            timed[mid] = p
        else:
            out.append(f"slot_index: meeting {mid!r} is placed in slot {p.slot!r}, not in 0..{n_slots - 1}")

    _slot_rules(instance, meetings, participants, placed, timed, out)
    _people_rules(meetings, participants, placed, timed, out)
    _table_rules(instance, meetings, participants, timed, out)
    breaks = _breaks(instance, meetings, participants, timed)
    _breaks_rules(participants, breaks, schedule, out)
    _priority_rules(meetings, placed, schedule, out)
    _fairness_rules(instance, breaks, schedule, out)
    _moved_rules(instance, meetings, placed, schedule, out)
    return out


def _placed(meetings: dict[Hashable, Meeting], schedule: Schedule, out: list[str]) -> dict[Hashable, Placement]:
    placed: dict[Hashable, Placement] = {}
    for p in schedule.placements:
        if p.meeting_id not in meetings:
            out.append(f"unknown_meeting: a placement names meeting {p.meeting_id!r}, which the instance lacks")
        elif p.meeting_id in placed:
            out.append(f"duplicate_placement: meeting {p.meeting_id!r} is placed more than once")
        else:
            placed[p.meeting_id] = p
    return placed


def _membership(
    meetings: dict[Hashable, Meeting], placed: dict[Hashable, Placement], schedule: Schedule, out: list[str]
) -> None:
    for mid in schedule.unplaced:
        if mid not in meetings:
            out.append(f"unknown_meeting: unplaced lists meeting {mid!r}, which the instance lacks")
        elif mid in placed:
            out.append(f"placed_and_unplaced: meeting {mid!r} is both placed and listed as unplaced")
    for mid in meetings:
        if mid not in placed and mid not in schedule.unplaced:
            out.append(f"missing_meeting: meeting {mid!r} is neither placed nor listed as unplaced")


def _slot_rules(
    instance: Instance,
    meetings: dict[Hashable, Meeting],
    participants: dict,
    placed: dict[Hashable, Placement],
    timed: dict[Hashable, Placement],
    out: list[str],
) -> None:
    for mid, m in meetings.items():
        if m.locked_slot is not None:
            if mid not in placed:
                out.append(f"locked_slot: meeting {mid!r} is locked in slot {m.locked_slot} but is not placed")
            elif placed[mid].slot != m.locked_slot:
                out.append(
                    f"locked_slot: meeting {mid!r} is locked in slot {m.locked_slot} but placed in {placed[mid].slot}"
                )
    for mid, p in timed.items():
        m = meetings[mid]
        for who in (m.a, m.b):
            person = participants.get(who)
            if person is not None and p.slot in person.forbidden:
                out.append(f"forbidden_slot: meeting {mid!r} is in slot {p.slot}, where {who!r} is unavailable")
        session = instance.slots[p.slot].session
        if m.session is not None and session != m.session:
            out.append(f"session: meeting {mid!r} wants session {m.session} but slot {p.slot} is in session {session}")


def _people_rules(
    meetings: dict[Hashable, Meeting],
    participants: dict,
    placed: dict[Hashable, Placement],
    timed: dict[Hashable, Placement],
    out: list[str],
) -> None:
    at: dict[tuple[Hashable, int], list[Hashable]] = defaultdict(list)
    for mid, p in timed.items():
        m = meetings[mid]
        for who in {m.a, m.b}:
            at[who, p.slot].append(mid)
    for (who, slot), mids in at.items():
        if len(mids) > 1:
            out.append(f"double_booking: {who!r} has meetings {sorted(map(repr, mids))} in slot {slot}")
    count: dict[Hashable, int] = defaultdict(int)
    for mid in placed:
        m = meetings[mid]
        for who in {m.a, m.b}:
            count[who] += 1
    for who, n in count.items():
        cap = participants[who].max_meetings if who in participants else None
        if cap is not None and n > cap:
            out.append(f"max_meetings: {who!r} has {n} meetings, more than its maximum of {cap}")


def _table_rules(
    instance: Instance,
    meetings: dict[Hashable, Meeting],
    participants: dict,
    timed: dict[Hashable, Placement],
    out: list[str],
) -> None:
    tables_used: dict[tuple[int, int], list[Hashable]] = defaultdict(list)
    booths_used: dict[tuple[str, int], list[Hashable]] = defaultdict(list)
    for mid, p in timed.items():
        m = meetings[mid]
        hosts = [participants[w].booth for w in (m.a, m.b) if w in participants and participants[w].booth is not None]
        if hosts:
            if p.booth not in hosts or p.table is not None:
                out.append(
                    f"booth: meeting {mid!r} must be at booth {' or '.join(map(repr, hosts))} with no table, "
                    f"not at booth {p.booth!r}, table {p.table!r}"
                )
            if p.booth is not None:
                booths_used[p.booth, p.slot].append(mid)
            continue
        n_tables = instance.slots[p.slot].tables
        if p.booth is not None or not isinstance(p.table, int) or not 1 <= p.table <= n_tables:
            out.append(
                f"table: meeting {mid!r} needs a shared table 1..{n_tables} in slot {p.slot} and no booth, "
                f"not table {p.table!r}, booth {p.booth!r}"
            )
        elif m.locked_table is not None and p.table != m.locked_table:
            out.append(f"locked_table: meeting {mid!r} is locked at table {m.locked_table} but placed at {p.table}")
        if isinstance(p.table, int):
            tables_used[p.slot, p.table].append(mid)
    for (slot, table), mids in tables_used.items():
        if len(mids) > 1:
            out.append(f"table_clash: meetings {sorted(map(repr, mids))} share table {table} in slot {slot}")
    for (booth, slot), mids in booths_used.items():
        if len(mids) > 1:
            out.append(f"booth_clash: booth {booth!r} hosts meetings {sorted(map(repr, mids))} in slot {slot}")


def _breaks(
    instance: Instance, meetings: dict[Hashable, Meeting], participants: dict, timed: dict[Hashable, Placement]
) -> dict[Hashable, int]:
    """Breaks of each participant with a placed meeting: maximal idle runs between two meetings of a day."""
    busy: dict[Hashable, set[int]] = defaultdict(set)
    for mid, p in timed.items():
        m = meetings[mid]
        busy[m.a].add(p.slot)
        busy[m.b].add(p.slot)
    days: dict[int, list[int]] = defaultdict(list)
    for index, slot in enumerate(instance.slots):
        days[slot.day].append(index)  # enumerate keeps each day's slots in index order
    breaks: dict[Hashable, int] = {}
    for who, slots in busy.items():
        total = 0
        for day_slots in days.values():
            flags = [s in slots for s in day_slots]
            if True not in flags:
                continue
            first = flags.index(True)
            last = len(flags) - 1 - flags[::-1].index(True)
            idle_run = False
            for flag in flags[first : last + 1]:
                if not flag and not idle_run:
                    total += 1
                idle_run = not flag
        breaks[who] = total
    return breaks


def _breaks_rules(participants: dict, breaks: dict[Hashable, int], schedule: Schedule, out: list[str]) -> None:
    claimed = schedule.breaks_per_participant
    for who in participants:
        actual = breaks.get(who, 0)
        said = claimed.get(who, 0)
        if said != actual:
            out.append(f"breaks_per_participant: {who!r} has {actual} breaks, the schedule says {said}")
    for who in claimed:
        if who not in participants:
            out.append(f"breaks_per_participant: an entry names unknown participant {who!r}")
    total = sum(breaks.values())
    if schedule.breaks.value != total:
        out.append(
            f"breaks_value: the schedule has {total} breaks in all, its breaks objective says {schedule.breaks.value}"
        )
    _bounds("breaks", schedule.breaks, maximised=False, out=out)


def _priority_rules(
    meetings: dict[Hashable, Meeting], placed: dict[Hashable, Placement], schedule: Schedule, out: list[str]
) -> None:
    total = sum(meetings[mid].priority for mid in placed)
    if schedule.priority.value != total:
        out.append(
            f"priority_value: placed meetings weigh {total}, the priority objective says {schedule.priority.value}"
        )
    _bounds("priority", schedule.priority, maximised=True, out=out)


def _fairness_rules(instance: Instance, breaks: dict[Hashable, int], schedule: Schedule, out: list[str]) -> None:
    if instance.fairness is None:
        return
    spread = max(breaks.values()) - min(breaks.values()) if breaks else 0
    if spread > instance.fairness and schedule.fairness_met:
        out.append(
            f"fairness: breaks per participant spread by {spread}, more than {instance.fairness}, "
            "yet the schedule claims fairness is met"
        )


def _moved_rules(
    instance: Instance,
    meetings: dict[Hashable, Meeting],
    placed: dict[Hashable, Placement],
    schedule: Schedule,
    out: list[str],
) -> None:
    if not instance.previous:
        if schedule.moved is not None:
            out.append("moved_value: the schedule counts moves, but there is no previous schedule")
        return
    if schedule.moved is None:
        out.append("moved_value: re-scheduling against a previous schedule, but the schedule does not count moves")
        return
    moved = sum(
        1
        for mid, slot in instance.previous.items()
        if mid in meetings and (mid not in placed or placed[mid].slot != slot)
    )
    if schedule.moved.value != moved:
        out.append(f"moved_value: {moved} meetings moved, the moved objective says {schedule.moved.value}")
    _bounds("moved", schedule.moved, maximised=False, out=out)


def _bounds(name: str, objective: Objective, *, maximised: bool, out: list[str]) -> None:
    if maximised and objective.bound < objective.value:
        out.append(f"{name}_bound: maximised, yet its bound {objective.bound} is below its value {objective.value}")
    if not maximised and objective.bound > objective.value:
        out.append(f"{name}_bound: minimised, yet its bound {objective.bound} is above its value {objective.value}")
    if objective.optimal and objective.bound != objective.value:
        out.append(f"{name}_bound: marked optimal, yet bound {objective.bound} differs from value {objective.value}")
