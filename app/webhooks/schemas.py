"""The webhook endpoints' API contract, and the typed event payloads receivers get."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, ConfigDict, Field, StringConstraints, WithJsonSchema, create_model

from app.schema_base import RequestModel, ResponseModel
from app.webhooks.events import CATALOGUE, EVENT_TYPES, PING

SUBSCRIBABLE = [e.name for e in CATALOGUE if e.name != PING]


def _known(name: str) -> str:
    if name not in EVENT_TYPES or name == PING:
        raise ValueError(f"unknown event type; one of: {', '.join(SUBSCRIBABLE)}")
    return name


EventTypeName = Annotated[
    str, AfterValidator(_known), WithJsonSchema({"type": "string", "enum": SUBSCRIBABLE, "title": "WebhookEventType"})
]
Url = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]

_ENDPOINT_EXAMPLE: dict[str, Any] = {
    "id": "3c0f1e6a-8d0b-4b55-9d8e-2f7b1c9a4e21",
    "url": "https://crm.example.vn/hooks/techex",
    "description": "CRM: new interests and deals",
    "event_types": ["interest.received", "deal.created"],
    "enabled": True,
    "disabled_reason": None,
    "disabled_at": None,
    "previous_secret_expires_at": None,
    "created_at": "2026-11-30T08:00:00Z",
    "updated_at": "2026-11-30T08:00:00Z",
}


class DisabledReason(StrEnum):
    MANUAL = "manual"  # an admin disabled it
    GONE = "gone"  # the receiver answered 410 Gone
    FAILING = "failing"  # a delivery failed every retry


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


class WebhookEndpointCreate(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "url": "https://crm.example.vn/hooks/techex",
                    "event_types": ["interest.received", "deal.created"],
                    "description": "CRM: new interests and deals",
                }
            ]
        }
    )

    url: Url = Field(description="Where events are posted: https, on a public address.")
    event_types: list[EventTypeName] = Field(
        default_factory=list, max_length=50, description="The event types to receive; empty: all."
    )
    description: Description = ""


class WebhookEndpointUpdate(RequestModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"enabled": False}, {"event_types": []}]})

    url: Url | None = None
    event_types: list[EventTypeName] | None = Field(default=None, max_length=50)
    description: Description | None = None
    enabled: bool | None = Field(default=None, description="false stops deliveries; true resumes them in order.")


class WebhookEndpointRead(ResponseModel):
    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [_ENDPOINT_EXAMPLE]})

    id: uuid.UUID
    url: str
    description: str
    event_types: list[str] = Field(description="The event types it receives; empty: all.")
    enabled: bool
    disabled_reason: DisabledReason | None
    disabled_at: datetime | None
    previous_secret_expires_at: datetime | None = Field(
        description="Until then deliveries are signed with the previous secret too (after a rotation)."
    )
    created_at: datetime
    updated_at: datetime


class WebhookEndpointCreated(WebhookEndpointRead):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{**_ENDPOINT_EXAMPLE, "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}]}
    )

    secret: str = Field(description="The signing secret, shown only in this response.")


class WebhookSecretRotated(ResponseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                    "previous_secret_expires_at": "2026-12-01T08:00:00Z",
                }
            ]
        }
    )

    secret: str = Field(description="The new signing secret, shown only in this response.")
    previous_secret_expires_at: datetime = Field(description="The old secret signs too until then.")


class WebhookPingSent(ResponseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"message_id": "msg_2f1c0c8e5d7a4b3f9e6d5c4b3a291807"}]})

    message_id: str = Field(description="The `webhook-id` the ping will carry.")


class WebhookAttemptRead(ResponseModel):
    model_config = ConfigDict(from_attributes=True)

    attempted_at: datetime
    status_code: int | None = Field(description="The receiver's HTTP status; null when no answer came.")
    latency_ms: int
    response_excerpt: str = Field(description="The first 500 characters of the receiver's answer.")
    error: str | None = Field(description="Why no answer came: timeout, refused address, connection error.")
    succeeded: bool


class WebhookDeliveryRead(ResponseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 42,
                    "message_id": "msg_2f1c0c8e5d7a4b3f9e6d5c4b3a291807",
                    "event_type": "interest.received",
                    "status": "delivered",
                    "attempts": 1,
                    "next_attempt_at": None,
                    "created_at": "2026-11-30T08:00:00Z",
                    "finished_at": "2026-11-30T08:00:01Z",
                    "redelivery_of": None,
                    "payload": {
                        "type": "interest.received",
                        "timestamp": "2026-11-30T08:00:00Z",
                        "data": {
                            "id": "7a1d2c3b-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
                            "listing_id": "0b7d3f38-4f53-4c9f-9d2e-4f1f0f6b8c11",
                            "url": "https://api.techex.example/api/v1/interests/7a1d2c3b-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
                        },
                    },
                    "attempt_log": [
                        {
                            "attempted_at": "2026-11-30T08:00:01Z",
                            "status_code": 204,
                            "latency_ms": 85,
                            "response_excerpt": "",
                            "error": None,
                            "succeeded": True,
                        }
                    ],
                }
            ]
        }
    )

    id: int
    message_id: str = Field(description="The `webhook-id` header: the same on every attempt and redelivery.")
    event_type: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime | None = Field(description="When the next attempt is due; null unless pending.")
    created_at: datetime
    finished_at: datetime | None
    redelivery_of: int | None = Field(description="The delivery this one sends again (manual redelivery).")
    payload: dict[str, Any] = Field(description="The body as sent.")
    attempt_log: list[WebhookAttemptRead]


# --- the payloads receivers get, one typed model per event type (the OpenAPI `webhooks`) ---


def _title(name: str) -> str:
    return "".join(part.capitalize() for part in name.replace("_", ".").split("."))


def event_models() -> dict[str, type[ResponseModel]]:
    """`InterestReceivedEvent` and so on: `type`, `timestamp` and `data` with ids and the resource's URL."""
    models: dict[str, type[ResponseModel]] = {}
    for spec in CATALOGUE:
        data_fields: dict[str, Any] = {
            "id": (uuid.UUID, Field(description="The resource the event is about.")),
            "url": (str, Field(description="Fetch the resource here, with the organisation's credentials.")),
        }
        if "{kind}" in spec.path:
            data_fields["kind"] = (Literal["offer", "demand"], ...)
        for name in spec.related:
            data_fields[name] = (uuid.UUID, ...)
        data = create_model(f"{_title(spec.name)}Data", __base__=ResponseModel, **data_fields)
        models[spec.name] = create_model(
            f"{_title(spec.name)}Event",
            __base__=ResponseModel,
            __doc__=spec.description,
            type=(Literal[spec.name], ...),  # type: ignore[arg-type]
            timestamp=(datetime, ...),
            data=(data, ...),
        )
    return models
