"""Queries of the matching service."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.listings.visibility import names_owner
from app.models import Listing, MatchFeedback, MatchSubscription, Notification, Organization
from app.models.base import utcnow
from app.pagination import Keyset, PageParams, paginate_keyset
from app.sql import upsert


@dataclass(frozen=True)
class CandidateOwner:
    """What a match shows of a candidate's owner."""

    id: uuid.UUID
    name: str
    name_i18n: dict[str, str]
    kind: str
    country: str
    province: str | None
    verified: bool


# What matching scores and shows of a candidate: a search brings a hundred of them, and reading whole
# listings and owners (a dozen JSON columns each) cost more than scoring them.
CANDIDATE_COLUMNS = (
    Listing.id,
    Listing.kind,
    Listing.reference,
    Listing.status,
    Listing.expires_at,
    Listing.visibility,
    Listing.organization_id,
    Listing.language,
    Listing.title,
    Listing.summary,
    Listing.description,
    Listing.translations,
    Listing.languages,
    Listing.field,
    Listing.concepts,
    Listing.inferred_concepts,
    Listing.trl,
    Listing.min_trl,
    Listing.price_min,
    Listing.price_max,
    Listing.budget_min,
    Listing.budget_max,
    Listing.transfer_types,
    Listing.country,
    Listing.province,
    Listing.deployment_province,
    Listing.target_countries,
    Listing.updated_at,
)


async def candidates_with_owners(session: AsyncSession, ids: list[uuid.UUID]) -> list[tuple[Any, CandidateOwner]]:
    """Candidate listings as plain rows of `CANDIDATE_COLUMNS`, each with its owner."""
    if not ids:
        return []
    owner_columns = (
        Organization.name,
        Organization.name_i18n,
        Organization.kind,
        Organization.country,
        Organization.province,
    )
    rows = await session.execute(
        select(*CANDIDATE_COLUMNS, *(c.label(f"owner_{c.key}") for c in owner_columns), Organization.verified)
        .join(Organization, Organization.id == Listing.organization_id)
        .where(Listing.id.in_(ids))
    )
    return [
        (
            row,
            CandidateOwner(
                row.organization_id,
                row.owner_name,
                row.owner_name_i18n,
                row.owner_kind,
                row.owner_country,
                row.owner_province,
                row.verified,
            ),
        )
        for row in rows
    ]


async def listings_with_owners(session: AsyncSession, ids: list[uuid.UUID]) -> list[tuple[Any, Any]]:
    if not ids:
        return []
    rows = await session.execute(
        select(Listing, Organization)
        .join(Organization, Organization.id == Listing.organization_id)
        .where(Listing.id.in_(ids))
    )
    return [(row[0], row[1]) for row in rows]


async def same_field(session: AsyncSession, kind: str, field: str, limit: int) -> list[tuple[Any, Any]]:
    """Fallback candidates when search is down: published listings of the field, newest first."""
    rows = await session.execute(
        select(Listing, Organization)
        .join(Organization, Organization.id == Listing.organization_id)
        .where(Listing.kind == kind, Listing.status == "published", Listing.field == field)
        .order_by(Listing.created_at.desc())
        .limit(limit)
    )
    return [(row[0], row[1]) for row in rows]


async def published_of(session: AsyncSession, organization_id: uuid.UUID) -> list[tuple[Any, Any]]:
    """The organisation's published listings that name it: an anonymous one never stands for its owner."""
    rows = await session.execute(
        select(Listing, Organization)
        .join(Organization, Organization.id == Listing.organization_id)
        .where(Listing.organization_id == organization_id, Listing.status == "published", names_owner())
    )
    return [(row[0], row[1]) for row in rows]


async def feedback(session: AsyncSession, listing_id: uuid.UUID) -> dict[uuid.UUID, str]:
    rows = await session.execute(
        select(MatchFeedback.candidate_id, MatchFeedback.action).where(MatchFeedback.listing_id == listing_id)
    )
    return {row[0]: row[1] for row in rows}


async def set_feedback(
    session: AsyncSession, listing_id: uuid.UUID, candidate_id: uuid.UUID, action: str | None
) -> None:
    """Set (or with None clear) the owner's word on a candidate; a repeated or concurrent PUT is no conflict."""
    if action is None:
        await session.execute(
            delete(MatchFeedback).where(
                MatchFeedback.listing_id == listing_id, MatchFeedback.candidate_id == candidate_id
            )
        )
        return
    values = {
        "id": uuid.uuid4(),
        "listing_id": listing_id,
        "candidate_id": candidate_id,
        "action": action,
        "created_at": utcnow(),
    }
    await upsert(session, MatchFeedback, values, key=["listing_id", "candidate_id"], update=["action", "created_at"])


async def active_subscriptions(session: AsyncSession, kind: str) -> list[MatchSubscription]:
    statement = select(MatchSubscription).where(MatchSubscription.active.is_(True), MatchSubscription.kind == kind)
    return list((await session.scalars(statement)).all())


async def subscriptions_of(session: AsyncSession, organization_id: uuid.UUID) -> list[MatchSubscription]:
    statement = (
        select(MatchSubscription)
        .where(MatchSubscription.organization_id == organization_id)
        .order_by(MatchSubscription.created_at.desc())
    )
    return list((await session.scalars(statement)).all())


async def get_subscription(session: AsyncSession, subscription_id: uuid.UUID) -> MatchSubscription | None:
    return await session.get(MatchSubscription, subscription_id)


async def notifications_of(
    session: AsyncSession, organization_id: uuid.UUID, unread_only: bool, page: PageParams
) -> tuple[list[Notification], int, Keyset | None]:
    statement = select(Notification).where(Notification.organization_id == organization_id)
    if unread_only:
        statement = statement.where(Notification.read_at.is_(None))
    return await paginate_keyset(session, statement, page, (Notification.created_at, Notification.id), descending=True)


async def get_notification(session: AsyncSession, notification_id: uuid.UUID) -> Notification | None:
    return await session.get(Notification, notification_id)
