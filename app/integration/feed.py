"""The change feed (OAI-PMH-like): each public record once, at the position of its latest change.

Positions are the outbox's ids, so the feed is ordered by commit of the change, never skips a record
that changes while a client pages (it moves to a later position), and is resumable from any entry's
cursor. A record that is no longer public (withdrawn, expired, deleted) appears as a tombstone.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from typing import Any

from fastapi.exceptions import RequestValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from app.integration import repository
from app.integration.public import is_public, listing_record, organization_record
from app.integration.schemas import FeedEntry, FeedRecordType
from app.pagination import Page, PageParams, encode_cursor
from app.search.index_config import DEMANDS, OFFERS, ORGANIZATIONS

TYPE_OF_INDEX = {
    OFFERS: FeedRecordType.OFFER,
    DEMANDS: FeedRecordType.DEMAND,
    ORGANIZATIONS: FeedRecordType.ORGANIZATION,
}
PATH_OF_TYPE = {
    FeedRecordType.OFFER: "offers",
    FeedRecordType.DEMAND: "demands",
    FeedRecordType.ORGANIZATION: "organizations",
}


def feed_cursor(position: int) -> str:
    return encode_cursor({"s": position})


def feed_position(cursor: str | None) -> int:
    """The position a cursor resumes after (0: the beginning)."""
    if cursor is None:
        return 0
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if isinstance(data, dict) and isinstance(data.get("s"), int) and data["s"] >= 0:
            return int(data["s"])
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        pass
    raise RequestValidationError(
        [{"loc": ("query", "cursor"), "msg": "not a cursor of this feed", "type": "cursor_invalid"}]
    )


async def changes(
    session: AsyncSession,
    base_url: str,
    *,
    cursor: str | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
) -> Page[FeedEntry]:
    after = feed_position(cursor)
    rows, total = await repository.changes_page(session, after, since, until, limit)
    listings = await repository.listings_with_owners(
        session, [record_id for index, record_id, _, _ in rows if index != ORGANIZATIONS]
    )
    organizations = await repository.organizations(
        session, [record_id for index, record_id, _, _ in rows if index == ORGANIZATIONS]
    )
    entries = []
    for index, record_id, position, changed_at in rows:
        kind = TYPE_OF_INDEX[index]
        record: dict[str, Any] | None = None
        updated_at = changed_at
        if kind is FeedRecordType.ORGANIZATION:
            if record_id in organizations:
                organization = organizations[record_id]
                record, updated_at = organization_record(organization), organization.updated_at
        elif record_id in listings and is_public(listings[record_id][0]):
            listing, owner = listings[record_id]
            record, updated_at = listing_record(listing, owner), listing.updated_at
        entries.append(
            FeedEntry(
                id=record_id,
                type=kind,
                updated_at=max(updated_at, changed_at) if record is None else updated_at,
                deleted=record is None,
                url=f"{base_url}/api/v1/{PATH_OF_TYPE[kind]}/{record_id}",
                cursor=feed_cursor(position),
                record=record,
            )
        )
    next_cursor = feed_cursor(rows[-1][2]) if len(rows) < total else None
    page = Page[FeedEntry].of(entries, total, PageParams(page=1, limit=limit, after=None))
    return page.model_copy(update={"page": None, "next_cursor": next_cursor})
