"""The audit API contract."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from app.schema_base import ResponseModel


class AuditAction(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    STATE = "state"


class AuditRecordType(StrEnum):
    ACCOUNT = "account"
    API_KEY = "api_key"
    INVITATION = "invitation"
    ORGANIZATION = "organization"
    MANDATE = "mandate"
    OFFER = "offer"
    DEMAND = "demand"
    INTEREST = "interest"
    DEAL = "deal"
    EVENT = "event"
    EVENT_PARTICIPANT = "event_participant"
    EVENT_SCHEDULE = "event_schedule"
    MEETING_REQUEST = "meeting_request"
    MEETING_OUTCOME = "meeting_outcome"
    WEBHOOK_ENDPOINT = "webhook_endpoint"
    SERVICE_REQUEST = "service_request"
    VALUATION = "valuation"
    DEAL_FOLLOW_UP = "deal_follow_up"
    DOCUMENT = "document"
    EXPERT = "expert"


FieldChange = Annotated[list[Any], Field(min_length=2, max_length=2, description="`[old, new]`; `null` for nothing.")]


class AuditEntryRead(ResponseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
                    "occurred_at": "2026-11-23T02:05:00Z",
                    "actor_account_id": "6a1c0f4e-2b7d-4c36-9f58-1d2e3f4a5b6c",
                    "actor_organization_id": "5c4b3a29-1807-4f6e-9d5c-4b3a29180706",
                    "via_mandate_id": "7e6d5c4b-3a29-4180-a706-f5e4d3c2b1a0",
                    "via_api_key_id": None,
                    "action": "update",
                    "record_type": "organization",
                    "record_id": "0b7d3f38-4f53-4c9f-9d2e-4f1f0f6b8c11",
                    "changes": {"website": ["https://old.example.vn/", "https://rimf.example.vn/"]},
                    "request_id": "5f0c6d3e9b2a4c1d8e7f6a5b4c3d2e1f",
                }
            ]
        },
    )

    id: uuid.UUID
    occurred_at: datetime
    actor_account_id: uuid.UUID | None
    actor_organization_id: uuid.UUID | None
    via_mandate_id: uuid.UUID | None = Field(description="Set when a broker acted under a mandate.")
    via_api_key_id: uuid.UUID | None = Field(description="Set when an integration acted with an API key.")
    action: AuditAction
    record_type: AuditRecordType
    record_id: uuid.UUID
    changes: dict[str, FieldChange] = Field(description="`{field: [old, new]}`; secrets are redacted.")
    request_id: str | None


class AuditFilters(BaseModel):
    record_type: list[str] | None = None
    record_id: uuid.UUID | None = None
    actor_account_id: uuid.UUID | None = None
    actor_organization_id: uuid.UUID | None = None
    since: datetime | None = None
    until: datetime | None = None
