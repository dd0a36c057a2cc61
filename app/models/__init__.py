"""All tables; importing this module registers every model on `Base.metadata`."""

from app.models.account import Account, ApiKey, Invitation, RefreshToken
from app.models.audit import AuditEntry
from app.models.base import Base
from app.models.deal import Deal, Interest, InterestMessage
from app.models.document import Document
from app.models.engagement import CheckInReport, DealCheckIn, DealMilestone, ServiceQuote, ServiceRequest, Valuation
from app.models.event import Event, EventParticipant, EventSession, MeetingOutcome, MeetingRequest
from app.models.expert import ConsultationRequest, Expert, ExpertVector
from app.models.integration import HarvestState, ImportJob, TaxonomyState
from app.models.listing import IdempotencyRecord, Listing, ReferenceCounter
from app.models.mandate import Mandate
from app.models.matching import MatchFeedback, MatchSubscription, Notification
from app.models.organization import Organization
from app.models.outbox import OutboxEvent
from app.models.webhook import WebhookAttempt, WebhookDelivery, WebhookEndpoint

__all__ = [
    "Account",
    "ApiKey",
    "AuditEntry",
    "Base",
    "CheckInReport",
    "ConsultationRequest",
    "Deal",
    "DealCheckIn",
    "DealMilestone",
    "Document",
    "Event",
    "EventParticipant",
    "EventSession",
    "Expert",
    "ExpertVector",
    "HarvestState",
    "IdempotencyRecord",
    "ImportJob",
    "Interest",
    "InterestMessage",
    "Invitation",
    "Listing",
    "Mandate",
    "MatchFeedback",
    "MatchSubscription",
    "MeetingOutcome",
    "MeetingRequest",
    "Notification",
    "Organization",
    "OutboxEvent",
    "ReferenceCounter",
    "RefreshToken",
    "ServiceQuote",
    "ServiceRequest",
    "TaxonomyState",
    "Valuation",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
]
