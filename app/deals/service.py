"""Rules on expressions of interest and deals."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from app.accounts.authorization import actor_for_organization
from app.accounts.permissions import Permission, Principal
from app.audit import service as audit
from app.audit.service import Actor, AuditAction
from app.deals import repository
from app.deals.reference import developed_economies, vnd_rate
from app.deals.schemas import (
    DealConfirmation,
    DealCreate,
    DealOrigin,
    DealStage,
    DealUpdate,
    InterestCreate,
    InterestDecline,
    InterestRead,
    InterestStatus,
    MessageRead,
)
from app.engagements.plan import plan as plan_follow_up
from app.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from app.listings.exceptions import InvalidTransitionError, ListingNotFoundError, PreconditionFailedError
from app.listings.schemas import ListingStatus, OriginKind
from app.listings.service import check_if_match, effective_status
from app.listings.visibility import owner_known_to
from app.mandates import repository as mandate_repository
from app.models import Deal, Interest, InterestMessage, Listing, Notification
from app.models.base import utcnow
from app.organizations.schemas import OrganizationKind
from app.organizations.service import organization_service
from app.pagination import Keyset, PageParams
from app.sql import next_counter_value
from app.webhooks import events as webhooks


class InterestNotFoundError(NotFoundError):
    code = "InterestNotFound"
    title = "Interest not found"


class InterestExistsError(ConflictError):
    code = "InterestExists"
    title = "Your organisation already has an open interest in this listing"


class DealNotFoundError(NotFoundError):
    code = "DealNotFound"
    title = "Deal not found"


class NotADealPartyError(PermissionDeniedError):
    code = "NotADealParty"
    title = "Only the parties, their mandated brokers and moderators confirm a deal"


# Terms the statistics are computed from: changing one asks the other side to confirm again.
MATERIAL_TERMS = frozenset(
    {"deal_type", "field", "value", "currency", "vnd_rate", "ip_transferred", "origin", "origin_country"}
)
DEAL_TO_CONFIRM = "deal_to_confirm"  # notification: the other side recorded or changed a deal naming you
DEAL_CONFIRMED = "deal_confirmed"  # notification: the deal now counts in the statistics


STAGE_MOVES: dict[DealStage, set[DealStage]] = {
    DealStage.NEGOTIATING: {DealStage.SIGNED, DealStage.CANCELLED},
    DealStage.SIGNED: {DealStage.IN_PROGRESS, DealStage.COMPLETED, DealStage.CANCELLED},
    DealStage.IN_PROGRESS: {DealStage.COMPLETED, DealStage.CANCELLED},
    DealStage.COMPLETED: set(),
    DealStage.CANCELLED: set(),
}
STAGE_DATE = {
    DealStage.SIGNED: "signed_on",
    DealStage.IN_PROGRESS: "started_on",
    DealStage.COMPLETED: "completed_on",
    DealStage.CANCELLED: "cancelled_on",
}
ORIGIN_OF_LISTING = {
    OriginKind.INSTITUTE_UNIVERSITY.value: DealOrigin.DOMESTIC_INSTITUTE_UNIVERSITY,
    OriginKind.ENTERPRISE.value: DealOrigin.DOMESTIC_ENTERPRISE,
    OriginKind.IMPORTED.value: DealOrigin.IMPORTED,
}


async def _may_act_for_any(
    session: AsyncSession, principal: Principal, organization_ids: list[uuid.UUID | None]
) -> Actor | None:
    """The actor when the principal may act for one of these organisations, else None."""
    for organization_id in organization_ids:
        if organization_id is None:
            continue
        try:
            return await actor_for_organization(session, principal, organization_id)
        except PermissionDeniedError:
            continue
    return None


class InterestService:
    async def create(self, session: AsyncSession, principal: Principal, payload: InterestCreate) -> Interest:
        listing = await repository.get_listing(session, payload.listing_id)
        if listing is None or effective_status(listing) is not ListingStatus.PUBLISHED:
            raise ListingNotFoundError()
        if listing.organization_id == principal.organization_id:
            raise InvalidInputError.for_field(["body", "listing_id"], "this is your own listing", "own_listing")
        if await repository.open_interest(session, listing.id, principal.organization_id):
            raise InterestExistsError()
        interest = Interest(
            listing_id=listing.id,
            listing_owner_id=listing.organization_id,
            from_organization_id=principal.organization_id,
            created_by_account_id=principal.account_id,
            message=payload.message,
            status=InterestStatus.PENDING.value,
        )
        session.add(interest)
        await session.flush()
        audit.record(
            session,
            Actor(principal),
            AuditAction.CREATE,
            "interest",
            interest.id,
            audit.snapshot({"listing_id": listing.id, "status": interest.status}),
        )
        webhooks.emit(session, listing.organization_id, "interest.received", interest.id, listing_id=listing.id)
        return interest

    async def get(
        self, session: AsyncSession, principal: Principal, interest_id: uuid.UUID, *, lock: bool = False
    ) -> Interest:
        """The two parties, their mandated brokers and moderators see an interest and its thread; others get 404.
        `lock` holds it until commit, so that concurrent answers see each other's result."""
        interest = await repository.get_interest(session, interest_id, lock=lock)
        if interest is None:
            raise InterestNotFoundError()
        parties = [interest.from_organization_id, interest.listing_owner_id]
        if await _may_act_for_any(session, principal, list(parties)) is None:
            raise InterestNotFoundError()
        return interest

    async def list_page(
        self,
        session: AsyncSession,
        principal: Principal,
        role: str | None,
        status: list[str] | None,
        page: PageParams,
    ) -> tuple[list[Interest], int]:
        scope = None if principal.is_staff and role is None else principal.organization_id
        return await repository.list_interests(session, scope, role, status, page)

    async def _decide(
        self,
        session: AsyncSession,
        principal: Principal,
        interest_id: uuid.UUID,
        status: InterestStatus,
        reason: str | None = None,
    ) -> Interest:
        interest = await self.get(session, principal, interest_id, lock=True)
        actor = await actor_for_organization(session, principal, interest.listing_owner_id)
        if interest.status != InterestStatus.PENDING.value:
            raise InvalidTransitionError(f"The interest is {interest.status}; only pending interests are answered.")
        interest.status, interest.decline_reason, interest.decided_at = status.value, reason, utcnow()
        audit.record(
            session,
            actor,
            AuditAction.STATE,
            "interest",
            interest.id,
            {
                "status": [InterestStatus.PENDING.value, status.value],
                **({"decline_reason": [None, reason]} if reason else {}),
            },
        )
        await session.flush()
        return interest

    async def accept(self, session: AsyncSession, principal: Principal, interest_id: uuid.UUID) -> Interest:
        """The owner accepts: for an anonymous listing, the owner becomes visible to that party only."""
        interest = await self._decide(session, principal, interest_id, InterestStatus.ACCEPTED)
        webhooks.emit(
            session, interest.from_organization_id, "interest.accepted", interest.id, listing_id=interest.listing_id
        )
        return interest

    async def decline(
        self, session: AsyncSession, principal: Principal, interest_id: uuid.UUID, payload: InterestDecline
    ) -> Interest:
        interest = await self._decide(session, principal, interest_id, InterestStatus.DECLINED, payload.reason.value)
        if payload.message:
            self._add_message(session, interest, principal, payload.message)
        return interest

    async def withdraw(self, session: AsyncSession, principal: Principal, interest_id: uuid.UUID) -> Interest:
        interest = await self.get(session, principal, interest_id, lock=True)
        actor = await actor_for_organization(session, principal, interest.from_organization_id)
        if interest.status != InterestStatus.PENDING.value:
            raise InvalidTransitionError(f"The interest is {interest.status}; only pending interests are withdrawn.")
        interest.status = InterestStatus.WITHDRAWN.value
        audit.record(session, actor, AuditAction.STATE, "interest", interest.id, {"status": ["pending", "withdrawn"]})
        await session.flush()
        return interest

    async def thread(
        self, session: AsyncSession, principal: Principal, interest_id: uuid.UUID, page: PageParams
    ) -> tuple[Interest, tuple[list[InterestMessage], int, Keyset | None]]:
        interest = await self.get(session, principal, interest_id)
        return interest, await repository.messages(session, interest_id, page)

    async def post_message(
        self, session: AsyncSession, principal: Principal, interest_id: uuid.UUID, body: str
    ) -> tuple[Interest, InterestMessage]:
        interest = await self.get(session, principal, interest_id)
        if principal.organization_id not in (interest.from_organization_id, interest.listing_owner_id):
            raise PermissionDeniedError("Only the two parties write in the thread.")
        if interest.status not in (InterestStatus.PENDING.value, InterestStatus.ACCEPTED.value):
            raise InvalidTransitionError(f"The interest is {interest.status}; its thread is closed.")
        message = self._add_message(session, interest, principal, body)
        await session.flush()
        other = (
            interest.listing_owner_id
            if principal.organization_id == interest.from_organization_id
            else interest.from_organization_id
        )
        webhooks.emit(session, other, "interest.message", interest.id, message_id=message.id)
        return interest, message

    @staticmethod
    def _add_message(session: AsyncSession, interest: Interest, principal: Principal, body: str) -> InterestMessage:
        message = InterestMessage(
            interest_id=interest.id,
            author_organization_id=principal.organization_id,
            author_account_id=principal.account_id,
            body=body,
        )
        session.add(message)
        return message

    async def present(
        self, session: AsyncSession, interest: Interest, principal: Principal, response_days: int
    ) -> InterestRead:
        [read] = await self.present_all(session, [interest], principal, response_days)
        return read

    async def present_all(
        self, session: AsyncSession, interests: list[Interest], principal: Principal, response_days: int
    ) -> list[InterestRead]:
        """Reads of a page of interests; the owner of an anonymous listing stays hidden until accepted."""
        anonymous = await repository.anonymous_listings(session, list({i.listing_id for i in interests}))
        return [self._read(i, principal, response_days, i.listing_id in anonymous) for i in interests]

    async def present_messages(
        self, session: AsyncSession, interest: Interest, principal: Principal, messages: list[InterestMessage]
    ) -> list[MessageRead]:
        """The thread; while the owner of an anonymous listing is hidden, so is the author of its messages."""
        anonymous = bool(await repository.anonymous_listings(session, [interest.listing_id]))
        hidden = self._owner_hidden(interest, principal, anonymous)
        reads = []
        for message in messages:
            read = MessageRead.model_validate(message)
            if hidden and message.author_organization_id == interest.listing_owner_id:
                read.author_organization_id = read.author_account_id = None
            reads.append(read)
        return reads

    @staticmethod
    def _owner_hidden(interest: Interest, principal: Principal, anonymous: bool) -> bool:
        """The owner of an anonymous listing shows itself to the interested party by accepting."""
        return (
            anonymous
            and interest.status != InterestStatus.ACCEPTED.value
            and principal.organization_id != interest.listing_owner_id
            and not principal.is_staff
        )

    @classmethod
    def _read(cls, interest: Interest, principal: Principal, response_days: int, anonymous: bool) -> InterestRead:
        hidden = cls._owner_hidden(interest, principal, anonymous)
        answered = interest.decided_at
        return InterestRead(
            id=interest.id,
            listing_id=interest.listing_id,
            listing_owner_id=None if hidden else interest.listing_owner_id,
            from_organization_id=interest.from_organization_id,
            message=interest.message,
            status=InterestStatus(interest.status),
            decline_reason=interest.decline_reason,
            created_at=interest.created_at,
            decided_at=answered,
            response_hours=round((answered - interest.created_at).total_seconds() / 3600, 2) if answered else None,
            unanswered=interest.status == InterestStatus.PENDING.value
            and utcnow() - interest.created_at > timedelta(days=response_days),
        )


def _convert(
    value: Decimal | None, currency: str, rate: Decimal | None, on: date | None
) -> tuple[Decimal, Decimal | None]:
    """The VND rate (given, or the year's recorded one) and the value in VND."""
    if rate is None:
        rate = vnd_rate(currency, (on or utcnow().date()).year)
        if rate is None:
            raise InvalidInputError.for_field(
                ["body", "vnd_rate"], f"no recorded rate for {currency}; give vnd_rate", "missing_rate"
            )
    rate = Decimal(rate).quantize(Decimal("0.000001"))
    return rate, (value * rate).quantize(Decimal("0.01")) if value is not None else None


async def _confirming_sides(session: AsyncSession, principal: Principal, deal: Deal) -> tuple[bool, list[str]]:
    """Whether the principal confirms as a moderator, else the sides (supplier, buyer) it acts for —
    as a member of the party or as its mandated broker."""
    if principal.has(Permission.MODERATE_RECORDS):
        return True, []
    sides = []
    for side, organization_id in (("supplier", deal.supplier_organization_id), ("buyer", deal.buyer_organization_id)):
        try:
            await actor_for_organization(session, principal, organization_id)
        except PermissionDeniedError:
            continue
        sides.append(side)
    return False, sides


def _confirm(deal: Deal, by_moderator: bool, sides: list[str]) -> list[str]:
    """Record the confirmations not yet given; returns their names."""
    now = utcnow()
    added = []
    for name in ["moderator"] if by_moderator else sides:
        column = f"{name}_confirmed_at"
        if getattr(deal, column) is None:
            setattr(deal, column, now)
            added.append(name)
    return added


def _settle(deal: Deal, review_above: Decimal) -> None:
    """A moderator's word settles a deal; both parties' settles it unless the value is implausibly high."""
    if deal.moderator_confirmed_at is not None:
        state = DealConfirmation.CONFIRMED
    elif deal.supplier_confirmed_at is not None and deal.buyer_confirmed_at is not None:
        implausible = deal.value_vnd is not None and deal.value_vnd > review_above
        state = DealConfirmation.AWAITING_MODERATOR if implausible else DealConfirmation.CONFIRMED
    else:
        state = DealConfirmation.UNCONFIRMED
    deal.confirmation = state.value


def _emit_to_parties(session: AsyncSession, deal: Deal, event_type: str) -> None:
    """The supplier and the buyer read the deal; each gets the event once."""
    for organization_id in dict.fromkeys((deal.supplier_organization_id, deal.buyer_organization_id)):
        if organization_id is not None:
            webhooks.emit(session, organization_id, event_type, deal.id)


def _notify_parties(session: AsyncSession, deal: Deal, kind: str, *, unconfirmed_only: bool) -> None:
    """Tell the parties (those yet to confirm, when `unconfirmed_only`) about the deal."""
    for side, organization_id in (("supplier", deal.supplier_organization_id), ("buyer", deal.buyer_organization_id)):
        if unconfirmed_only and getattr(deal, f"{side}_confirmed_at") is not None:
            continue
        session.add(
            Notification(
                organization_id=organization_id,
                kind=kind,
                payload={
                    "deal_id": str(deal.id),
                    "reference": deal.reference,
                    "title": deal.title,
                    "value_vnd": str(deal.value_vnd) if deal.value_vnd is not None else None,
                    "confirmation": deal.confirmation,
                    "recorded_by_organization_id": (
                        str(deal.created_by_organization_id) if deal.created_by_organization_id else None
                    ),
                },
            )
        )


class DealService:
    async def create(
        self, session: AsyncSession, principal: Principal, payload: DealCreate, review_above: Decimal
    ) -> Deal:
        """A deal recorded by one side is unconfirmed until the other confirms (see `confirm`)."""
        listing_ids = {"offer": payload.offer_id, "demand": payload.demand_id}
        interest = await self._interest(session, principal, payload.interest_id) if payload.interest_id else None
        interested_kind = None
        if interest is not None:
            # The interest's listing is the deal's offer or demand: its owner is the supplier of an
            # offer and the buyer of a demand; the interested organisation is the other side.
            interested = await self._listing(session, principal, interest.listing_id, None, "interest_id")
            assert interested is not None
            interested_kind = interested.kind
            given = listing_ids[interested_kind]
            if given is not None and given != interested.id:
                raise InvalidInputError.for_field(
                    ["body", f"{interested_kind}_id"], f"differs from the interest's {interested_kind}", "value_error"
                )
            listing_ids[interested_kind] = interested.id
        offer = await self._listing(session, principal, listing_ids["offer"], "offer", "offer_id")
        demand = await self._listing(session, principal, listing_ids["demand"], "demand", "demand_id")
        supplier_id = payload.supplier_organization_id or (offer.organization_id if offer else None)
        buyer_id = payload.buyer_organization_id or (demand.organization_id if demand else None)
        if interest is not None and interested_kind == "offer" and buyer_id is None:
            buyer_id = interest.from_organization_id
        if interest is not None and interested_kind == "demand" and supplier_id is None:
            supplier_id = interest.from_organization_id
        for loc, value in (("supplier_organization_id", supplier_id), ("buyer_organization_id", buyer_id)):
            if value is None:
                raise InvalidInputError.for_field(["body", loc], "required (or implied by the offer/demand)", "missing")
        assert supplier_id is not None
        assert buyer_id is not None
        if supplier_id == buyer_id:
            raise InvalidInputError.for_field(
                ["body", "buyer_organization_id"], "must differ from the supplier", "value_error"
            )
        supplier = await organization_service.get(session, supplier_id)
        await organization_service.get(session, buyer_id)
        actor = await _may_act_for_any(session, principal, [supplier_id, buyer_id])
        if actor is None:
            raise PermissionDeniedError("Deals are recorded by a party, its mandated broker or a moderator.")
        broker_id = payload.broker_organization_id
        if broker_id is not None:
            broker = await organization_service.get(session, broker_id)
            mandated = [
                await mandate_repository.find_active(session, p, broker_id, utcnow()) for p in (supplier_id, buyer_id)
            ]
            if broker.kind != OrganizationKind.INTERMEDIARY or not any(mandated):
                raise InvalidInputError.for_field(
                    ["body", "broker_organization_id"],
                    "must be an intermediary holding a mandate from the supplier or the buyer",
                    "value_error",
                )
        elif actor.via_mandate_id is not None:
            broker_id = principal.organization_id
        origin = payload.origin or (
            ORIGIN_OF_LISTING.get(offer.origin_kind or "", DealOrigin.DOMESTIC_ENTERPRISE) if offer else None
        )
        if origin is None:
            raise InvalidInputError.for_field(["body", "origin"], "required when no offer is given", "missing")
        origin_country = payload.origin_country or (offer.origin_country if offer else None) or supplier.country
        stage = payload.stage
        signed_on = payload.signed_on or (utcnow().date() if stage is not DealStage.NEGOTIATING else None)
        rate, value_vnd = _convert(payload.value, payload.currency, payload.vnd_rate, signed_on)
        year = (signed_on or utcnow().date()).year
        number = await next_counter_value(session, f"GD-{year}")
        deal = Deal(
            reference=f"GD-{year}-{number:04d}",
            offer_id=offer.id if offer else None,
            demand_id=demand.id if demand else None,
            interest_id=interest.id if interest else None,
            source=payload.source.value,
            source_reference=payload.source_reference,
            supplier_organization_id=supplier_id,
            buyer_organization_id=buyer_id,
            broker_organization_id=broker_id,
            created_by_organization_id=principal.organization_id,
            title=payload.title or (offer.title if offer else demand.title if demand else "Giao dịch công nghệ"),
            deal_type=payload.deal_type.value,
            field=(payload.field.value if payload.field else None)
            or (offer.field if offer else demand.field if demand else "other"),
            value=payload.value,
            currency=payload.currency,
            vnd_rate=rate,
            value_vnd=value_vnd,
            stage=stage.value,
            signed_on=signed_on,
            started_on=payload.started_on,
            completed_on=payload.completed_on,
            ip_transferred=payload.ip_transferred,
            origin=origin.value,
            origin_country=origin_country,
            developed_economy=origin is DealOrigin.IMPORTED and origin_country in developed_economies(),
            confidential=payload.confidential,
            notes=payload.notes,
        )
        by_moderator, sides = await _confirming_sides(session, principal, deal)
        _confirm(deal, by_moderator, sides)
        _settle(deal, review_above)
        session.add(deal)
        await session.flush()
        if deal.signed_on is not None and stage not in (DealStage.NEGOTIATING, DealStage.CANCELLED):
            plan_follow_up(session, deal)
        audit.record(
            session,
            actor,
            AuditAction.CREATE,
            "deal",
            deal.id,
            audit.snapshot(
                {
                    k: getattr(deal, k)
                    for k in ("reference", "stage", "value", "currency", "value_vnd", "origin", "confirmation")
                }
            ),
        )
        if deal.confirmation == DealConfirmation.UNCONFIRMED.value:
            _notify_parties(session, deal, DEAL_TO_CONFIRM, unconfirmed_only=True)
        _emit_to_parties(session, deal, "deal.created")
        return deal

    @staticmethod
    async def _interest(session: AsyncSession, principal: Principal, interest_id: uuid.UUID) -> Interest:
        """The interest the deal comes from, if the caller can see it (same refusal otherwise)."""
        try:
            return await interest_service.get(session, principal, interest_id)
        except InterestNotFoundError:
            raise InvalidInputError.for_field(["body", "interest_id"], "no such interest", "not_found") from None

    @staticmethod
    async def _listing(
        session: AsyncSession, principal: Principal, listing_id: uuid.UUID | None, kind: str | None, loc: str
    ) -> Listing | None:
        """The deal's offer or demand (`kind` None: either). Its owner becomes a party of the deal, so an
        anonymous listing is named only by those who may know its owner; the refusal is the same whoever owns it."""
        if listing_id is None:
            return None
        listing = await repository.get_listing(session, listing_id)
        noun = kind or "listing"
        if listing is None or (kind is not None and listing.kind != kind):
            raise InvalidInputError.for_field(["body", loc], f"no such {noun}", "not_found")
        if not await owner_known_to(session, principal, listing):
            raise InvalidInputError.for_field(
                ["body", loc],
                f"the {noun}'s owner is not disclosed to you; record the deal once the owner accepts your interest",
                "owner_not_disclosed",
            )
        return listing

    async def get(
        self, session: AsyncSession, principal: Principal, deal_id: uuid.UUID, *, lock: bool = False
    ) -> tuple[Deal, Actor | None]:
        """Parties, their mandated brokers, the deal's broker and moderators see a deal; others get 404.
        `lock` holds it until commit: a concurrent change then checks `If-Match` and the stage against this one."""
        deal = await repository.get_deal(session, deal_id, lock=lock)
        if deal is None:
            raise DealNotFoundError()
        actor = await _may_act_for_any(
            session, principal, [deal.supplier_organization_id, deal.buyer_organization_id, deal.broker_organization_id]
        )
        if actor is None:
            raise DealNotFoundError()
        return deal, actor

    async def list_page(
        self,
        session: AsyncSession,
        principal: Principal,
        stage: list[str] | None,
        page: PageParams,
        confirmation: list[str] | None = None,
    ) -> tuple[list[Deal], int]:
        scope = None if principal.has(Permission.MODERATE_RECORDS) else principal.organization_id
        return await repository.list_deals(session, scope, stage, page, confirmation)

    async def update(
        self,
        session: AsyncSession,
        principal: Principal,
        deal_id: uuid.UUID,
        payload: DealUpdate,
        if_match: str | None,
        review_above: Decimal,
    ) -> Deal:
        """A change of the terms the statistics use takes back the other side's confirmation."""
        deal, actor = await self.get(session, principal, deal_id, lock=True)
        check_if_match(deal, if_match)
        by_moderator, sides = await _confirming_sides(session, principal, deal)  # queries before any change
        values: dict[str, Any] = payload.model_dump(exclude_unset=True)
        values = {k: (v.value if hasattr(v, "value") else v) for k, v in values.items()}
        before = {key: getattr(deal, key) for key in values}
        for key, value in values.items():
            setattr(deal, key, value)
        if {"value", "currency", "vnd_rate"} & set(values):
            rate = (
                values.get("vnd_rate")
                if "vnd_rate" in values
                else (deal.vnd_rate if "currency" not in values else None)
            )
            deal.vnd_rate, deal.value_vnd = _convert(deal.value, deal.currency, rate, deal.signed_on)
        deal.developed_economy = (
            deal.origin == DealOrigin.IMPORTED.value and deal.origin_country in developed_economies()
        )
        changes = audit.diff(before, values)
        reconfirm = bool(MATERIAL_TERMS & set(changes))
        if reconfirm:
            previous = deal.confirmation
            deal.supplier_confirmed_at = deal.buyer_confirmed_at = deal.moderator_confirmed_at = None
            _confirm(deal, by_moderator, sides)
            _settle(deal, review_above)
            if deal.confirmation != previous:
                changes["confirmation"] = [previous, deal.confirmation]
        if changes:
            audit.record(session, actor or Actor(principal), AuditAction.UPDATE, "deal", deal.id, changes)
            await self._flush(session)
        if reconfirm and deal.confirmation == DealConfirmation.UNCONFIRMED.value:
            _notify_parties(session, deal, DEAL_TO_CONFIRM, unconfirmed_only=True)
        return deal

    async def confirm(
        self, session: AsyncSession, principal: Principal, deal_id: uuid.UUID, review_above: Decimal
    ) -> Deal:
        """The caller confirms the deal for each side it acts for, or as a moderator; idempotent."""
        deal, actor = await self.get(session, principal, deal_id, lock=True)
        by_moderator, sides = await _confirming_sides(session, principal, deal)
        if not by_moderator and not sides:
            raise NotADealPartyError()
        previous = deal.confirmation
        added = _confirm(deal, by_moderator, sides)
        _settle(deal, review_above)
        if added or deal.confirmation != previous:
            changes: dict[str, Any] = {f"{name}_confirmed": [False, True] for name in added}
            if deal.confirmation != previous:
                changes["confirmation"] = [previous, deal.confirmation]
            audit.record(session, actor or Actor(principal), AuditAction.STATE, "deal", deal.id, changes)
            await self._flush(session)
            if deal.confirmation == DealConfirmation.CONFIRMED.value and previous != deal.confirmation:
                _notify_parties(session, deal, DEAL_CONFIRMED, unconfirmed_only=False)
        return deal

    async def change_stage(
        self,
        session: AsyncSession,
        principal: Principal,
        deal_id: uuid.UUID,
        stage: DealStage,
        on: date | None,
        review_above: Decimal,
    ) -> Deal:
        """Move the deal on. The signature date decides whether and in which period the deal counts, so
        a move that sets or changes it (to `signed`, or to `in_progress`/`completed` without one) is a
        change of terms: like a PATCH of the value, it takes back the other side's confirmation."""
        deal, actor = await self.get(session, principal, deal_id, lock=True)
        current = DealStage(deal.stage)
        if stage not in STAGE_MOVES[current]:
            allowed = ", ".join(sorted(s.value for s in STAGE_MOVES[current])) or "none"
            raise InvalidTransitionError(f"A {current.value} deal cannot become {stage.value} (allowed: {allowed}).")
        by_moderator, sides = await _confirming_sides(session, principal, deal)  # queries before any change
        signed_before = deal.signed_on
        day = on or utcnow().date()
        deal.stage = stage.value
        setattr(deal, STAGE_DATE[stage], day)
        if stage in (DealStage.IN_PROGRESS, DealStage.COMPLETED) and deal.signed_on is None:
            deal.signed_on = day
        changes: dict[str, Any] = {"stage": [current.value, stage.value], STAGE_DATE[stage]: [None, day.isoformat()]}
        reconfirm = deal.signed_on != signed_before
        if current is DealStage.NEGOTIATING and stage is not DealStage.CANCELLED:
            plan_follow_up(session, deal)  # signed now: milestones and check-ins after transfer
        if reconfirm:
            changes["signed_on"] = [d.isoformat() if d else None for d in (signed_before, deal.signed_on)]
            previous = deal.confirmation
            deal.supplier_confirmed_at = deal.buyer_confirmed_at = deal.moderator_confirmed_at = None
            _confirm(deal, by_moderator, sides)
            _settle(deal, review_above)
            if deal.confirmation != previous:
                changes["confirmation"] = [previous, deal.confirmation]
        audit.record(session, actor or Actor(principal), AuditAction.STATE, "deal", deal.id, changes)
        await self._flush(session)
        if reconfirm and deal.confirmation == DealConfirmation.UNCONFIRMED.value:
            _notify_parties(session, deal, DEAL_TO_CONFIRM, unconfirmed_only=True)
        _emit_to_parties(session, deal, "deal.stage_changed")
        return deal

    @staticmethod
    async def _flush(session: AsyncSession) -> None:
        try:
            await session.flush()
        except StaleDataError:
            raise PreconditionFailedError("The deal was changed by another request; read it again.") from None


interest_service = InterestService()
deal_service = DealService()
