"""Rules on service requests: a party asks, intermediaries quote, the party accepts one, the provider delivers.

open → quoted → accepted → delivered → closed; cancelled by the requester before delivery; expired when
no quote is accepted by `quotes_until`. The requester side is the requesting organisation, a broker acting
for it under a mandate, or a moderator; the provider side is the intermediary organisation that quoted
(or a moderator). Both sides rate each other once the service is delivered.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from app.accounts.authorization import actor_for_organization
from app.accounts.permissions import Principal
from app.audit import service as audit
from app.audit.service import Actor, AuditAction
from app.deals import repository as deal_repository
from app.engagements import repository
from app.engagements.schemas import (
    Delivery,
    ProviderKind,
    QuoteAccept,
    QuoteCreate,
    QuoteRead,
    QuoteStatus,
    RatingCreate,
    ResultRead,
    ServiceRequestCreate,
    ServiceRequestRead,
    ServiceStatus,
    SubjectType,
)
from app.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from app.listings.exceptions import InvalidTransitionError, PreconditionFailedError
from app.models import ServiceQuote, ServiceRequest
from app.models.base import utcnow
from app.organizations.schemas import OrganizationKind
from app.pagination import PageParams
from app.webhooks import events as webhooks

RECORD_TYPE = "service_request"
DEFAULT_QUOTE_DAYS = 30
QUOTABLE = (ServiceStatus.OPEN.value, ServiceStatus.QUOTED.value)


class ServiceRequestNotFoundError(NotFoundError):
    code = "ServiceRequestNotFound"
    title = "Service request not found"


class QuoteNotFoundError(NotFoundError):
    code = "QuoteNotFound"
    title = "Quote not found"


class NotAProviderError(InvalidInputError):
    code = "NotAProvider"
    title = "Services are provided by intermediary organisations other than the requester"


class QuoteExistsError(ConflictError):
    code = "QuoteExists"
    title = "Your organisation already has a quote on this request; withdraw it to quote again"


class AlreadyRatedError(ConflictError):
    code = "AlreadyRated"
    title = "Your side has already rated this service"


class NotTheRequesterError(PermissionDeniedError):
    code = "NotTheRequester"
    title = "Only the requester, its mandated broker or a moderator may do this"


class NotTheProviderError(PermissionDeniedError):
    code = "NotTheProvider"
    title = "Only the provider who quoted (or a moderator) may do this"


async def _acts_for(session: AsyncSession, principal: Principal, organization_id: uuid.UUID | None) -> Actor | None:
    if organization_id is None:
        return None
    try:
        return await actor_for_organization(session, principal, organization_id)
    except PermissionDeniedError:
        return None


async def _is_party_of(session: AsyncSession, principal: Principal, organization_id: uuid.UUID | None) -> bool:
    """A party acts for itself or through its mandated broker; moderators are not parties."""
    actor = await _acts_for(session, principal, organization_id)
    return actor is not None and (principal.organization_id == organization_id or actor.via_mandate_id is not None)


class ServiceRequestService:
    async def create(
        self, session: AsyncSession, principal: Principal, payload: ServiceRequestCreate
    ) -> ServiceRequest:
        requester_id = payload.requester_organization_id or principal.organization_id
        actor = await actor_for_organization(session, principal, requester_id)
        listing_id = interest_id = deal_id = None
        subject = payload.subject_type
        refusal = InvalidInputError.for_field(
            ["body", "subject_id"], f"no such {subject.value} of the requesting organisation", "not_found"
        )
        if subject in (SubjectType.OFFER, SubjectType.DEMAND):
            listing = await deal_repository.get_listing(session, payload.subject_id)
            if listing is None or listing.kind != subject.value or listing.organization_id != requester_id:
                raise refusal
            listing_id = listing.id
        elif subject is SubjectType.INTEREST:
            interest = await deal_repository.get_interest(session, payload.subject_id)
            if interest is None or requester_id not in (interest.from_organization_id, interest.listing_owner_id):
                raise refusal
            interest_id = interest.id
        else:
            deal = await deal_repository.get_deal(session, payload.subject_id)
            if deal is None or requester_id not in (deal.supplier_organization_id, deal.buyer_organization_id):
                raise refusal
            deal_id = deal.id
        now = utcnow()
        quotes_until = payload.quotes_until or now + timedelta(days=DEFAULT_QUOTE_DAYS)
        if quotes_until <= now:
            raise InvalidInputError.for_field(["body", "quotes_until"], "must be in the future", "value_error")
        request = ServiceRequest(
            service_type=payload.service_type.value,
            subject_type=subject.value,
            listing_id=listing_id,
            interest_id=interest_id,
            deal_id=deal_id,
            requester_organization_id=requester_id,
            created_by_account_id=principal.account_id,
            title=payload.title,
            description=payload.description,
            quotes_until=quotes_until,
            status=ServiceStatus.OPEN.value,
        )
        session.add(request)
        await session.flush()
        audit.record(
            session,
            actor,
            AuditAction.CREATE,
            RECORD_TYPE,
            request.id,
            audit.snapshot({"service_type": request.service_type, "subject_type": subject.value, "status": "open"}),
        )
        return request

    async def get(
        self, session: AsyncSession, principal: Principal, request_id: uuid.UUID, *, lock: bool = False
    ) -> ServiceRequest:
        """The requester side, moderators, intermediaries while quotes are taken, and the providers that
        quoted see a request; others get 404."""
        request = await repository.get_request(session, request_id, lock=lock)
        if request is None or not await self._may_see(session, principal, request):
            raise ServiceRequestNotFoundError()
        return request

    async def _may_see(self, session: AsyncSession, principal: Principal, request: ServiceRequest) -> bool:
        if await _acts_for(session, principal, request.requester_organization_id) is not None:
            return True
        if principal.organization_id == request.provider_organization_id:
            return True
        if await repository.has_quoted(session, request.id, principal.organization_id):
            return True
        return request.status in QUOTABLE and await self._is_intermediary(session, principal.organization_id)

    @staticmethod
    async def _is_intermediary(session: AsyncSession, organization_id: uuid.UUID) -> bool:
        return await repository.organization_kind(session, organization_id) == OrganizationKind.INTERMEDIARY.value

    async def list_page(
        self,
        session: AsyncSession,
        principal: Principal,
        role: str | None,
        status: list[str] | None,
        service_type: list[str] | None,
        page: PageParams,
    ) -> tuple[list[ServiceRequest], int]:
        scope = None if principal.is_staff and role in (None, "market") else principal.organization_id
        market = await self._is_intermediary(session, principal.organization_id)
        return await repository.list_requests(session, scope, role, market, status, service_type, utcnow(), page)

    async def _requester(self, session: AsyncSession, principal: Principal, request: ServiceRequest) -> Actor:
        actor = await _acts_for(session, principal, request.requester_organization_id)
        if actor is None:
            raise NotTheRequesterError()
        return actor

    async def quote(
        self, session: AsyncSession, principal: Principal, request_id: uuid.UUID, payload: QuoteCreate
    ) -> tuple[ServiceRequest, ServiceQuote]:
        """An intermediary quotes fee, currency and days. This is where a quote is created (`service.quoted`)."""
        request = await self.get(session, principal, request_id, lock=True)
        provider_id = payload.provider_organization_id or principal.organization_id
        actor = await actor_for_organization(session, principal, provider_id)
        if provider_id == request.requester_organization_id or not await self._is_intermediary(session, provider_id):
            raise NotAProviderError.for_field(
                ["body", "provider_organization_id"],
                "the provider must be an intermediary organisation other than the requester",
                "value_error",
            )
        self._check_quotable(request)
        if await repository.submitted_quote(session, request.id, provider_id):
            raise QuoteExistsError()
        quote = ServiceQuote(
            service_request_id=request.id,
            provider_kind=ProviderKind.ORGANIZATION.value,
            provider_organization_id=provider_id,
            created_by_account_id=principal.account_id,
            fee=payload.fee,
            currency=payload.currency,
            days=payload.days,
            note=payload.note,
            status=QuoteStatus.SUBMITTED.value,
        )
        session.add(quote)
        previous = request.status
        request.status = ServiceStatus.QUOTED.value
        await self._flush(session)
        changes: dict[str, Any] = {"quote": [None, str(quote.id)]}
        if previous != request.status:
            changes["status"] = [previous, request.status]
        audit.record(session, actor, AuditAction.STATE, RECORD_TYPE, request.id, changes)
        webhooks.emit(session, request.requester_organization_id, "service.quoted", request.id, quote_id=quote.id)
        return request, quote

    @staticmethod
    def _check_quotable(request: ServiceRequest) -> None:
        if request.status not in QUOTABLE:
            raise InvalidTransitionError(f"The request is {request.status}; quotes are taken while it is open.")
        if request.quotes_until <= utcnow():
            raise InvalidTransitionError("The request no longer takes quotes: its deadline has passed.")

    async def withdraw_quote(
        self, session: AsyncSession, principal: Principal, request_id: uuid.UUID, quote_id: uuid.UUID
    ) -> ServiceRequest:
        request = await self.get(session, principal, request_id, lock=True)
        quote = await repository.get_quote(session, request.id, quote_id)
        if quote is None:
            raise QuoteNotFoundError()
        actor = await _acts_for(session, principal, quote.provider_organization_id)
        if actor is None:
            raise NotTheProviderError()
        if quote.status != QuoteStatus.SUBMITTED.value or request.status != ServiceStatus.QUOTED.value:
            raise InvalidTransitionError(f"The quote is {quote.status}; only a submitted quote is withdrawn.")
        quote.status = QuoteStatus.WITHDRAWN.value
        await session.flush()
        changes: dict[str, Any] = {"quote_withdrawn": [None, str(quote.id)]}
        remaining = [q for q in await repository.quotes(session, [request.id]) if q.status == "submitted"]
        if not remaining:
            request.status = ServiceStatus.OPEN.value
            changes["status"] = [ServiceStatus.QUOTED.value, ServiceStatus.OPEN.value]
        audit.record(session, actor, AuditAction.STATE, RECORD_TYPE, request.id, changes)
        await self._flush(session)
        return request

    async def accept(
        self, session: AsyncSession, principal: Principal, request_id: uuid.UUID, payload: QuoteAccept
    ) -> ServiceRequest:
        request = await self.get(session, principal, request_id, lock=True)
        actor = await self._requester(session, principal, request)
        self._check_quotable(request)
        quote = await repository.get_quote(session, request.id, payload.quote_id)
        if quote is None or quote.status != QuoteStatus.SUBMITTED.value:
            raise InvalidInputError.for_field(["body", "quote_id"], "no submitted quote of this request", "not_found")
        quote.status = QuoteStatus.ACCEPTED.value
        await repository.reject_other_quotes(session, request.id, quote.id)
        previous = request.status
        request.status = ServiceStatus.ACCEPTED.value
        request.accepted_quote_id = quote.id
        request.provider_kind = quote.provider_kind
        request.provider_organization_id = quote.provider_organization_id
        request.accepted_at = utcnow()
        audit.record(
            session,
            actor,
            AuditAction.STATE,
            RECORD_TYPE,
            request.id,
            {"status": [previous, request.status], "accepted_quote_id": [None, str(quote.id)]},
        )
        await self._flush(session)
        return request

    async def deliver(
        self, session: AsyncSession, principal: Principal, request_id: uuid.UUID, payload: Delivery
    ) -> ServiceRequest:
        request = await self.get(session, principal, request_id, lock=True)
        actor = await _acts_for(session, principal, request.provider_organization_id)
        if actor is None:
            raise NotTheProviderError()
        self._move(request, ServiceStatus.ACCEPTED, ServiceStatus.DELIVERED)
        request.result = payload.result.model_dump(mode="json")
        request.delivered_at = utcnow()
        audit.record(session, actor, AuditAction.STATE, RECORD_TYPE, request.id, {"status": ["accepted", "delivered"]})
        await self._flush(session)
        return request

    async def close(self, session: AsyncSession, principal: Principal, request_id: uuid.UUID) -> ServiceRequest:
        request = await self.get(session, principal, request_id, lock=True)
        actor = await self._requester(session, principal, request)
        self._move(request, ServiceStatus.DELIVERED, ServiceStatus.CLOSED)
        request.closed_at = utcnow()
        audit.record(session, actor, AuditAction.STATE, RECORD_TYPE, request.id, {"status": ["delivered", "closed"]})
        await self._flush(session)
        return request

    async def cancel(self, session: AsyncSession, principal: Principal, request_id: uuid.UUID) -> ServiceRequest:
        request = await self.get(session, principal, request_id, lock=True)
        actor = await self._requester(session, principal, request)
        previous = request.status
        if previous not in (*QUOTABLE, ServiceStatus.ACCEPTED.value):
            raise InvalidTransitionError(f"The request is {previous}; it is cancelled only before delivery.")
        request.status = ServiceStatus.CANCELLED.value
        request.cancelled_at = utcnow()
        audit.record(session, actor, AuditAction.STATE, RECORD_TYPE, request.id, {"status": [previous, "cancelled"]})
        await self._flush(session)
        return request

    async def rate(
        self, session: AsyncSession, principal: Principal, request_id: uuid.UUID, payload: RatingCreate
    ) -> ServiceRequest:
        """The requester rates the provider and the provider the requester, once each, after delivery."""
        request = await self.get(session, principal, request_id, lock=True)
        if await _is_party_of(session, principal, request.requester_organization_id):
            side = "requester"
        elif await _is_party_of(session, principal, request.provider_organization_id):
            side = "provider"
        else:
            raise PermissionDeniedError("Only the requester and the provider rate a service.")
        if request.status not in (ServiceStatus.DELIVERED.value, ServiceStatus.CLOSED.value):
            raise InvalidTransitionError(f"The request is {request.status}; a service is rated once delivered.")
        if getattr(request, f"{side}_rating") is not None:
            raise AlreadyRatedError()
        setattr(request, f"{side}_rating", payload.score)
        setattr(request, f"{side}_comment", payload.comment)
        actor = await _acts_for(session, principal, getattr(request, f"{side}_organization_id"))
        assert actor is not None
        audit.record(
            session, actor, AuditAction.UPDATE, RECORD_TYPE, request.id, {f"{side}_rating": [None, payload.score]}
        )
        await self._flush(session)
        return request

    async def expire_due(self, session: AsyncSession) -> int:
        """Periodic: requests still taking quotes past their deadline expire."""
        return await repository.expire_requests(session, utcnow())

    @staticmethod
    def _move(request: ServiceRequest, expected: ServiceStatus, to: ServiceStatus) -> None:
        if request.status != expected.value:
            raise InvalidTransitionError(f"The request is {request.status}; only a {expected.value} one becomes {to}.")
        request.status = to.value

    @staticmethod
    async def _flush(session: AsyncSession) -> None:
        try:
            await session.flush()
        except StaleDataError:
            raise PreconditionFailedError("The request was changed by another request; read it again.") from None

    # Read model

    async def present(self, session: AsyncSession, principal: Principal, request: ServiceRequest) -> ServiceRequestRead:
        [read] = await self.present_all(session, principal, [request])
        return read

    async def present_all(
        self, session: AsyncSession, principal: Principal, requests: list[ServiceRequest]
    ) -> list[ServiceRequestRead]:
        """What each viewer may see: the requester side sees every quote, a provider its own; a provider
        not chosen does not learn who owns an anonymous listing the request is about."""
        quotes = await repository.quotes(session, [r.id for r in requests])
        anonymous = await deal_repository.anonymous_listings(
            session, [r.listing_id for r in requests if r.listing_id is not None]
        )
        reads = []
        for request in requests:
            requester_side = await _acts_for(session, principal, request.requester_organization_id) is not None
            own = [
                QuoteRead.model_validate(q)
                for q in quotes
                if q.service_request_id == request.id
                and (requester_side or q.provider_organization_id == principal.organization_id)
            ]
            hidden = (
                not requester_side
                and request.listing_id in anonymous
                and principal.organization_id != request.provider_organization_id
            )
            subject_id = request.listing_id or request.interest_id or request.deal_id
            reads.append(
                ServiceRequestRead(
                    id=request.id,
                    service_type=request.service_type,
                    subject_type=request.subject_type,
                    subject_id=subject_id,
                    requester_organization_id=None if hidden else request.requester_organization_id,
                    title=request.title,
                    description=request.description,
                    quotes_until=request.quotes_until,
                    status=request.status,
                    provider_kind=request.provider_kind,
                    provider_organization_id=request.provider_organization_id,
                    accepted_quote_id=request.accepted_quote_id,
                    quotes=own,
                    accepted_at=request.accepted_at,
                    delivered_at=request.delivered_at,
                    closed_at=request.closed_at,
                    cancelled_at=request.cancelled_at,
                    result=ResultRead.model_validate(request.result) if request.result else None,
                    requester_rating=request.requester_rating,
                    requester_comment=request.requester_comment,
                    provider_rating=request.provider_rating,
                    provider_comment=request.provider_comment,
                    version=request.version,
                    created_at=request.created_at,
                    updated_at=request.updated_at,
                )
            )
        return reads


service_request_service = ServiceRequestService()
