"""Webhook event types and `emit`, the one way to raise an event.

Call `emit(session, organization_id, "interest.received", interest.id, listing_id=...)` in the
transaction that makes the change: the event is written to the outbox with it, so it exists
exactly when the change committed. The dispatcher later turns it into one delivery per endpoint
of that organisation that wants the type.

A payload is thin: the type, the time, and `data` with the resource's id, the URL to fetch it
with the receiver's own credentials, and the ids of related records. It carries nothing the
receiving organisation could not read through the API, so only ids of records it may see go
into `related` (never the owner of an anonymous listing, for instance).

A new capability adds its event with one `EventType(...)` line in `CATALOGUE` and calls `emit`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from app.models import OutboxEvent
from app.models.base import utcnow

TOPIC = "webhooks"  # the outbox topic the dispatcher reads


@dataclass(frozen=True)
class EventType:
    name: str  # `resource.happening`, as receivers filter on it
    path: str  # the resource's API path; `{id}` is the resource id
    description: str
    related: tuple[str, ...] = ()  # ids of related records in `data`, e.g. ("listing_id",)


CATALOGUE: tuple[EventType, ...] = (
    EventType("listing.published", "/api/v1/{kind}s/{id}", "One of the organisation's listings was published."),
    EventType(
        "listing.expiring",
        "/api/v1/{kind}s/{id}",
        "One of the organisation's published listings expires within 14 days unless renewed.",
    ),
    EventType("listing.expired", "/api/v1/{kind}s/{id}", "One of the organisation's published listings has expired."),
    EventType(
        "match.suggested",
        "/api/v1/{kind}s/{id}",
        "A newly published listing matches one of the organisation's listings or saved searches "
        "(an alert); `id` is the new listing.",
        ("subscription_id",),
    ),
    EventType(
        "interest.received",
        "/api/v1/interests/{id}",
        "Someone expressed interest in one of the organisation's listings.",
        ("listing_id",),
    ),
    EventType(
        "interest.accepted",
        "/api/v1/interests/{id}",
        "The owner accepted the organisation's expression of interest.",
        ("listing_id",),
    ),
    EventType(
        "interest.message",
        "/api/v1/interests/{id}/messages",
        "The other party wrote in an interest's thread.",
        ("message_id",),
    ),
    EventType(
        "meeting.requested",
        "/api/v1/events/{event_id}/requests/{id}",
        "A participant asked the organisation for a meeting at a connection session.",
        ("event_id",),
    ),
    EventType(
        "meeting.accepted",
        "/api/v1/events/{event_id}/requests/{id}",
        "The other side accepted the organisation's meeting request.",
        ("event_id",),
    ),
    EventType(
        "schedule.published",
        "/api/v1/events/{id}/participants/{participant_id}/agenda",
        "The schedule of a connection session the organisation takes part in was published.",
        ("participant_id",),
    ),
    EventType("deal.created", "/api/v1/deals/{id}", "A deal the organisation is party to was recorded."),
    EventType("deal.stage_changed", "/api/v1/deals/{id}", "A deal the organisation is party to changed stage."),
    EventType("webhook.ping", "/api/v1/webhook-endpoints/{id}", "A test event sent on request to one endpoint."),
    EventType(
        "expert.consultation_requested",
        "/api/v1/consultations/{id}",
        "An organisation asked one of the organisation's experts for a consultation.",
        ("expert_id",),
    ),
    EventType(
        "service.quoted",
        "/api/v1/service-requests/{id}",
        "An intermediary quoted on one of the organisation's service requests.",
        ("quote_id",),
    ),
    EventType("import.finished", "/api/v1/imports/{id}", "A bulk import by one of the organisation's staff finished."),
)
EVENT_TYPES: dict[str, EventType] = {event.name: event for event in CATALOGUE}
PING = "webhook.ping"


def emit(
    session: AsyncSession,
    organization_id: uuid.UUID,
    event_type: str,
    resource_id: uuid.UUID,
    *,
    kind: str | None = None,
    endpoint_id: uuid.UUID | None = None,
    **related: uuid.UUID,
) -> str:
    """Record that `event_type` happened to `resource_id`, for `organization_id`'s endpoints.

    `kind` fills `{kind}` of the path (offer or demand); `related` fills the type's related ids
    (and any `{name}` of its path). `endpoint_id` sends the event to that endpoint only (a ping).
    Returns the message id (the `webhook-id` receivers will see).
    """
    spec = EVENT_TYPES[event_type]
    missing = set(spec.related) - set(related)
    assert not missing, f"{event_type} needs {sorted(missing)}"
    ids = {name: str(value) for name, value in related.items()}
    path = spec.path.format(id=resource_id, kind=kind, **ids)
    payload = {
        "message_id": f"msg_{uuid.uuid4().hex}",
        "organization_id": str(organization_id),
        "type": event_type,
        "timestamp": utcnow().isoformat().replace("+00:00", "Z"),
        "data": {"id": str(resource_id), **({"kind": kind} if kind else {}), **ids},
        "path": path,
        "endpoint_id": str(endpoint_id) if endpoint_id else None,
    }
    session.add(OutboxEvent(index_name=TOPIC, record_id=resource_id, payload=payload))
    return str(payload["message_id"])
