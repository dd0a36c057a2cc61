"""Errors of the webhooks domain."""

from __future__ import annotations

from app.errors import ConflictError, NotFoundError


class WebhookEndpointNotFoundError(NotFoundError):
    code = "WebhookEndpointNotFound"
    title = "Webhook endpoint not found"


class WebhookDeliveryNotFoundError(NotFoundError):
    code = "WebhookDeliveryNotFound"
    title = "Webhook delivery not found"


class WebhookEndpointDisabledError(ConflictError):
    code = "WebhookEndpointDisabled"
    title = "The webhook endpoint is disabled; enable it first"
