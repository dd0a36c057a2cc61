"""Webhook endpoints: organisation admins register URLs that receive signed events (Standard Webhooks)."""

from __future__ import annotations

import json
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Query, status

from app.accounts.exceptions import AccountRequiredError, OrgAdminRequiredError
from app.api.deps import CurrentPrincipal, NoStore, SessionDep, SettingsDep
from app.api.idempotency import ExchangeRoute
from app.api.openapi import camel, declare_problems
from app.errors import InvalidInputError, problem_responses
from app.models import WebhookAttempt, WebhookDelivery
from app.pagination import ANY_OF, MAX_VALUES, LinksDep, Page, PageDep
from app.webhooks.events import CATALOGUE
from app.webhooks.exceptions import WebhookDeliveryNotFoundError, WebhookEndpointDisabledError
from app.webhooks.schemas import (
    DeliveryStatus,
    WebhookAttemptRead,
    WebhookDeliveryRead,
    WebhookEndpointCreate,
    WebhookEndpointCreated,
    WebhookEndpointRead,
    WebhookEndpointUpdate,
    WebhookPingSent,
    WebhookSecretRotated,
    event_models,
)
from app.webhooks.service import webhook_service

router = APIRouter(prefix="/webhook-endpoints", tags=["webhooks"], route_class=ExchangeRoute)


def _delivery(delivery: WebhookDelivery, attempts: list[WebhookAttempt]) -> WebhookDeliveryRead:
    return WebhookDeliveryRead(
        id=delivery.id,
        message_id=delivery.message_id,
        event_type=delivery.event_type,
        status=DeliveryStatus(delivery.status),
        attempts=delivery.attempts,
        next_attempt_at=delivery.next_attempt_at if delivery.status == DeliveryStatus.PENDING else None,
        created_at=delivery.created_at,
        finished_at=delivery.finished_at,
        redelivery_of=delivery.redelivery_of,
        payload=json.loads(delivery.body),
        attempt_log=[WebhookAttemptRead.model_validate(a) for a in attempts],
    )


@router.post(
    "",
    summary="Register a webhook endpoint",
    status_code=status.HTTP_201_CREATED,
    response_model=WebhookEndpointCreated,
    responses=problem_responses(401, 403, 422),
    dependencies=[NoStore],
)
async def create_webhook_endpoint(
    payload: WebhookEndpointCreate, principal: CurrentPrincipal, session: SessionDep, settings: SettingsDep
) -> WebhookEndpointCreated:
    """Organisation admins register a URL for the organisation's events; the signing secret is shown only here."""
    endpoint = await webhook_service.create(session, principal, settings, payload)
    return WebhookEndpointCreated(**WebhookEndpointRead.model_validate(endpoint).model_dump(), secret=endpoint.secret)


@router.get(
    "",
    summary="List webhook endpoints",
    response_model=Page[WebhookEndpointRead],
    responses=problem_responses(401, 403, 422),
)
async def list_webhook_endpoints(
    principal: CurrentPrincipal, session: SessionDep, page: PageDep, links: LinksDep
) -> Page[WebhookEndpointRead]:
    """The organisation's endpoints, never their secrets."""
    items, total = await webhook_service.list_page(session, principal, page)
    return links(Page.of([WebhookEndpointRead.model_validate(e) for e in items], total, page))


@router.get(
    "/{endpoint_id}",
    summary="Get a webhook endpoint",
    response_model=WebhookEndpointRead,
    responses=problem_responses(401, 403, 404, 422),
)
async def get_webhook_endpoint(
    endpoint_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep
) -> WebhookEndpointRead:
    """One endpoint of the organisation."""
    return WebhookEndpointRead.model_validate(await webhook_service.get(session, principal, endpoint_id))


@router.patch(
    "/{endpoint_id}",
    summary="Change, disable or enable a webhook endpoint",
    response_model=WebhookEndpointRead,
    responses=problem_responses(401, 403, 404, 422),
)
async def update_webhook_endpoint(
    endpoint_id: uuid.UUID,
    payload: WebhookEndpointUpdate,
    principal: CurrentPrincipal,
    session: SessionDep,
    settings: SettingsDep,
) -> WebhookEndpointRead:
    """Change the URL, event types or description; `enabled: false` pauses deliveries, `true` resumes them."""
    endpoint = await webhook_service.update(session, principal, settings, endpoint_id, payload)
    return WebhookEndpointRead.model_validate(endpoint)


@router.delete(
    "/{endpoint_id}",
    summary="Delete a webhook endpoint",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401, 403, 404, 422),
)
async def delete_webhook_endpoint(endpoint_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep) -> None:
    """Delete the endpoint with its deliveries; nothing more is sent to it."""
    await webhook_service.delete(session, principal, endpoint_id)


@router.post(
    "/{endpoint_id}/rotate-secret",
    summary="Rotate a webhook endpoint's secret",
    response_model=WebhookSecretRotated,
    responses=problem_responses(401, 403, 404, 422),
    dependencies=[NoStore],
)
async def rotate_webhook_secret(
    endpoint_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep
) -> WebhookSecretRotated:
    """A new secret, shown only here; for 24 hours deliveries carry signatures by both the old and the new one."""
    endpoint = await webhook_service.rotate_secret(session, principal, endpoint_id)
    assert endpoint.previous_secret_expires_at is not None
    return WebhookSecretRotated(secret=endpoint.secret, previous_secret_expires_at=endpoint.previous_secret_expires_at)


@router.post(
    "/{endpoint_id}/ping",
    summary="Send a test event",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=WebhookPingSent,
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def ping_webhook_endpoint(
    endpoint_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep
) -> WebhookPingSent:
    """Queue a `webhook.ping` event for this endpoint; its delivery shows up in the endpoint's deliveries."""
    return WebhookPingSent(message_id=await webhook_service.ping(session, principal, endpoint_id))


@router.get(
    "/{endpoint_id}/deliveries",
    summary="List an endpoint's deliveries",
    response_model=Page[WebhookDeliveryRead],
    responses=problem_responses(401, 403, 404, 422),
)
async def list_webhook_deliveries(
    endpoint_id: uuid.UUID,
    principal: CurrentPrincipal,
    session: SessionDep,
    page: PageDep,
    links: LinksDep,
    delivery_status: Annotated[
        list[DeliveryStatus] | None,
        Query(alias="status", max_length=MAX_VALUES, description=f"Delivery status. {ANY_OF}"),
    ] = None,
) -> Page[WebhookDeliveryRead]:
    """Messages owed to the endpoint, newest first, each with every attempt: status, latency, answer."""
    statuses = [s.value for s in delivery_status] if delivery_status else None
    items, total = await webhook_service.deliveries(session, principal, endpoint_id, statuses, page)
    return links(Page.of([_delivery(d, a) for d, a in items], total, page))


@router.post(
    "/{endpoint_id}/deliveries/{delivery_id}/redeliver",
    summary="Send a delivery again",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=WebhookDeliveryRead,
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def redeliver_webhook(
    endpoint_id: uuid.UUID, delivery_id: int, principal: CurrentPrincipal, session: SessionDep
) -> WebhookDeliveryRead:
    """Queue the same message (same `webhook-id` and body) again, after the endpoint's pending ones."""
    return _delivery(await webhook_service.redeliver(session, principal, endpoint_id, delivery_id), [])


_ADMIN = (AccountRequiredError, OrgAdminRequiredError)
declare_problems(
    router,
    {
        "create_webhook_endpoint": [*_ADMIN, InvalidInputError],
        "list_webhook_endpoints": _ADMIN,
        "get_webhook_endpoint": _ADMIN,
        "update_webhook_endpoint": [*_ADMIN, InvalidInputError],
        "delete_webhook_endpoint": _ADMIN,
        "rotate_webhook_secret": _ADMIN,
        "ping_webhook_endpoint": [*_ADMIN, WebhookEndpointDisabledError],
        "list_webhook_deliveries": _ADMIN,
        "redeliver_webhook": [*_ADMIN, WebhookEndpointDisabledError, WebhookDeliveryNotFoundError],
    },
)


SIGNATURE_NOTE = (
    "\n\nSent as `POST` with `content-type: application/json` and the Standard Webhooks headers "
    "`webhook-id` (the same on every retry and redelivery: deduplicate on it), `webhook-timestamp` "
    "(Unix seconds) and `webhook-signature` (`v1,<base64 HMAC-SHA256 of id.timestamp.body>` for each "
    "active secret, separated by spaces). Verify it with the `standardwebhooks` library (PyPI, npm) and "
    "the endpoint's `whsec_` secret. Answer 2xx within 10 s; anything else is retried with exponential "
    "backoff for about three days, and 410 Gone disables the endpoint."
)


def document_events(app: FastAPI) -> None:
    """Each event type becomes an entry of the OpenAPI document's `webhooks`, with its typed payload."""
    models = event_models()
    for spec in CATALOGUE:
        model = models[spec.name]

        async def receive(body: Any) -> None:
            """Never called: it only documents the payload."""

        receive.__annotations__ = {"body": model, "return": None}
        receive.__name__ = spec.name.replace(".", "_")
        app.webhooks.post(
            spec.name,
            summary=spec.name,
            description=spec.description + SIGNATURE_NOTE,
            tags=["webhooks"],
            operation_id=f"webhooks.{camel(spec.name.replace('.', '_'))}",
            status_code=status.HTTP_200_OK,
        )(receive)
