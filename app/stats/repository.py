"""Queries behind the statistics."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.deals.schemas import DealConfirmation
from app.events.schemas import RequestStatus
from app.listings.visibility import names_owner, owner_unit
from app.matching.alerts import NEW_MATCH
from app.models import (
    Deal,
    Event,
    Interest,
    Listing,
    Mandate,
    MeetingRequest,
    Notification,
    Organization,
    ServiceRequest,
)
from app.stats.indicators import DealFact, Period

# The exchange's own country: its organisations are the surveyed units of the statistics.
HOME_COUNTRY = "VN"


def _start(period: Period) -> datetime:
    return datetime(period.start.year, period.start.month, period.start.day, tzinfo=UTC)


def _end(period: Period) -> datetime:
    return datetime(period.end.year, period.end.month, period.end.day, tzinfo=UTC)


# Only deals both sides (or a moderator) confirmed count: one side's word is not a transaction.
COUNTED = Deal.confirmation == DealConfirmation.CONFIRMED.value


async def deal_facts(session: AsyncSession, since: Period) -> list[DealFact]:
    """Facts of every confirmed deal signed from the start of `since` on (the indicators pick their periods)."""
    rows = await session.execute(
        select(
            Deal.signed_on,
            Deal.stage,
            Deal.value_vnd,
            Deal.ip_transferred,
            Deal.origin,
            Deal.developed_economy,
            Deal.broker_organization_id,
            Deal.field,
            Deal.confidential,
        ).where(Deal.signed_on >= since.start, COUNTED)
    )
    return [
        DealFact(
            signed_on=row[0],
            stage=row[1],
            value_vnd=row[2],
            ip_transferred=row[3],
            origin=row[4],
            developed_economy=row[5],
            broker_organization_id=str(row[6]) if row[6] else None,
            field=row[7],
            confidential=row[8],
        )
        for row in rows
    ]


async def active_intermediaries(session: AsyncSession, period: Period) -> tuple[int, int]:
    """(intermediaries, networks) that brokered a deal signed in the period, held a mandate during it or
    delivered a service (appraisal, valuation, legal …) in it."""
    brokered = select(Deal.broker_organization_id).where(
        Deal.broker_organization_id.is_not(None),
        Deal.stage != "cancelled",
        COUNTED,
        Deal.signed_on >= period.start,
        Deal.signed_on < period.end,
    )
    mandated = select(Mandate.broker_organization_id).where(
        Mandate.created_at < _end(period),
        or_(Mandate.revoked_at.is_(None), Mandate.revoked_at >= _start(period)),
        or_(Mandate.valid_until.is_(None), Mandate.valid_until >= _start(period)),
    )
    served = select(ServiceRequest.provider_organization_id).where(
        ServiceRequest.provider_organization_id.is_not(None),
        ServiceRequest.delivered_at >= _start(period),
        ServiceRequest.delivered_at < _end(period),
    )
    rows = await session.execute(
        select(Organization.is_network, func.count())
        .where(
            Organization.kind == "intermediary",
            or_(Organization.id.in_(brokered), Organization.id.in_(mandated), Organization.id.in_(served)),
        )
        .group_by(Organization.is_network)
    )
    counts = {bool(row[0]): int(row[1]) for row in rows}
    return counts.get(False, 0), counts.get(True, 0)


async def interests_in(session: AsyncSession, period: Period) -> list[Interest]:
    statement = select(Interest).where(Interest.created_at >= _start(period), Interest.created_at < _end(period))
    return list((await session.scalars(statement)).all())


async def match_alerts_in(session: AsyncSession, period: Period) -> int:
    """Matches the exchange sent to owners (alert notifications) in the period."""
    statement = (
        select(func.count())
        .select_from(Notification)
        .where(
            Notification.kind == NEW_MATCH,
            Notification.created_at >= _start(period),
            Notification.created_at < _end(period),
        )
    )
    return int(await session.scalar(statement) or 0)


async def meetings_in(session: AsyncSession, period: Period) -> int:
    """Accepted meetings placed in a published schedule of an event that starts in the period."""
    statement = (
        select(func.count())
        .select_from(MeetingRequest)
        .join(Event, MeetingRequest.event_id == Event.id)
        .where(
            MeetingRequest.status == RequestStatus.ACCEPTED.value,
            MeetingRequest.published_slot.is_not(None),
            Event.starts_at >= _start(period),
            Event.starts_at < _end(period),
        )
    )
    return int(await session.scalar(statement) or 0)


async def deals_from_interests(session: AsyncSession, interest_ids: list) -> int:
    if not interest_ids:
        return 0
    statement = (
        select(func.count())
        .select_from(Deal)
        .where(Deal.interest_id.in_(interest_ids), Deal.stage != "cancelled", COUNTED)
    )
    return int(await session.scalar(statement) or 0)


async def listing_table(session: AsyncSession, kind: str) -> list[tuple[str, str, int, int, int]]:
    """(field, status, listings, owners, proposed for the city) for every field and status."""
    rows = await session.execute(
        select(
            Listing.field,
            Listing.status,
            func.count(),
            func.count(func.distinct(owner_unit())),
            func.count().filter(and_(Listing.proposed_for_city.is_(True))),
        )
        .where(Listing.kind == kind)
        .group_by(Listing.field, Listing.status)
        .order_by(Listing.field, Listing.status)
    )
    return [(row[0], row[1], int(row[2]), int(row[3]), int(row[4])) for row in rows]


async def owners_by_field(session: AsyncSession, kind: str) -> dict[str, tuple[int, int]]:
    """(domestic, foreign) organisations per field that own a listing naming them.

    Domestic units are the city's surveyed institutes, universities and enterprises; suppliers
    abroad are counted apart. An anonymous listing's owner is not counted: counting it (or the
    listing as a unit of its own) would tell, by difference, whether it also lists publicly.
    """
    organization_id = Listing.organization_id
    rows = await session.execute(
        select(
            Listing.field,
            func.count(func.distinct(case((Organization.country == HOME_COUNTRY, organization_id)))),
            func.count(func.distinct(case((Organization.country != HOME_COUNTRY, organization_id)))),
        )
        .join(Organization, Organization.id == organization_id)
        .where(Listing.kind == kind, names_owner())
        .group_by(Listing.field)
    )
    return {row[0]: (int(row[1]), int(row[2])) for row in rows}


async def deals_detail(session: AsyncSession, period: Period) -> list[Deal]:
    statement = (
        select(Deal)
        .where(Deal.signed_on >= period.start, Deal.signed_on < period.end, COUNTED)
        .order_by(Deal.signed_on, Deal.reference)
    )
    return list((await session.scalars(statement)).all())
