"""Queries on service requests, quotes, valuations and the follow-up of deals."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import (
    CheckInReport,
    Deal,
    DealCheckIn,
    DealMilestone,
    Listing,
    Organization,
    ServiceQuote,
    ServiceRequest,
    Valuation,
)
from app.pagination import PageParams, paginate

LIVE = ("open", "quoted")


async def get_request(session: AsyncSession, request_id: uuid.UUID, *, lock: bool = False) -> ServiceRequest | None:
    return await session.get(ServiceRequest, request_id, with_for_update=lock or None, populate_existing=lock)


async def organization_kind(session: AsyncSession, organization_id: uuid.UUID) -> str | None:
    return (await session.scalars(select(Organization.kind).where(Organization.id == organization_id))).first()


async def quotes(session: AsyncSession, request_ids: list[uuid.UUID]) -> list[ServiceQuote]:
    if not request_ids:
        return []
    statement = (
        select(ServiceQuote)
        .where(ServiceQuote.service_request_id.in_(request_ids))
        .order_by(ServiceQuote.created_at, ServiceQuote.id)
    )
    return list((await session.scalars(statement)).all())


async def get_quote(session: AsyncSession, request_id: uuid.UUID, quote_id: uuid.UUID) -> ServiceQuote | None:
    quote = await session.get(ServiceQuote, quote_id, populate_existing=True)
    return quote if quote is not None and quote.service_request_id == request_id else None


async def has_quoted(session: AsyncSession, request_id: uuid.UUID, organization_id: uuid.UUID) -> bool:
    statement = select(
        exists().where(
            ServiceQuote.service_request_id == request_id, ServiceQuote.provider_organization_id == organization_id
        )
    )
    return bool(await session.scalar(statement))


async def submitted_quote(
    session: AsyncSession, request_id: uuid.UUID, organization_id: uuid.UUID
) -> ServiceQuote | None:
    statement = select(ServiceQuote).where(
        ServiceQuote.service_request_id == request_id,
        ServiceQuote.provider_organization_id == organization_id,
        ServiceQuote.status == "submitted",
    )
    return (await session.scalars(statement.limit(1))).first()


async def reject_other_quotes(session: AsyncSession, request_id: uuid.UUID, accepted_id: uuid.UUID) -> None:
    await session.execute(
        update(ServiceQuote)
        .where(
            ServiceQuote.service_request_id == request_id,
            ServiceQuote.id != accepted_id,
            ServiceQuote.status == "submitted",
        )
        .values(status="rejected")
        .execution_options(synchronize_session="fetch")
    )


async def list_requests(
    session: AsyncSession,
    organization_id: uuid.UUID | None,
    role: str | None,
    market: bool,
    status: list[str] | None,
    service_type: list[str] | None,
    now: datetime,
    page: PageParams,
) -> tuple[list[ServiceRequest], int]:
    """Requests of the organisation (`role` requested / provided; both by default), plus the open market
    when `market` (an intermediary); all of them when `organization_id` is None."""
    statement = select(ServiceRequest).order_by(ServiceRequest.created_at.desc(), ServiceRequest.id)
    if organization_id is not None:
        requested = ServiceRequest.requester_organization_id == organization_id
        quoted = ServiceRequest.id.in_(
            select(ServiceQuote.service_request_id).where(ServiceQuote.provider_organization_id == organization_id)
        )
        provided = or_(ServiceRequest.provider_organization_id == organization_id, quoted)
        open_market = ServiceRequest.status.in_(LIVE) & (ServiceRequest.quotes_until > now)
        if role == "requested":
            condition = requested
        elif role == "provided":
            condition = provided
        elif role == "market":
            condition = open_market if market else ServiceRequest.id.is_(None)
        else:
            condition = or_(requested, provided, open_market) if market else or_(requested, provided)
        statement = statement.where(condition)
    elif role == "market":
        statement = statement.where(ServiceRequest.status.in_(LIVE))
    if status:
        statement = statement.where(ServiceRequest.status.in_(status))
    if service_type:
        statement = statement.where(ServiceRequest.service_type.in_(service_type))
    return await paginate(session, statement, page)


async def expire_requests(session: AsyncSession, now: datetime) -> int:
    result = await session.execute(
        update(ServiceRequest)
        .where(ServiceRequest.status.in_(LIVE), ServiceRequest.quotes_until <= now)
        .values(status="expired", version=ServiceRequest.version + 1, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


# Valuations


async def get_valuation(session: AsyncSession, valuation_id: uuid.UUID) -> Valuation | None:
    return await session.get(Valuation, valuation_id)


async def list_valuations(
    session: AsyncSession, organization_id: uuid.UUID | None, page: PageParams
) -> tuple[list[Valuation], int]:
    statement = select(Valuation).order_by(Valuation.created_at.desc(), Valuation.id)
    if organization_id is not None:
        statement = statement.where(Valuation.organization_id == organization_id)
    return await paginate(session, statement, page)


async def comparable_deals(session: AsyncSession, field: str) -> list[tuple[list[str], Decimal]]:
    """Confirmed signed deals of a field with a value: their offer's concepts and their value in VND."""
    statement = (
        select(Listing.concepts, Deal.value_vnd)
        .select_from(Deal)
        .outerjoin(Listing, Listing.id == Deal.offer_id)
        .where(
            Deal.field == field,
            Deal.confirmation == "confirmed",
            Deal.signed_on.is_not(None),
            Deal.stage.in_(("signed", "in_progress", "completed")),
            Deal.value_vnd.is_not(None),
        )
    )
    rows = (await session.execute(statement)).all()
    return [(list(concepts or []), value) for concepts, value in rows if value is not None]


# Follow-up


async def milestones(session: AsyncSession, deal_id: uuid.UUID) -> list[DealMilestone]:
    statement = select(DealMilestone).where(DealMilestone.deal_id == deal_id).order_by(DealMilestone.position)
    return list((await session.scalars(statement)).all())


async def check_ins(session: AsyncSession, deal_id: uuid.UUID) -> list[DealCheckIn]:
    statement = select(DealCheckIn).where(DealCheckIn.deal_id == deal_id).order_by(DealCheckIn.month)
    return list((await session.scalars(statement)).all())


async def reports(session: AsyncSession, check_in_ids: list[uuid.UUID]) -> list[CheckInReport]:
    if not check_in_ids:
        return []
    statement = select(CheckInReport).where(CheckInReport.check_in_id.in_(check_in_ids))
    return list((await session.scalars(statement)).all())


async def overdue_check_ins(session: AsyncSession, before: date) -> list[tuple[DealCheckIn, Deal, set[str]]]:
    """Check-ins due before `before`, not yet notified, of deals not cancelled, where a party has not
    reported; each with its deal and the sides that reported."""
    statement = (
        select(DealCheckIn, Deal)
        .join(Deal, Deal.id == DealCheckIn.deal_id)
        .where(
            DealCheckIn.due_on < before,
            DealCheckIn.overdue_notified_at.is_(None),
            Deal.stage != "cancelled",
        )
        .order_by(DealCheckIn.due_on, DealCheckIn.id)
        .with_for_update(of=DealCheckIn, skip_locked=True)
    )
    rows = (await session.execute(statement)).all()
    sides: dict[uuid.UUID, set[str]] = {}
    for report in await reports(session, [row[0].id for row in rows]):
        sides.setdefault(report.check_in_id, set()).add(report.side)
    return [
        (check_in, deal, sides.get(check_in.id, set()))
        for check_in, deal in rows
        if len(sides.get(check_in.id, ())) < 2
    ]
