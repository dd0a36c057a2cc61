"""The one write path of imported and harvested records: idempotent on the external key (source, external_id).

Bulk imports and harvests both call `save_organization` / `save_listing` with validated column values;
a record whose key exists is updated (or skipped, or duplicated, as the duplicate policy says), so the
same file or the same feed page applied twice changes nothing the second time. Every write is audited
with its source and announced on the outbox like any other change.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.audit.service import Actor, AuditAction
from app.experts.schemas import ExpertCreate
from app.experts.service import expert_inferred_concepts, profile_values
from app.integration import repository
from app.listings import repository as listing_repository
from app.listings.schemas import ORIGIN_OF_OWNER, ListingKind, ListingStatus, OriginKind
from app.listings.service import REFERENCE_PREFIX, inferred_concepts_of
from app.models import Expert, Listing, Organization
from app.models.base import utcnow
from app.organizations.schemas import OrganizationKind
from app.search import outbox
from app.sql import next_counter_value

VALIDITY = timedelta(days=365)
# What the inferred concepts are read from: inferred again only when one of these changed.
TEXT_FIELDS = frozenset({"title", "summary", "description", "translations", "concepts", "organization_id"})


class DuplicatePolicy(StrEnum):
    """What a row whose external key exists does: leave the record, update it, or add another."""

    SKIP = "skip"
    UPDATE = "update"
    NEW = "new"


class Outcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    SKIPPED = "skipped"
    WITHDRAWN = "withdrawn"


@dataclass(frozen=True)
class Provenance:
    source: str
    external_id: str | None
    origin_url: str | None = None


class References:
    """Reference numbers reserved a block at a time: one counter update per block, not per record
    (a bulk import of 10,000 listings would otherwise pay 10,000 round trips). Unused numbers of the
    last block are skipped; references stay unique."""

    def __init__(self, block: int = 500) -> None:
        self.block = block
        self.free: dict[str, tuple[int, int]] = {}

    async def next(self, session: AsyncSession, prefix: str) -> int:
        low, high = self.free.get(prefix, (1, 0))
        if low > high:
            high = await next_counter_value(session, prefix, self.block)
            low = high - self.block + 1
        self.free[prefix] = (low + 1, high)
        return low


def _apply(record: Any, values: dict[str, Any]) -> dict[str, list[Any]]:
    """Set the values that differ; returns the audit diff."""
    before = {key: getattr(record, key) for key in values}
    changes = audit.diff(before, values)
    for key in changes:
        setattr(record, key, values[key])
    return changes


async def save_organization(
    session: AsyncSession,
    actor: Actor,
    provenance: Provenance,
    values: dict[str, Any],
    policy: DuplicatePolicy = DuplicatePolicy.UPDATE,
    existing: Organization | None = None,
    looked_up: bool = False,
) -> tuple[Organization, Outcome]:
    """Create or update the organisation of this external key (`looked_up`: `existing` is the caller's lookup)."""
    if not looked_up and provenance.external_id is not None:
        existing = await repository.organization_by_key(session, provenance.source, provenance.external_id)
    if existing is not None and policy is not DuplicatePolicy.NEW:
        if policy is DuplicatePolicy.SKIP:
            return existing, Outcome.SKIPPED
        changes = _apply(existing, {**values, "origin_url": provenance.origin_url})
        if not changes:
            return existing, Outcome.UNCHANGED
        existing.updated_at = utcnow()
        audit.record(
            session,
            actor,
            AuditAction.UPDATE,
            "organization",
            existing.id,
            {**changes, "source": [None, provenance.source]},
        )
        outbox.organization_changed(session, existing.id)
        return existing, Outcome.UPDATED
    organization = Organization(
        id=uuid.uuid4(),
        source=provenance.source,
        external_id=provenance.external_id if existing is None else None,
        origin_url=provenance.origin_url,
        **values,
    )
    session.add(organization)
    audit.record(
        session,
        actor,
        AuditAction.CREATE,
        "organization",
        organization.id,
        audit.snapshot({**values, "source": provenance.source, "external_id": organization.external_id}),
    )
    outbox.organization_changed(session, organization.id)
    return organization, Outcome.CREATED


async def save_listing(
    session: AsyncSession,
    actor: Actor,
    provenance: Provenance,
    kind: ListingKind,
    values: dict[str, Any],
    owner: Organization,
    *,
    status: ListingStatus,
    published_at: datetime | None = None,
    policy: DuplicatePolicy = DuplicatePolicy.UPDATE,
    existing: Listing | None = None,
    looked_up: bool = False,
    references: References | None = None,
) -> tuple[Listing, Outcome]:
    """Create or update the listing of this external key, owned by `owner`, in `status` (`looked_up`:
    `existing` is the caller's lookup). New records are added to the session, flushed by the caller."""
    if not looked_up and provenance.external_id is not None:
        existing = await repository.listing_by_key(session, provenance.source, provenance.external_id)
    now = utcnow()
    values = dict(values)
    values.setdefault("province", owner.province)
    if kind is ListingKind.OFFER:
        values["origin_country"] = values.get("origin_country") or owner.country
        values["origin_kind"] = (
            values.get("origin_kind") or ORIGIN_OF_OWNER.get(OrganizationKind(owner.kind), OriginKind.ENTERPRISE).value
        )
    else:
        values["deployment_province"] = values.get("deployment_province") or values.get("province")
    if values.get("expires_at") is None:
        values["expires_at"] = (
            existing.expires_at if existing is not None and existing.expires_at > now else now + VALIDITY
        )
    values["status"] = status.value
    values["organization_id"] = owner.id
    values["origin_url"] = provenance.origin_url
    if status is ListingStatus.PUBLISHED:
        values["published_at"] = published_at or (existing.published_at if existing is not None else None) or now
    if existing is not None and policy is not DuplicatePolicy.NEW:
        if policy is DuplicatePolicy.SKIP:
            return existing, Outcome.SKIPPED
        changes = _apply(existing, values)
        if changes.keys() & TEXT_FIELDS:
            existing.inferred_concepts = inferred_concepts_of(existing, owner)
        if not changes:
            return existing, Outcome.UNCHANGED
        existing.updated_at = now
        audit.record(
            session,
            actor,
            AuditAction.UPDATE,
            kind.value,
            existing.id,
            {**changes, "source": [None, provenance.source]},
        )
        outbox.listing_changed(session, kind.value, existing.id)
        return existing, Outcome.UPDATED
    prefix = f"{REFERENCE_PREFIX[kind]}-{owner.country}-{now:%Y%m%d}"
    if references is not None:
        number = await references.next(session, prefix)
    else:
        number = await listing_repository.next_reference_number(session, prefix)
    listing = Listing(
        id=uuid.uuid4(),
        kind=kind.value,
        reference=f"{prefix}-{number:04d}",
        country=owner.country,
        source=provenance.source,
        external_id=provenance.external_id if existing is None else None,
        **values,
    )
    listing.inferred_concepts = inferred_concepts_of(listing, owner)
    session.add(listing)
    audit.record(
        session,
        actor,
        AuditAction.CREATE,
        kind.value,
        listing.id,
        audit.snapshot({**values, "source": provenance.source, "external_id": listing.external_id}),
    )
    outbox.listing_changed(session, kind.value, listing.id)
    return listing, Outcome.CREATED


async def save_expert(
    session: AsyncSession,
    actor: Actor,
    provenance: Provenance,
    payload: ExpertCreate,
    owner: Organization,
    policy: DuplicatePolicy = DuplicatePolicy.UPDATE,
    existing: Expert | None = None,
    looked_up: bool = False,
) -> tuple[Expert, Outcome]:
    """Create or update the expert profile of this external key, listed by `owner` (`looked_up`: `existing`
    is the caller's lookup). The row is the whole profile: its visibility choices replace the stored ones."""
    if not looked_up and provenance.external_id is not None:
        existing = await repository.expert_by_key(session, provenance.source, provenance.external_id)
    now = utcnow()
    values = {**profile_values(payload), "organization_id": owner.id}
    if existing is not None and policy is not DuplicatePolicy.NEW:
        if policy is DuplicatePolicy.SKIP:
            return existing, Outcome.SKIPPED
        changes = _apply(existing, values)
        if not changes:
            return existing, Outcome.UNCHANGED
        existing.inferred_concepts = expert_inferred_concepts(existing)
        # As through the API, changing the profile is confirming it is current.
        existing.last_confirmed_at, existing.reminder_sent_at = now, None
        existing.updated_at = now
        audit.record(
            session, actor, AuditAction.UPDATE, "expert", existing.id, {**changes, "source": [None, provenance.source]}
        )
        outbox.expert_changed(session, existing.id)
        return existing, Outcome.UPDATED
    principal = actor.principal
    expert = Expert(
        id=uuid.uuid4(),
        source=provenance.source,
        external_id=provenance.external_id if existing is None else None,
        created_by_account_id=principal.account_id if principal else None,
        last_confirmed_at=now,
        **values,
    )
    expert.inferred_concepts = expert_inferred_concepts(expert)
    session.add(expert)
    audit.record(
        session,
        actor,
        AuditAction.CREATE,
        "expert",
        expert.id,
        audit.snapshot({**values, "source": provenance.source, "external_id": expert.external_id}),
    )
    outbox.expert_changed(session, expert.id)
    return expert, Outcome.CREATED


async def withdraw_listing(session: AsyncSession, actor: Actor, provenance: Provenance) -> Outcome:
    """The source withdrew or deleted the listing: archive our copy (kept for deals that name it)."""
    assert provenance.external_id is not None
    listing = await repository.listing_by_key(session, provenance.source, provenance.external_id)
    if listing is None or listing.status == ListingStatus.ARCHIVED.value:
        return Outcome.UNCHANGED
    before = listing.status
    listing.status = ListingStatus.ARCHIVED.value
    listing.updated_at = utcnow()
    audit.record(
        session,
        actor,
        AuditAction.STATE,
        listing.kind,
        listing.id,
        {"status": [before, ListingStatus.ARCHIVED.value], "source": [None, provenance.source]},
    )
    outbox.listing_changed(session, listing.kind, listing.id)
    return Outcome.WITHDRAWN
