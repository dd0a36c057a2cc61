"""An event's meeting slots, computed from its sessions: numbered 0, 1, 2 … in time order."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class EventSlot:
    number: int
    session_id: Any
    session_number: int  # 1-based order of the session in the event
    session_name: str
    starts_at: datetime
    ends_at: datetime
    tables: int
    day: int  # days since the event's first day, in the event's timezone


def _parse(value: Any) -> datetime:
    parsed = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return parsed.astimezone(UTC)


def session_slots(starts_at: datetime, ends_at: datetime, minutes: int, breaks: list[dict[str, Any]]) -> list[datetime]:
    """Slot start times: every `minutes` from the start, skipping any slot that overlaps a break."""
    pauses = [(_parse(b["starts_at"]), _parse(b["ends_at"])) for b in breaks]
    length = timedelta(minutes=minutes)
    starts, cursor = [], starts_at
    while cursor + length <= ends_at:
        overlapping = [end for start, end in pauses if start < cursor + length and cursor < end]
        if overlapping:
            cursor = max(overlapping)  # resume right after the break
            continue
        starts.append(cursor)
        cursor += length
    return starts


def event_slots(sessions: list[Any], timezone: str) -> list[EventSlot]:
    zone = ZoneInfo(timezone)
    ordered = sorted(sessions, key=lambda s: (s.starts_at, str(s.id)))
    first_day = ordered[0].starts_at.astimezone(zone).date() if ordered else None
    slots: list[EventSlot] = []
    for session_number, session in enumerate(ordered, start=1):
        for start in session_slots(session.starts_at, session.ends_at, session.meeting_minutes, session.breaks or []):
            day = (start.astimezone(zone).date() - first_day).days if first_day else 0
            slots.append(
                EventSlot(
                    number=len(slots),
                    session_id=session.id,
                    session_number=session_number,
                    session_name=session.name,
                    starts_at=start,
                    ends_at=start + timedelta(minutes=session.meeting_minutes),
                    tables=session.tables,
                    day=day,
                )
            )
    return slots
