"""Organisation admins manage their webhook endpoints: register, change, rotate, ping, redeliver."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.authorization import require_org_admin
from app.accounts.permissions import Principal
from app.audit import service as audit
from app.audit.schemas import AuditAction
from app.config import Environment, Settings
from app.errors import InvalidInputError
from app.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from app.models.base import utcnow
from app.pagination import PageParams
from app.webhooks import repository, signing
from app.webhooks.events import PING, emit
from app.webhooks.exceptions import (
    WebhookDeliveryNotFoundError,
    WebhookEndpointDisabledError,
    WebhookEndpointNotFoundError,
)
from app.webhooks.repository import PENDING
from app.webhooks.schemas import WebhookEndpointCreate, WebhookEndpointUpdate
from app.webhooks.targets import TargetRefused, resolve

ROTATION_OVERLAP = timedelta(hours=24)
RECORD_TYPE = "webhook_endpoint"


async def check_target(settings: Settings, url: str) -> None:
    """Refuse, at registration, a URL deliveries would refuse (they check again each time)."""
    try:
        await resolve(
            url,
            require_https=settings.environment is Environment.PRODUCTION,
            allow_private=settings.webhook_allow_private_targets,
        )
    except TargetRefused as refused:
        raise InvalidInputError.for_field(["body", "url"], str(refused), "webhook_target_refused") from None


class WebhookService:
    async def create(
        self, session: AsyncSession, principal: Principal, settings: Settings, payload: WebhookEndpointCreate
    ) -> WebhookEndpoint:
        actor = require_org_admin(principal, principal.organization_id)
        await check_target(settings, payload.url)
        endpoint = WebhookEndpoint(
            organization_id=principal.organization_id,
            created_by_account_id=principal.account_id,
            url=payload.url,
            description=payload.description,
            event_types=sorted(set(payload.event_types)),
            secret=signing.new_secret(),
            enabled=True,
        )
        session.add(endpoint)
        await session.flush()
        audit.record(
            session,
            actor,
            AuditAction.CREATE,
            RECORD_TYPE,
            endpoint.id,
            audit.snapshot({"url": endpoint.url, "event_types": endpoint.event_types}),
        )
        return endpoint

    async def get(
        self, session: AsyncSession, principal: Principal, endpoint_id: uuid.UUID, *, lock: bool = False
    ) -> WebhookEndpoint:
        """Endpoints are private to their organisation's admins: others get 404 (or 403 before that)."""
        require_org_admin(principal, principal.organization_id)
        endpoint = await repository.get_endpoint(session, endpoint_id, lock=lock)
        if endpoint is None or endpoint.organization_id != principal.organization_id:
            raise WebhookEndpointNotFoundError()
        return endpoint

    async def list_page(
        self, session: AsyncSession, principal: Principal, page: PageParams
    ) -> tuple[list[WebhookEndpoint], int]:
        require_org_admin(principal, principal.organization_id)
        return await repository.list_endpoints(session, principal.organization_id, page)

    async def update(
        self,
        session: AsyncSession,
        principal: Principal,
        settings: Settings,
        endpoint_id: uuid.UUID,
        payload: WebhookEndpointUpdate,
    ) -> WebhookEndpoint:
        endpoint = await self.get(session, principal, endpoint_id, lock=True)
        changes: dict[str, list[object]] = {}
        if payload.url is not None and payload.url != endpoint.url:
            await check_target(settings, payload.url)
            changes["url"] = [endpoint.url, payload.url]
            endpoint.url = payload.url
        if payload.event_types is not None:
            types = sorted(set(payload.event_types))
            if types != endpoint.event_types:
                changes["event_types"] = [endpoint.event_types, types]
                endpoint.event_types = types
        if payload.description is not None and payload.description != endpoint.description:
            changes["description"] = [endpoint.description, payload.description]
            endpoint.description = payload.description
        if payload.enabled is not None and payload.enabled != endpoint.enabled:
            changes["enabled"] = [endpoint.enabled, payload.enabled]
            endpoint.enabled = payload.enabled
            if payload.enabled:
                endpoint.disabled_reason = endpoint.disabled_at = None
            else:
                endpoint.disabled_reason, endpoint.disabled_at = "manual", utcnow()
        if changes:
            endpoint.updated_at = utcnow()
            audit.record(
                session,
                require_org_admin(principal, endpoint.organization_id),
                AuditAction.UPDATE,
                RECORD_TYPE,
                endpoint.id,
                changes,
            )
            await session.flush()
        return endpoint

    async def delete(self, session: AsyncSession, principal: Principal, endpoint_id: uuid.UUID) -> None:
        endpoint = await self.get(session, principal, endpoint_id, lock=True)
        audit.record(
            session,
            require_org_admin(principal, endpoint.organization_id),
            AuditAction.DELETE,
            RECORD_TYPE,
            endpoint.id,
            {"url": [endpoint.url, None]},
        )
        await session.delete(endpoint)
        await session.flush()

    async def rotate_secret(
        self, session: AsyncSession, principal: Principal, endpoint_id: uuid.UUID
    ) -> WebhookEndpoint:
        """A new secret signs from now on; the old one signs too for 24 hours, so receivers can switch."""
        endpoint = await self.get(session, principal, endpoint_id, lock=True)
        now = utcnow()
        endpoint.previous_secret, endpoint.secret = endpoint.secret, signing.new_secret()
        endpoint.previous_secret_expires_at = now + ROTATION_OVERLAP
        endpoint.updated_at = now
        audit.record(
            session,
            require_org_admin(principal, endpoint.organization_id),
            AuditAction.STATE,
            RECORD_TYPE,
            endpoint.id,
            {"secret": ["(redacted)", "(rotated)"]},
        )
        await session.flush()
        return endpoint

    async def ping(self, session: AsyncSession, principal: Principal, endpoint_id: uuid.UUID) -> str:
        """Queue a `webhook.ping` for this endpoint alone; returns the message id it will carry."""
        endpoint = await self.get(session, principal, endpoint_id)
        if not endpoint.enabled:
            raise WebhookEndpointDisabledError()
        message_id = emit(session, endpoint.organization_id, PING, endpoint.id, endpoint_id=endpoint.id)
        await session.flush()
        return message_id

    async def deliveries(
        self,
        session: AsyncSession,
        principal: Principal,
        endpoint_id: uuid.UUID,
        status: list[str] | None,
        page: PageParams,
    ) -> tuple[list[tuple[WebhookDelivery, list[WebhookAttempt]]], int]:
        await self.get(session, principal, endpoint_id)
        items, total = await repository.list_deliveries(session, endpoint_id, status, page)
        attempts = await repository.attempts_of(session, [d.id for d in items])
        return [(d, attempts.get(d.id, [])) for d in items], total

    async def redeliver(
        self, session: AsyncSession, principal: Principal, endpoint_id: uuid.UUID, delivery_id: int
    ) -> WebhookDelivery:
        """Send a message again, as a new delivery at the end of the endpoint's queue (same `webhook-id`)."""
        endpoint = await self.get(session, principal, endpoint_id)
        original = await repository.get_delivery(session, delivery_id)
        if original is None or original.endpoint_id != endpoint.id:
            raise WebhookDeliveryNotFoundError()
        if not endpoint.enabled:
            raise WebhookEndpointDisabledError()
        now = utcnow()
        delivery = WebhookDelivery(
            endpoint_id=endpoint.id,
            message_id=original.message_id,
            event_type=original.event_type,
            body=original.body,
            status=PENDING,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
            redelivery_of=original.id,
        )
        session.add(delivery)
        await session.flush()
        return delivery


webhook_service = WebhookService()
