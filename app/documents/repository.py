"""Queries on documents."""

from __future__ import annotations

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Document, Listing, Organization, ServiceRequest


async def storage_keys_deleted_with(session: AsyncSession, owner: Listing | Organization) -> list[str]:
    """The storage keys of the documents whose rows the database deletes with `owner` (`ondelete="CASCADE"`)."""
    goes_with: ColumnElement[bool]
    if isinstance(owner, Listing):
        goes_with = Document.listing_id == owner.id
    else:
        # the service requests an organisation made go with it, and so do the documents their providers attached
        requested = select(ServiceRequest.id).where(ServiceRequest.requester_organization_id == owner.id)
        goes_with = or_(Document.organization_id == owner.id, Document.service_request_id.in_(requested))
    return list((await session.scalars(select(Document.storage_key).where(goes_with))).all())
