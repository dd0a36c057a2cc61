"""Rules on listings: ownership, lifecycle, optimistic concurrency, visibility of owners."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from app.accounts.authorization import actor_for_organization
from app.accounts.permissions import Permission, Principal
from app.audit import service as audit
from app.audit.service import Actor, AuditAction
from app.documents.cascade import remove_files_with
from app.documents.storage import DocumentStorage
from app.errors import FieldError, InvalidInputError, PermissionDeniedError
from app.listings import repository, visibility
from app.listings.exceptions import (
    InvalidTransitionError,
    ListingNotFoundError,
    PreconditionFailedError,
    PreconditionRequiredError,
    UnknownConceptError,
)
from app.listings.schemas import (
    ORIGIN_OF_OWNER,
    TRL_LABELS,
    DemandCreate,
    DemandRead,
    DemandUpdate,
    ListingFilters,
    ListingKind,
    ListingStatus,
    OfferCreate,
    OfferRead,
    OfferUpdate,
    OriginKind,
    OwnerSummary,
)
from app.listings.texts import listing_texts
from app.listings.visibility import owner_visible
from app.matching import alerts
from app.matching.concepts import infer_concepts
from app.matching.profiles import owner_names
from app.models import Listing, Organization
from app.models.base import utcnow
from app.organizations.schemas import OrganizationKind
from app.organizations.service import organization_service
from app.pagination import PageParams
from app.search import outbox
from app.search.text import without_names
from app.taxonomy.data import get_taxonomy
from app.webhooks import events as webhooks

VALIDITY = timedelta(days=365)
MAX_VALIDITY = timedelta(days=3 * 365)
EXPIRY_WARNING = timedelta(days=14)  # `listing.expiring` goes out this long before the end of validity
REFERENCE_PREFIX = {ListingKind.OFFER: "TO", ListingKind.DEMAND: "TD"}
RECORD_TYPE = {ListingKind.OFFER: "offer", ListingKind.DEMAND: "demand"}

ListingCreate = OfferCreate | DemandCreate
ListingUpdate = OfferUpdate | DemandUpdate


@dataclass(frozen=True)
class Transition:
    """A lifecycle step: who may take it (owner side or moderators) and from which statuses."""

    by_moderator: bool
    moves: dict[ListingStatus, ListingStatus]


TRANSITIONS: dict[str, Transition] = {
    "submit": Transition(
        False, {ListingStatus.DRAFT: ListingStatus.SUBMITTED, ListingStatus.REJECTED: ListingStatus.SUBMITTED}
    ),
    "publish": Transition(True, {ListingStatus.SUBMITTED: ListingStatus.PUBLISHED}),
    "reject": Transition(True, {ListingStatus.SUBMITTED: ListingStatus.REJECTED}),
    "withdraw": Transition(
        False,
        {
            ListingStatus.SUBMITTED: ListingStatus.DRAFT,
            ListingStatus.PUBLISHED: ListingStatus.ARCHIVED,
            ListingStatus.EXPIRED: ListingStatus.ARCHIVED,
        },
    ),
    "renew": Transition(
        False,
        {ListingStatus.PUBLISHED: ListingStatus.PUBLISHED, ListingStatus.EXPIRED: ListingStatus.PUBLISHED},
    ),
}


def effective_status(listing: Listing, now: datetime | None = None) -> ListingStatus:
    """A published listing past `expires_at` is expired, whether or not the sweeper has run."""
    status = ListingStatus(listing.status)
    if status is ListingStatus.PUBLISHED and listing.expires_at <= (now or utcnow()):
        return ListingStatus.EXPIRED
    return status


class Versioned(Protocol):
    """A record with an optimistic-locking version counter (listings, deals, events)."""

    version: int


def etag(listing: Versioned) -> str:
    return f'"{listing.version}"'


def check_if_match(listing: Versioned, if_match: str | None) -> None:
    """`If-Match` is required on changes, so that no write silently overwrites another."""
    if if_match is None:
        raise PreconditionRequiredError("Send If-Match with the ETag of the version you read.")
    candidates = {tag.strip().removeprefix("W/") for tag in if_match.split(",")}
    if "*" not in candidates and etag(listing) not in candidates:
        raise PreconditionFailedError(f"Current version is {etag(listing)}; read it again and retry.")


def validate_concepts(concepts: list[str] | None) -> None:
    unknown = get_taxonomy().unknown_concepts(concepts or [])
    if unknown:
        raise UnknownConceptError(
            f"Unknown concept ids: {', '.join(unknown)}; see /api/v1/taxonomy.",
            errors=[
                FieldError(
                    loc=["body", "concepts", (concepts or []).index(c)],
                    msg=f"unknown concept '{c}'",
                    type="unknown_concept",
                )
                for c in unknown
            ],
        )


def _validate_expiry(expires_at: datetime | None, now: datetime) -> datetime:
    if expires_at is None:
        return now + VALIDITY
    if expires_at.tzinfo is None:
        raise InvalidInputError.for_field(["body", "expires_at"], "must include a time zone", "timezone_aware")
    if expires_at <= now:
        raise InvalidInputError.for_field(["body", "expires_at"], "must be in the future", "value_error")
    if expires_at > now + MAX_VALIDITY:
        raise InvalidInputError.for_field(["body", "expires_at"], "must be within 3 years", "value_error")
    return expires_at


def inferred_concepts_of(listing: Listing, owner: Organization) -> list[str]:
    """Concepts the texts mention (in any language) that the owner did not give; the owner's own name
    does not count (see `without_names`)."""
    texts = [without_names(text, owner_names(owner)) for text in listing_texts(listing).all()]
    own = set(listing.concepts or [])
    return [c for c in infer_concepts(*texts) if c not in own]


def _check_ranges(listing: Listing) -> None:
    for low, high in (("price_min", "price_max"), ("budget_min", "budget_max")):
        low_value, high_value = getattr(listing, low), getattr(listing, high)
        if low_value is not None and high_value is not None and low_value > high_value:
            raise InvalidInputError.for_field(["body", low], f"{low} must not exceed {high}", "value_error")


def _column_values(payload: ListingCreate | ListingUpdate, *, partial: bool) -> dict[str, Any]:
    values = payload.model_dump(mode="json", exclude_unset=partial, exclude={"organization_id"})
    for money in ("price_min", "price_max", "budget_min", "budget_max"):
        if values.get(money) is not None:
            values[money] = getattr(payload, money)
    if "wanted_by" in values and values["wanted_by"] is not None:
        values["wanted_by"] = getattr(payload, "wanted_by")  # noqa: B009 - demands only
    if "expires_at" in values and values["expires_at"] is not None:
        values["expires_at"] = payload.expires_at
    return values


class ListingService:
    async def create(
        self, session: AsyncSession, principal: Principal, kind: ListingKind, payload: ListingCreate
    ) -> tuple[Listing, Organization]:
        organization_id = payload.organization_id or principal.organization_id
        organization = await organization_service.get(session, organization_id)
        actor = await actor_for_organization(session, principal, organization_id)
        validate_concepts(payload.concepts)
        now = utcnow()
        values = _column_values(payload, partial=False)
        values["expires_at"] = _validate_expiry(payload.expires_at, now)
        values["province"] = values.get("province") or organization.province
        if isinstance(payload, OfferCreate):
            values["origin_country"] = values.get("origin_country") or organization.country
            values["origin_kind"] = (
                values.get("origin_kind")
                or ORIGIN_OF_OWNER.get(OrganizationKind(organization.kind), OriginKind.ENTERPRISE).value
            )
        else:
            values["deployment_province"] = values.get("deployment_province") or values["province"]
        prefix = f"{REFERENCE_PREFIX[kind]}-{organization.country}-{now:%Y%m%d}"
        number = await repository.next_reference_number(session, prefix)
        listing = Listing(
            kind=kind.value,
            reference=f"{prefix}-{number:04d}",
            organization_id=organization.id,
            created_by_account_id=principal.account_id,
            status=ListingStatus.DRAFT.value,
            country=organization.country,
            **values,
        )
        listing.inferred_concepts = inferred_concepts_of(listing, organization)
        session.add(listing)
        await session.flush()
        audit.record(session, actor, AuditAction.CREATE, RECORD_TYPE[kind], listing.id, audit.snapshot(values))
        outbox.listing_changed(session, kind.value, listing.id)
        return listing, organization

    async def get_for_viewer(
        self, session: AsyncSession, principal: Principal | None, kind: ListingKind, listing_id: uuid.UUID
    ) -> tuple[Listing, Organization]:
        """Published, unexpired listings are public; the rest only for their owner side and staff."""
        listing = await repository.get(session, kind, listing_id)
        if listing is None:
            raise ListingNotFoundError()
        if effective_status(listing) is not ListingStatus.PUBLISHED:
            if principal is None:
                raise ListingNotFoundError()
            try:
                await actor_for_organization(session, principal, listing.organization_id)
            except PermissionDeniedError:
                raise ListingNotFoundError() from None
        return listing, await organization_service.get(session, listing.organization_id)

    async def _for_change(
        self, session: AsyncSession, principal: Principal, kind: ListingKind, listing_id: uuid.UUID
    ) -> tuple[Listing, Actor]:
        """The listing, locked until commit (its `If-Match` and status checks see the latest change), and the actor."""
        listing = await repository.get(session, kind, listing_id, lock=True)
        if listing is None:
            raise ListingNotFoundError()
        try:
            actor = await actor_for_organization(session, principal, listing.organization_id)
        except PermissionDeniedError:
            if effective_status(listing) is ListingStatus.PUBLISHED:
                raise
            raise ListingNotFoundError() from None  # a stranger learns nothing of unpublished listings
        return listing, actor

    async def list_page(
        self,
        session: AsyncSession,
        principal: Principal | None,
        kind: ListingKind,
        filters: ListingFilters,
        page: PageParams,
    ) -> tuple[list[tuple[Listing, Organization]], int]:
        by_owner = bool(filters.organization_id or filters.owner_kind)
        return await repository.browse(
            session,
            kind,
            filters,
            viewer_organization_id=principal.organization_id if principal else None,
            sees_everything=bool(principal and principal.has(Permission.MODERATE_RECORDS)),
            now=utcnow(),
            page=page,
            # Filtering by owner must not find the anonymous listings of an owner the caller may not know.
            owner_scope=visibility.owner_disclosed_to(principal) if by_owner else None,
        )

    async def update(
        self,
        session: AsyncSession,
        principal: Principal,
        kind: ListingKind,
        listing_id: uuid.UUID,
        payload: ListingUpdate,
        if_match: str | None,
    ) -> tuple[Listing, Organization]:
        listing, actor = await self._for_change(session, principal, kind, listing_id)
        check_if_match(listing, if_match)
        # Read before changing anything: a query after the first change would flush it on its own
        # (a second version step, and a conflict raised outside the 412 mapping).
        owner = await organization_service.get(session, listing.organization_id)
        if listing.status == ListingStatus.ARCHIVED.value:
            raise InvalidTransitionError("Archived listings are read-only; create a new one.")
        values = _column_values(payload, partial=True)
        if "concepts" in values:
            validate_concepts(values["concepts"])
        if "expires_at" in values:
            values["expires_at"] = _validate_expiry(payload.expires_at, utcnow())
        if "translations" in values or "language" in values:
            language = values.get("language", listing.language)
            if language in (values.get("translations") or listing.translations):
                raise InvalidInputError.for_field(
                    ["body", "translations"], "must not repeat the original language", "value_error"
                )
        before = {key: getattr(listing, key) for key in values}
        for key, value in values.items():
            setattr(listing, key, value)
        _check_ranges(listing)
        listing.inferred_concepts = inferred_concepts_of(listing, owner)
        changes = audit.diff(before, values)
        if changes:
            listing.updated_at = utcnow()
            audit.record(session, actor, AuditAction.UPDATE, RECORD_TYPE[kind], listing.id, changes)
            outbox.listing_changed(session, kind.value, listing.id)
            await self._flush(session)
        return listing, owner

    async def delete(
        self,
        session: AsyncSession,
        principal: Principal,
        storage: DocumentStorage,
        kind: ListingKind,
        listing_id: uuid.UUID,
        if_match: str | None,
    ) -> None:
        """Its documents go with it; their files once the deletion is committed."""
        listing, actor = await self._for_change(session, principal, kind, listing_id)
        check_if_match(listing, if_match)
        await remove_files_with(session, storage, listing)
        await session.delete(listing)
        outbox.listing_changed(session, kind.value, listing_id)
        audit.record(
            session,
            actor,
            AuditAction.DELETE,
            RECORD_TYPE[kind],
            listing_id,
            {"reference": [listing.reference, None]},
        )
        await self._flush(session)

    async def transition(
        self,
        session: AsyncSession,
        principal: Principal,
        kind: ListingKind,
        listing_id: uuid.UUID,
        action: str,
        *,
        reason: str | None = None,
        expires_at: datetime | None = None,
        if_match: str | None = None,
    ) -> tuple[Listing, Organization]:
        step = TRANSITIONS[action]
        if step.by_moderator:
            if not principal.has(Permission.MODERATE_RECORDS):
                raise PermissionDeniedError(f"Only moderators {action} listings.")
            listing = await repository.get(session, kind, listing_id, lock=True)
            if listing is None:
                raise ListingNotFoundError()
            actor = Actor(principal)
        else:
            listing, actor = await self._for_change(session, principal, kind, listing_id)
        if if_match is not None:
            check_if_match(listing, if_match)
        owner = await organization_service.get(session, listing.organization_id)
        now = utcnow()
        current = effective_status(listing, now)
        target = step.moves.get(current)
        if target is None:
            allowed = ", ".join(s.value for s in step.moves)
            raise InvalidTransitionError(f"Cannot {action} a {current.value} listing (only from: {allowed}).")
        changes: dict[str, Any] = {"status": [current.value, target.value]}
        if action == "publish":
            if listing.expires_at <= now:
                raise InvalidTransitionError("The listing's validity has passed; set a new expires_at first.")
            listing.published_at = now
        elif action == "submit":
            listing.submitted_at = now
            listing.rejection_reason = None
        elif action == "reject":
            listing.rejection_reason = reason
            changes["rejection_reason"] = [None, reason]
        elif action == "renew":
            new_expiry = _validate_expiry(expires_at, now)
            changes["expires_at"] = [listing.expires_at.isoformat(), new_expiry.isoformat()]
            listing.expires_at = new_expiry
        listing.status = target.value
        listing.updated_at = now
        audit.record(session, actor, AuditAction.STATE, RECORD_TYPE[kind], listing.id, changes)
        outbox.listing_changed(session, kind.value, listing.id)
        await self._flush(session)
        if action == "publish":
            webhooks.emit(session, listing.organization_id, "listing.published", listing.id, kind=listing.kind)
            await alerts.notify_new_listing(session, listing, owner)  # its queries must follow the one flush
        return listing, owner

    async def expire_due(self, session: AsyncSession) -> int:
        """Warn owners of published listings about to expire, and record the expiry of those past their
        validity (the sweeper calls this); returns how many expired."""
        now = utcnow()
        for listing in await repository.due_for_expiry_warning(session, now, EXPIRY_WARNING):
            listing.expiry_warned_for = listing.expires_at
            webhooks.emit(session, listing.organization_id, "listing.expiring", listing.id, kind=listing.kind)
        due = await repository.due_for_expiry(session, now)
        for listing in due:
            listing.status = ListingStatus.EXPIRED.value
            outbox.listing_changed(session, listing.kind, listing.id)
            webhooks.emit(session, listing.organization_id, "listing.expired", listing.id, kind=listing.kind)
            audit.record(
                session,
                Actor.system(),
                AuditAction.STATE,
                RECORD_TYPE[ListingKind(listing.kind)],
                listing.id,
                {"status": [ListingStatus.PUBLISHED.value, ListingStatus.EXPIRED.value]},
            )
        await session.flush()
        return len(due)

    async def retag_page(
        self, session: AsyncSession, after: uuid.UUID | None, limit: int
    ) -> tuple[uuid.UUID | None, int, int]:
        """Infer the concepts of up to `limit` listings after the id `after` again — the taxonomy changed — and
        reindex those whose inferred concepts changed. Returns the last id seen, how many were seen and changed."""
        rows = await repository.page_with_owners(session, after, limit)
        changed = 0
        for listing, owner in rows:
            inferred = inferred_concepts_of(listing, owner)
            if inferred != list(listing.inferred_concepts or []):
                listing.inferred_concepts = inferred
                outbox.listing_changed(session, listing.kind, listing.id)
                changed += 1
        await session.flush()
        return (rows[-1][0].id if rows else None), len(rows), changed

    async def revealed_to(
        self, session: AsyncSession, principal: Principal | None, listing_ids: list[uuid.UUID]
    ) -> set[uuid.UUID]:
        """Anonymous listings whose owner accepted the caller's interest."""
        return await visibility.revealed_to(session, principal, listing_ids)

    @staticmethod
    async def _flush(session: AsyncSession) -> None:
        try:
            await session.flush()
        except StaleDataError:
            raise PreconditionFailedError("The listing was changed by another request; read it again.") from None


listing_service = ListingService()


def present(
    listing: Listing, owner: Organization, principal: Principal | None, revealed: bool = False
) -> OfferRead | DemandRead:
    shown = owner_visible(listing, principal, revealed)
    data = {column.key: getattr(listing, column.key) for column in Listing.__table__.columns}
    data |= {
        "status": effective_status(listing),
        "organization": OwnerSummary.model_validate(owner, from_attributes=True) if shown else None,
        "owner_hidden": not shown,
        "contact": listing.contact if shown else None,
    }
    if listing.kind == ListingKind.OFFER.value:
        data["trl_label"] = TRL_LABELS[listing.trl or 1]
        return OfferRead.model_validate(data)
    return DemandRead.model_validate(data)
