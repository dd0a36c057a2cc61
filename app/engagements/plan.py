"""The follow-up plan a deal gets when it is signed (kept apart so the deals service can call it)."""

from __future__ import annotations

import calendar
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Deal, DealCheckIn, DealMilestone

MILESTONES = ("delivery", "installation", "training", "acceptance")
CHECK_IN_MONTHS = (3, 6, 12)


def add_months(day: date, months: int) -> date:
    """The same day `months` later, or the month's last day when it is shorter (31 Aug + 6 → 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def plan(session: AsyncSession, deal: Deal) -> None:
    """Add the milestones and check-ins of a deal that has just been signed."""
    assert deal.signed_on is not None
    for position, kind in enumerate(MILESTONES):
        session.add(DealMilestone(deal_id=deal.id, kind=kind, position=position))
    for month in CHECK_IN_MONTHS:
        session.add(DealCheckIn(deal_id=deal.id, month=month, due_on=add_months(deal.signed_on, month)))
