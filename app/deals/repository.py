"""Queries on interests and deals."""

from __future__ import annotations

import uuid

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Deal, Interest, InterestMessage, Listing
from app.pagination import Keyset, PageParams, paginate, paginate_keyset


async def get_interest(session: AsyncSession, interest_id: uuid.UUID, *, lock: bool = False) -> Interest | None:
    """`lock` holds the row (`FOR UPDATE`) until commit: concurrent answers are decided one after the other."""
    return await session.get(Interest, interest_id, with_for_update=lock or None, populate_existing=lock)


async def open_interest(session: AsyncSession, listing_id: uuid.UUID, organization_id: uuid.UUID) -> Interest | None:
    statement = select(Interest).where(
        Interest.listing_id == listing_id,
        Interest.from_organization_id == organization_id,
        Interest.status.in_(("pending", "accepted")),
    )
    return (await session.scalars(statement.limit(1))).first()


async def list_interests(
    session: AsyncSession,
    organization_id: uuid.UUID | None,
    role: str | None,
    status: list[str] | None,
    page: PageParams,
) -> tuple[list[Interest], int]:
    """Interests the organisation sent or received (`role`); all of them when `organization_id` is None."""
    statement = select(Interest).order_by(Interest.created_at.desc(), Interest.id)
    if organization_id is not None:
        sent, received = Interest.from_organization_id == organization_id, Interest.listing_owner_id == organization_id
        statement = statement.where(sent if role == "sent" else received if role == "received" else or_(sent, received))
    if status:
        statement = statement.where(Interest.status.in_(status))
    return await paginate(session, statement, page)


async def messages(
    session: AsyncSession, interest_id: uuid.UUID, page: PageParams
) -> tuple[list[InterestMessage], int, Keyset | None]:
    statement = select(InterestMessage).where(InterestMessage.interest_id == interest_id)
    key = (InterestMessage.created_at, InterestMessage.id)
    return await paginate_keyset(session, statement, page, key, descending=False)


async def anonymous_listings(session: AsyncSession, listing_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    if not listing_ids:
        return set()
    statement = select(Listing.id).where(Listing.id.in_(listing_ids), Listing.visibility == "anonymous")
    return set((await session.scalars(statement)).all())


async def get_listing(session: AsyncSession, listing_id: uuid.UUID) -> Listing | None:
    return await session.get(Listing, listing_id)


async def get_deal(session: AsyncSession, deal_id: uuid.UUID, *, lock: bool = False) -> Deal | None:
    return await session.get(Deal, deal_id, with_for_update=lock or None, populate_existing=lock)


async def list_deals(
    session: AsyncSession,
    organization_id: uuid.UUID | None,
    stage: list[str] | None,
    page: PageParams,
    confirmation: list[str] | None = None,
) -> tuple[list[Deal], int]:
    """Deals the organisation is a party or broker to; all of them when `organization_id` is None."""
    statement = select(Deal).order_by(Deal.created_at.desc(), Deal.id)
    if organization_id is not None:
        statement = statement.where(
            or_(
                Deal.supplier_organization_id == organization_id,
                Deal.buyer_organization_id == organization_id,
                Deal.broker_organization_id == organization_id,
            )
        )
    if stage:
        statement = statement.where(Deal.stage.in_(stage))
    if confirmation:
        statement = statement.where(Deal.confirmation.in_(confirmation))
    return await paginate(session, statement, page)
