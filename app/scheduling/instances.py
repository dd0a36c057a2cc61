"""Scheduler instances from elsewhere: the MiniZinc data files of the B2B scheduling literature, and a
seeded generator of realistic brokerage events (for the benchmark and the property tests)."""

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
    popularity = {pid: rng.paretovariate(1.6) for pid in suppliers}
    degree = dict.fromkeys(free, 0)
    pairs: set[tuple[int, int]] = set()
    attempts = 0
    while len(pairs) < shape.meetings and attempts < shape.meetings * 50:
        attempts += 1
        supplier = rng.choices(suppliers, weights=[popularity[s] for s in suppliers])[0]
        seeker = rng.choice(seekers)
        apart = None not in (attends[supplier], attends[seeker]) and attends[supplier] != attends[seeker]
        if (supplier, seeker) in pairs or apart:  # already paired, or one only attends the other's absence
            continue
        # the most wanted fill at most 80 % of their free slots
        if degree[supplier] >= int(0.8 * free[supplier]) or degree[seeker] >= int(0.8 * free[seeker]):
            continue
        pairs.add((supplier, seeker))
        degree[supplier] += 1
        degree[seeker] += 1
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
    return Instance(slots=slots, participants=participants, meetings=locked)


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
