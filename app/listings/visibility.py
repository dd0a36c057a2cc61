"""The one rule for anonymous listings: who may learn who owns them.

An anonymous listing shows its owner to the owner's organisation, to moderators, and to an
organisation whose expression of interest the owner accepted — to nobody else, by no route.
Read models ask `owner_visible` when a listing becomes a payload; queries that filter, join or
count listings by owner add `owner_disclosed_to` (for one caller), `names_owner` (for results that
stand for an organisation: organisation matches, event proposals and suggestions) or count
`owner_unit` (statistics);
inputs that tie a listing to an owner (deals, event registrations) ask `owner_known_to`, and refuse
every listing whose owner the caller may not know with one answer, whoever the owner is.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ColumnElement, case, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.authorization import actor_for_organization
from app.accounts.permissions import Permission, Principal
from app.errors import PermissionDeniedError
from app.models import Interest, Listing

ANONYMOUS = "anonymous"
ACCEPTED = "accepted"


def owner_visible(listing: Any, principal: Principal | None, revealed: bool = False) -> bool:
    """Whether `principal` may see who owns `listing`; `revealed` when the owner accepted its interest."""
    if listing.visibility != ANONYMOUS or revealed:
        return True
    return principal is not None and (
        principal.organization_id == listing.organization_id or principal.has(Permission.MODERATE_RECORDS)
    )


def names_owner() -> ColumnElement[bool]:
    """Listings that name their owner to everyone: the only ones that may stand for an organisation."""
    return Listing.visibility != ANONYMOUS


def owner_unit() -> ColumnElement[Any]:
    """What a count of distinct owners counts: the owner of a listing that names it, and each anonymous
    listing as a unit of its own — counting its real owner would tell, by difference with the public
    listings, whether it belongs to an organisation that also lists publicly."""
    return case((names_owner(), Listing.organization_id), else_=Listing.id)


def owner_disclosed_to(principal: Principal | None) -> ColumnElement[bool]:
    """Listings whose owner `principal` may see, as a condition for queries that filter or join by owner."""
    if principal is None:
        return names_owner()
    if principal.has(Permission.MODERATE_RECORDS):
        return true()
    accepted = select(Interest.listing_id).where(
        Interest.from_organization_id == principal.organization_id, Interest.status == ACCEPTED
    )
    return names_owner() | (Listing.organization_id == principal.organization_id) | Listing.id.in_(accepted)


async def revealed_to(
    session: AsyncSession, principal: Principal | None, listing_ids: list[uuid.UUID]
) -> set[uuid.UUID]:
    """The listings among `listing_ids` whose owner accepted the caller's interest."""
    if principal is None or not listing_ids:
        return set()
    statement = select(Interest.listing_id).where(
        Interest.from_organization_id == principal.organization_id,
        Interest.status == ACCEPTED,
        Interest.listing_id.in_(listing_ids),
    )
    return set((await session.scalars(statement)).all())


async def owner_known_to(session: AsyncSession, principal: Principal | None, listing: Any) -> bool:
    """Whether the caller may name this listing's owner in what it writes (a deal, an event registration):
    `owner_visible`, an accepted interest, or acting for the owner under its mandate."""
    if owner_visible(listing, principal):
        return True
    if principal is None:
        return False
    if listing.id in await revealed_to(session, principal, [listing.id]):
        return True
    try:
        await actor_for_organization(session, principal, listing.organization_id)
    except PermissionDeniedError:
        return False
    return True
