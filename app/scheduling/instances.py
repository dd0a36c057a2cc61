"""Scheduler instances from elsewhere: the MiniZinc data files of the B2B scheduling literature, and seeded
generators (for the benchmark and the tests): realistic brokerage events; events shaped like real forums
and technology-transfer days, with a fairness bound; and events built around a planted schedule, whose
optimum is known."""

from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass
from pathlib import Path

from app.scheduling.engine import Instance, Meeting, Participant, Slot, greedy


class DznError(ValueError):
    """The file is not a B2B instance in the MiniZinc data format."""


def _strip_comments(text: str) -> str:
    return "\n".join(line.split("%", 1)[0] for line in text.splitlines())


def _int(text: str, name: str) -> int:
    match = re.search(rf"\b{name}\s*=\s*(-?\d+)\s*;", text)
    if match is None:
        raise DznError(f"missing {name}")
    return int(match.group(1))


def _array(text: str, name: str) -> str | None:
    """The text between `name = [` and the matching `]`, or None when the field is absent."""
    match = re.search(rf"\b{name}\s*=\s*\[", text)
    if match is None:
        return None
    depth, start = 1, match.end()
    for position in range(start, len(text)):
        depth += {"[": 1, "]": -1}.get(text[position], 0)
        if depth == 0:
            return text[start:position]
    raise DznError(f"{name} is not closed")


def _numbers(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"-?\d+", text)]


def read_dzn(path: str | Path) -> Instance:
    """Read an instance: `nBusiness`, `nMeetings`, `nTables`, `nTotalSlots`, `nMorningSlots`,
    `requested` rows `|p1, p2, session|` (1 = morning, 2 = afternoon, 3 = any), `forbidden` slot sets
    per business (0 is a dummy), `fixed` slot per meeting (0 = free); all 1-based. One day: breaks
    may span the lunch pause, as in the literature."""
    text = _strip_comments(Path(path).read_text(encoding="utf-8"))
    n_business, n_meetings = _int(text, "nBusiness"), _int(text, "nMeetings")
    n_tables, n_slots, n_morning = _int(text, "nTables"), _int(text, "nTotalSlots"), _int(text, "nMorningSlots")
    requested = _numbers(_array(text, "requested") or "")
    if len(requested) != 3 * n_meetings:
        raise DznError(f"requested has {len(requested)} numbers, expected 3 × nMeetings = {3 * n_meetings}")
    forbidden_text = _array(text, "forbidden")
    forbidden_sets = re.findall(r"\{([^}]*)\}", forbidden_text) if forbidden_text is not None else []
    if forbidden_text is not None and len(forbidden_sets) != n_business:
        raise DznError(f"forbidden has {len(forbidden_sets)} sets, expected nBusiness = {n_business}")
    fixed_text = _array(text, "fixed")
    fixed = _numbers(fixed_text) if fixed_text is not None else [0] * n_meetings
    if len(fixed) != n_meetings:
        raise DznError(f"fixed has {len(fixed)} values, expected nMeetings = {n_meetings}")

    slots = [Slot(session=1 if s < n_morning else 2, day=0, tables=n_tables) for s in range(n_slots)]
    participants = []
    for p in range(n_business):
        numbers = _numbers(forbidden_sets[p]) if forbidden_sets else []
        forbidden = frozenset(n - 1 for n in numbers if 1 <= n <= n_slots)
        participants.append(Participant(id=p + 1, forbidden=forbidden))
    meetings = []
    for m in range(n_meetings):
        a, b, session = requested[3 * m : 3 * m + 3]
        if not (1 <= a <= n_business and 1 <= b <= n_business):
            raise DznError(f"meeting {m + 1} names a business outside 1..{n_business}")
        meetings.append(
            Meeting(
                id=m + 1,
                a=a,
                b=b,
                session=session if session in (1, 2) else None,
                locked_slot=fixed[m] - 1 if fixed[m] > 0 else None,
            )
        )
    return Instance(slots=slots, participants=participants, meetings=meetings)


# --------------------------------------------------------------------------- generator


@dataclass(frozen=True)
class Shape:
    """The size of a generated event."""

    name: str
    participants: int
    meetings: int
    morning_slots: int
    afternoon_slots: int
    tables: int
    booths: int = 0  # suppliers with a fixed booth (their meetings take no shared table)
    suppliers: int | None = None  # the rest are seekers; default a third
    single_session_share: float = 0.2  # participants attending the morning or the afternoon only
    forbidden_share: float = 0.1  # participants arriving late or leaving early
    fixed_share: float = 0.03  # meetings fixed by the organiser
    session_share: float = 0.05  # other meetings asked for the morning or the afternoon only
    hubs: int = 0  # suppliers everyone wants: 9–12 meetings each
    forum: bool = False  # anyone may meet anyone (a forum), not only suppliers and seekers
    fairness: int | None = None


KITAKYUSHU = Shape(
    "kitakyushu-haiphong-120",
    participants=63,
    meetings=120,
    morning_slots=7,
    afternoon_slots=7,
    tables=0,
    booths=13,
    suppliers=13,
    fixed_share=0.02,
)
LARGE = Shape(
    "large-1000",
    participants=1000,
    meetings=5000,
    morning_slots=15,
    afternoon_slots=15,
    tables=100,
    booths=120,
    suppliers=320,
    fixed_share=0.01,
)


def event_shape(rng: random.Random, index: int) -> Shape:
    """An event-size shape like real brokerage events: 8–22 slots, 40–80 participants, 120–300
    meetings, 12–27 tables; agendas about 40 % full on average (the most wanted participants up
    to 80 %), as in the real instances of the literature."""
    slots = rng.randint(8, 22)
    meetings = rng.randint(120, 300)
    # average meetings per participant ≤ 45 % of the slots
    participants = max(40, min(80, math.ceil(2 * meetings / (0.45 * slots))))
    meetings = min(meetings, int(0.45 * slots * participants / 2))
    tables = max(12, min(27, math.ceil(meetings / slots * rng.uniform(1.1, 1.5))))
    return Shape(
        f"event-{index:02d}",
        participants=participants,
        meetings=meetings,
        morning_slots=slots // 2,
        afternoon_slots=slots - slots // 2,
        tables=tables,
    )


def generate(shape: Shape, seed: int) -> Instance:
    """A brokerage event: suppliers and seekers, popularity skewed (a few suppliers are wanted by
    many); some attend one session only, some arrive late or leave early, a few pairs ask for a
    session, a few meetings are fixed by the organiser (where a first schedule put them, so the
    instance stays consistent)."""
    rng = random.Random(seed)  # noqa: S311  (a benchmark generator, not security)
    n_slots = shape.morning_slots + shape.afternoon_slots
    slots = [Slot(session=1 if s < shape.morning_slots else 2, day=0, tables=shape.tables) for s in range(n_slots)]
    n_suppliers = shape.suppliers if shape.suppliers is not None else max(1, shape.participants // 3)
    morning = frozenset(range(shape.morning_slots))
    afternoon = frozenset(range(shape.morning_slots, n_slots))
    participants = []
    attends: dict[int, int | None] = {}  # participant → the only session it attends, if one
    for p in range(shape.participants):
        forbidden: frozenset[int] = frozenset()
        attends[p + 1] = None
        if rng.random() < shape.single_session_share:  # attends the morning or the afternoon only
            attends[p + 1] = rng.choice((1, 2))
            forbidden = afternoon if attends[p + 1] == 1 else morning
        elif rng.random() < shape.forbidden_share:  # arrives late or leaves early
            width = rng.randint(1, max(1, n_slots // 4))
            late = rng.random() < 0.5
            forbidden = frozenset(range(width)) if late else frozenset(range(n_slots - width, n_slots))
        booth = f"B{p + 1}" if p < shape.booths else None
        participants.append(Participant(id=p + 1, forbidden=forbidden, booth=booth))
    free = {number: n_slots - len(p.forbidden) for number, p in enumerate(participants, start=1)}
    suppliers = list(range(1, n_suppliers + 1))
    seekers = list(range(n_suppliers + 1, shape.participants + 1))
    if shape.forum:
        suppliers = seekers = list(range(1, shape.participants + 1))
    popularity = {pid: rng.paretovariate(1.6) for pid in suppliers}
    degree = dict.fromkeys(free, 0)
    pairs: set[tuple[int, int]] = set()

    def add(supplier: int, seeker: int, most: dict[int, int]) -> None:
        pair = (min(supplier, seeker), max(supplier, seeker)) if shape.forum else (supplier, seeker)
        apart = None not in (attends[supplier], attends[seeker]) and attends[supplier] != attends[seeker]
        # already paired, or one only attends the other's absence, or someone is full
        if supplier == seeker or pair in pairs or apart or degree[supplier] >= most[supplier]:
            return
        if degree[seeker] >= most[seeker]:
            return
        pairs.add(pair)
        degree[supplier] += 1
        degree[seeker] += 1

    # the most wanted fill at most 80 % of their free slots; hubs 9–12 meetings
    most = {pid: int(0.8 * free[pid]) for pid in free}
    hubs = [pid for pid in suppliers if attends[pid] is None][: shape.hubs]
    for hub in hubs:
        most[hub] = min(free[hub], rng.randint(9, 12))
        for _ in range(most[hub] * 20):
            if degree[hub] >= most[hub]:
                break
            add(hub, rng.choice(seekers), most)
    attempts = 0
    while len(pairs) < shape.meetings and attempts < shape.meetings * 50:
        attempts += 1
        add(rng.choices(suppliers, weights=[popularity[s] for s in suppliers])[0], rng.choice(seekers), most)
    meetings = []
    for number, (a, b) in enumerate(sorted(pairs), start=1):
        # the session follows from who attends which; a few pairs ask for one session themselves
        session = attends[a] or attends[b]
        if session is None and rng.random() < shape.session_share:
            session = rng.choice((1, 2))
        meetings.append(Meeting(id=number, a=a, b=b, priority=rng.randint(50, 100), session=session))
    instance = Instance(slots=slots, participants=participants, meetings=meetings)
    first = greedy(instance, first_fit=True)
    locked = []
    for meeting in meetings:
        if meeting.id in first and rng.random() < shape.fixed_share:
            meeting = Meeting(meeting.id, meeting.a, meeting.b, meeting.priority, meeting.session, first[meeting.id])
        locked.append(meeting)
    return Instance(slots=slots, participants=participants, meetings=locked, fairness=shape.fairness)


FORUM = "forum"
TECHNOLOGY_TRANSFER = "techtransfer"


def real_shape(kind: str, rng: random.Random, index: int, fairness: int = 2) -> Shape:
    """A shape like the real forums and technology-transfer days of the literature: 50–70 participants,
    125–302 meetings, 10–21 slots, 14–27 tables, some meetings asked for the morning or the afternoon, a
    few hub participants with 9–12 meetings; fairness d = 2. A forum lets anyone meet anyone; a
    technology-transfer day pairs technology offers with requests, and more pairs ask for a session."""
    slots = rng.randint(10, 21)
    participants = rng.randint(50, 70)
    meetings = min(rng.randint(125, 302), int(0.3 * slots * participants))
    meetings = max(125, meetings)
    tables = max(14, min(27, math.ceil(meetings / slots * rng.uniform(1.2, 1.6))))
    return Shape(
        f"{kind}-{index:02d}",
        participants=participants,
        meetings=meetings,
        morning_slots=slots // 2,
        afternoon_slots=slots - slots // 2,
        tables=tables,
        suppliers=None if kind == TECHNOLOGY_TRANSFER else participants,
        single_session_share=0.1,
        forbidden_share=0.1,
        fixed_share=0.0,
        session_share=0.3 if kind == TECHNOLOGY_TRANSFER else 0.15,
        hubs=rng.randint(2, 5),
        forum=kind == FORUM,
        fairness=fairness,
    )


@dataclass(frozen=True)
class Planted:
    """An instance built around a schedule: every meeting placed, `breaks` breaks, and no schedule that
    places every meeting has fewer — the optimum is known."""

    instance: Instance
    schedule: dict[int, int]  # meeting id → slot
    breaks: int


def planted(shape: Shape, seed: int, *, forced_breaks: int = 0) -> Planted:
    """A schedule first, the requests from it. Slot by slot, participants meet in a random matching: who
    has started meets in every slot until it stops for good (never idle in between, so no breaks), hubs
    keep going for 9–12 slots. For `forced_breaks` participants, a break is forced: they are away in the
    last morning slot and have a meeting asked for the morning and one asked for the afternoon, so any
    schedule placing both has a break for them; the planted one has exactly that one. Some other
    meetings ask for the session they are planted in; some participants are away before they start or
    after they stop. Priorities are 1 (maximising them means placing every meeting)."""
    rng = random.Random(seed)  # noqa: S311  (a benchmark generator, not security)
    n_slots = shape.morning_slots + shape.afternoon_slots
    gap = shape.morning_slots - 1  # the last morning slot
    ids = list(range(1, shape.participants + 1))
    hubs = set(rng.sample(ids, min(shape.hubs, len(ids))))
    length = {pid: rng.randint(9, 12) if pid in hubs else rng.randint(2, 8) for pid in ids}
    pausing = set(rng.sample([pid for pid in ids if pid not in hubs], forced_breaks))
    length.update({pid: length[pid] + 2 for pid in pausing})
    state = dict.fromkeys(ids, "waiting")  # waiting → busy (→ paused → busy) → done
    done_count = dict.fromkeys(ids, 0)
    paired: set[tuple[int, int]] = set()
    schedule: list[tuple[int, int, int]] = []  # (a, b, slot)
    for slot in range(n_slots):
        for pid in pausing:
            if slot == gap and state[pid] == "busy":
                state[pid] = "paused"
            elif slot == gap + 1 and state[pid] == "paused":
                state[pid] = "busy"
        must = [pid for pid in ids if state[pid] == "busy"]
        # starters: enough to keep the tables busy, and the pausing ones early enough to pause
        may = [pid for pid in ids if state[pid] == "waiting" and (pid not in pausing or slot < gap - 1)]
        rng.shuffle(must)
        rng.shuffle(may)
        wanted = max(0, 2 * shape.tables - len(must))
        pool = must + [pid for pid in may if pid in pausing or rng.random() < 0.35][:wanted]
        met: set[int] = set()
        meetings_here = 0
        for a in pool:
            if a in met or meetings_here >= shape.tables:
                continue
            for b in pool:
                pair = (min(a, b), max(a, b))
                if b != a and b not in met and pair not in paired:
                    met |= {a, b}
                    paired.add(pair)
                    schedule.append((pair[0], pair[1], slot))
                    meetings_here += 1
                    break
        for pid in ids:
            if pid in met:
                state[pid] = "busy"
                done_count[pid] += 1
                if done_count[pid] >= length[pid]:
                    state[pid] = "done"
            elif state[pid] == "busy":
                state[pid] = "done"  # could not meet: stops for good, still without a break
    busy: dict[int, list[int]] = {pid: [] for pid in ids}
    for a, b, slot in schedule:
        busy[a].append(slot)
        busy[b].append(slot)
    forced = {pid for pid in pausing if any(s < gap for s in busy[pid]) and any(s > gap for s in busy[pid])}
    participants = []
    for pid in ids:
        forbidden: set[int] = set()
        if pid in pausing and pid in forced:
            forbidden.add(gap)
        elif pid in pausing and busy[pid] and gap not in busy[pid]:
            forbidden.add(gap)  # paused, then stopped: away in that slot, no break either way
        if busy[pid] and rng.random() < shape.forbidden_share:  # arrives late or leaves early
            if rng.random() < 0.5:
                forbidden |= set(range(min(busy[pid])))
            else:
                forbidden |= set(range(max(busy[pid]) + 1, n_slots))
        participants.append(Participant(id=pid, forbidden=frozenset(forbidden)))
    session_of = [1 if s < shape.morning_slots else 2 for s in range(n_slots)]
    meetings = []
    pinned: set[tuple[int, int]] = set()  # (forced participant, session) with a meeting asked for it
    for number, (a, b, slot) in enumerate(schedule, start=1):
        session = session_of[slot] if rng.random() < shape.session_share else None
        for pid in (a, b):
            if pid in forced and (pid, session_of[slot]) not in pinned:
                session = session_of[slot]
                pinned.add((pid, session))
        meetings.append(Meeting(id=number, a=a, b=b, priority=1, session=session))
    slots = [Slot(session=session_of[s], day=0, tables=shape.tables) for s in range(n_slots)]
    instance = Instance(slots=slots, participants=participants, meetings=meetings, fairness=shape.fairness)
    slot_of = {number: slot for number, (_, _, slot) in enumerate(schedule, start=1)}
    return Planted(instance, slot_of, len(forced))


def write_dzn(instance: Instance, path: str | Path) -> None:
    """Write a one-day, uniform-table instance in the literature's format (for exchanging instances)."""
    ids = {p.id: n for n, p in enumerate(instance.participants, start=1)}
    n_morning = sum(1 for s in instance.slots if s.session == 1)
    rows = [f"{ids[m.a]}, {ids[m.b]}, {m.session if m.session in (1, 2) else 3}" for m in instance.meetings]
    by_business: list[list[int]] = [[] for _ in instance.participants]
    for number, meeting in enumerate(instance.meetings, start=2):
        by_business[ids[meeting.a] - 1].append(number)
        by_business[ids[meeting.b] - 1].append(number)
    forbidden = ", ".join(
        "{" + ", ".join(str(n) for n in [0, *sorted(s + 1 for s in p.forbidden)]) + "}" for p in instance.participants
    )
    fixed = ", ".join(str(m.locked_slot + 1 if m.locked_slot is not None else 0) for m in instance.meetings)
    text = (
        f"nBusiness = {len(instance.participants)};\n"
        f"nMeetings = {len(instance.meetings)};\n"
        f"nTables = {instance.slots[0].tables if instance.slots else 0};\n"
        f"nTotalSlots = {len(instance.slots)};\n"
        f"nMorningSlots = {n_morning};\n"
        "requested = [|" + "\n |".join(rows) + "|];\n"
        "meetingsxBusiness = [" + ", ".join("{" + ", ".join(map(str, [1, *ms])) + "}" for ms in by_business) + "];\n"
        "nMeetingsBusiness = [" + ", ".join(str(len(ms)) for ms in by_business) + "];\n"
        f"forbidden = [{forbidden}];\n"
        f"fixed = [{fixed}];\n"
    )
    Path(path).write_text(text, encoding="utf-8")
