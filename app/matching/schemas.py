"""The matching API contract."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, RootModel, StringConstraints

from app.deals.schemas import DealConfirmation
from app.events.schemas import MeetingDeclineReason, RequestStatus, SchedulePublication
from app.listings.schemas import ListingKind
from app.organizations.schemas import OrganizationKind
from app.schema_base import RequestModel, ResponseModel
from app.vocabulary import FieldCode, Language, MatchFeature


class ReasonRead(ResponseModel):
    feature: MatchFeature
    contribution: float = Field(description="This feature's share of the score.")
    text: str = Field(
        description="The reason in the reader's language (Accept-Language: vi, en, ja; else the listing's)."
    )


class CandidateSummary(ResponseModel):
    id: uuid.UUID
    kind: ListingKind
    reference: str
    title: str
    field: FieldCode
    trl: int | None
    min_trl: int | None
    organization_id: uuid.UUID | None = Field(description="Null for anonymous listings.")
    organization_name: str | None


class MatchRead(ResponseModel):
    rank: int
    score: float = Field(description="0–1; the weighted sum of the features.")
    candidate: CandidateSummary
    reasons: list[ReasonRead] = Field(
        description="What fits, largest share of the score first; fits adding under 0.02 are left out."
    )
    gaps: list[ReasonRead] = Field(
        description="Where the candidate falls short of the need (TRL below the minimum, price outside the "
        "budget); such a feature may still earn part of its weight."
    )
    bookmarked: bool


class MatchesResponse(ResponseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "listing_id": "3d9f7a1e-5b2c-4e8d-9a6f-1c2b3d4e5f60",
                    "language": "vi",
                    "total": 1,
                    "limit": 20,
                    "items": [
                        {
                            "rank": 1,
                            "score": 0.71,
                            "candidate": {
                                "id": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
                                "kind": "offer",
                                "reference": "TO-VN-20261122-0007",
                                "title": "Hệ thống xử lý nước thải chế biến thủy sản bằng công nghệ MBBR",
                                "field": "environment",
                                "trl": 8,
                                "min_trl": None,
                                "organization_id": "0b7d3f38-4f53-4c9f-9d2e-4f1f0f6b8c11",
                                "organization_name": "Trung tâm Công nghệ Môi trường Hải Phòng",
                            },
                            "reasons": [
                                {"feature": "concepts", "contribution": 0.3, "text": "Cùng chủ đề: xử lý nước thải"},
                                {
                                    "feature": "field",
                                    "contribution": 0.1,
                                    "text": "Cùng lĩnh vực: công nghệ môi trường",
                                },
                                {"feature": "trl", "contribution": 0.12, "text": "TRL 8 ≥ yêu cầu tối thiểu 6"},
                            ],
                            "bookmarked": False,
                        }
                    ],
                }
            ]
        }
    )

    listing_id: uuid.UUID
    language: Language
    items: list[MatchRead]
    total: int = Field(description="Matches ranked here; a ranking of at most `limit`, not a list to page through.")
    limit: int


class OrganizationSummary(ResponseModel):
    id: uuid.UUID
    name: str
    kind: OrganizationKind
    country: str
    province: str | None
    verified: bool


class BestPair(ResponseModel):
    your_listing_id: uuid.UUID
    their_listing_id: uuid.UUID


class OrganizationMatchRead(ResponseModel):
    rank: int
    score: float = Field(description="Harmonic mean of the two directions: both sides' listings must fit.")
    score_for_you: float = Field(description="How well their listings answer yours.")
    score_for_them: float = Field(description="How well your listings answer theirs.")
    organization: OrganizationSummary
    best_pair: BestPair = Field(description="The two listings that fit best.")
    reasons: list[ReasonRead] = Field(description="What fits in the best pair (see MatchRead.reasons).")
    gaps: list[ReasonRead] = Field(default_factory=list, description="Where the best pair falls short.")


class OrganizationMatchesResponse(ResponseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "organization_id": "0b7d3f38-4f53-4c9f-9d2e-4f1f0f6b8c11",
                    "language": "en",
                    "total": 1,
                    "limit": 10,
                    "items": [
                        {
                            "rank": 1,
                            "score": 0.62,
                            "score_for_you": 0.66,
                            "score_for_them": 0.58,
                            "organization": {
                                "id": "5c4b3a29-1807-4f6e-9d5c-4b3a29180706",
                                "name": "Công ty Cổ phần Thủy sản Cát Hải",
                                "kind": "enterprise",
                                "country": "VN",
                                "province": "Hải Phòng",
                                "verified": True,
                            },
                            "best_pair": {
                                "your_listing_id": "3d9f7a1e-5b2c-4e8d-9a6f-1c2b3d4e5f60",
                                "their_listing_id": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
                            },
                            "reasons": [
                                {
                                    "feature": "concepts",
                                    "contribution": 0.3,
                                    "text": "Shared topics: wastewater treatment",
                                }
                            ],
                        }
                    ],
                }
            ]
        }
    )

    organization_id: uuid.UUID
    language: Language
    items: list[OrganizationMatchRead]
    total: int = Field(description="Matches ranked here; a ranking of at most `limit`, not a list to page through.")
    limit: int


class FeedbackUpdate(RequestModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"action": "dismiss"}]})

    action: Literal["dismiss", "bookmark"] | None = Field(
        description="`dismiss` hides the candidate for good, `bookmark` keeps it marked, null clears."
    )


class SubscriptionCreate(RequestModel):
    """Alert me about new listings matching one of my listings, or a saved search."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"listing_id": "3d9f7a1e-5b2c-4e8d-9a6f-1c2b3d4e5f60", "threshold": 0.5},
                {"kind": "offer", "query": "xu ly nuoc thai", "field": "environment"},
            ]
        }
    )

    listing_id: uuid.UUID | None = None
    kind: Literal["offer", "demand"] | None = Field(default=None, description="For a saved search: what it watches.")
    query: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=200)] | None = None
    field: FieldCode | None = None
    threshold: float = Field(default=0.5, ge=0, le=1, description="Minimum match score (listing subscriptions).")


class SubscriptionFilters(ResponseModel):
    field: FieldCode | None = Field(default=None, description="Only listings of this field.")


class SubscriptionRead(ResponseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    organization_id: uuid.UUID
    listing_id: uuid.UUID | None
    kind: ListingKind = Field(description="What it watches: new offers or new demands.")
    query: str | None
    filters: SubscriptionFilters = Field(description="Of a saved search.")
    threshold: float
    active: bool
    created_at: datetime


class NotificationKind(StrEnum):
    NEW_MATCH = "new_match"
    DEAL_TO_CONFIRM = "deal_to_confirm"
    DEAL_CONFIRMED = "deal_confirmed"
    EVENT_CANCELLED = "event_cancelled"
    MEETING_REQUEST = "meeting_request"
    MEETING_REQUEST_ANSWERED = "meeting_request_answered"
    MEETING_CANCELLED = "meeting_cancelled"
    SCHEDULE_PUBLISHED = "schedule_published"
    WEBHOOK_ENDPOINT_DISABLED = "webhook_endpoint_disabled"
    EXPERT_CONFIRMATION_DUE = "expert_confirmation_due"
    CONSULTATION_REQUESTED = "consultation_requested"
    CONSULTATION_ANSWERED = "consultation_answered"
    CHECK_IN_OVERDUE = "check_in_overdue"


class NewMatchPayload(ResponseModel):
    subscription_id: uuid.UUID
    listing_id: uuid.UUID
    kind: ListingKind
    reference: str
    title: str
    score: float | None = Field(description="Match score with the subscribed listing; null for a saved search.")


class DealPayload(ResponseModel):
    deal_id: uuid.UUID
    reference: str
    title: str
    value_vnd: str | None
    confirmation: DealConfirmation
    recorded_by_organization_id: uuid.UUID | None


class EventPayload(ResponseModel):
    event_id: uuid.UUID


class MeetingRequestPayload(ResponseModel):
    event_id: uuid.UUID
    request_id: uuid.UUID
    status: RequestStatus


class MeetingRequestAnsweredPayload(MeetingRequestPayload):
    reason: MeetingDeclineReason | None = Field(description="Why it was declined.")


class MeetingCancelledPayload(ResponseModel):
    event_id: uuid.UUID
    request_id: uuid.UUID


class SchedulePublishedPayload(ResponseModel):
    event_id: uuid.UUID
    stage: SchedulePublication
    changed_meetings: int


class WebhookEndpointDisabledPayload(ResponseModel):
    endpoint_id: uuid.UUID
    url: str
    reason: Literal["gone", "failing"] = Field(
        description="`gone`: the receiver answered 410; `failing`: a delivery failed every retry."
    )


class ExpertConfirmationDuePayload(ResponseModel):
    expert_id: uuid.UUID
    name: str
    stale_on: datetime = Field(description="When the profile turns stale unless confirmed.")


class ConsultationPayload(ResponseModel):
    consultation_id: uuid.UUID
    expert_id: uuid.UUID
    status: Literal["pending", "accepted", "declined"]


class CheckInOverduePayload(ResponseModel):
    deal_id: uuid.UUID
    reference: str
    title: str
    month: int = Field(description="Months after signature: 3, 6 or 12.")
    due_on: date
    missing_sides: list[Literal["supplier", "buyer"]]


class _NotificationBase(ResponseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    created_at: datetime
    read_at: datetime | None


class NewMatchNotification(_NotificationBase):
    kind: Literal[NotificationKind.NEW_MATCH]
    payload: NewMatchPayload


class DealNotification(_NotificationBase):
    kind: Literal[NotificationKind.DEAL_TO_CONFIRM, NotificationKind.DEAL_CONFIRMED]
    payload: DealPayload


class EventCancelledNotification(_NotificationBase):
    kind: Literal[NotificationKind.EVENT_CANCELLED]
    payload: EventPayload


class MeetingRequestNotification(_NotificationBase):
    kind: Literal[NotificationKind.MEETING_REQUEST]
    payload: MeetingRequestPayload


class MeetingRequestAnsweredNotification(_NotificationBase):
    kind: Literal[NotificationKind.MEETING_REQUEST_ANSWERED]
    payload: MeetingRequestAnsweredPayload


class MeetingCancelledNotification(_NotificationBase):
    kind: Literal[NotificationKind.MEETING_CANCELLED]
    payload: MeetingCancelledPayload


class SchedulePublishedNotification(_NotificationBase):
    kind: Literal[NotificationKind.SCHEDULE_PUBLISHED]
    payload: SchedulePublishedPayload


class WebhookEndpointDisabledNotification(_NotificationBase):
    kind: Literal[NotificationKind.WEBHOOK_ENDPOINT_DISABLED]
    payload: WebhookEndpointDisabledPayload


class ExpertConfirmationDueNotification(_NotificationBase):
    kind: Literal[NotificationKind.EXPERT_CONFIRMATION_DUE]
    payload: ExpertConfirmationDuePayload


class ConsultationNotification(_NotificationBase):
    kind: Literal[NotificationKind.CONSULTATION_REQUESTED, NotificationKind.CONSULTATION_ANSWERED]
    payload: ConsultationPayload


class CheckInOverdueNotification(_NotificationBase):
    kind: Literal[NotificationKind.CHECK_IN_OVERDUE]
    payload: CheckInOverduePayload


class NotificationRead(
    RootModel[
        Annotated[
            NewMatchNotification
            | DealNotification
            | EventCancelledNotification
            | MeetingRequestNotification
            | MeetingRequestAnsweredNotification
            | MeetingCancelledNotification
            | SchedulePublishedNotification
            | WebhookEndpointDisabledNotification
            | ExpertConfirmationDueNotification
            | ConsultationNotification
            | CheckInOverdueNotification,
            Field(discriminator="kind"),
        ]
    ]
):
    """A notification; its `payload` depends on its `kind`."""

    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "4e5f6a7b-8c9d-4e0f-9a1b-2c3d4e5f6a7b",
                    "kind": "new_match",
                    "payload": {
                        "subscription_id": "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
                        "listing_id": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
                        "kind": "offer",
                        "reference": "TO-VN-20261123-0001",
                        "title": "Bể lọc sinh học xử lý nước thải thủy sản",
                        "score": 0.64,
                    },
                    "created_at": "2026-11-23T04:00:00Z",
                    "read_at": None,
                }
            ]
        },
    )
