"""The mandates API contract."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import ConfigDict, Field, StringConstraints

from app.schema_base import RequestModel, ResponseModel
from app.validation import Timestamp

_EXAMPLE: dict[str, Any] = {
    "broker_organization_id": "5c4b3a29-1807-4f6e-9d5c-4b3a29180706",
    "client_organization_id": "0b7d3f38-4f53-4c9f-9d2e-4f1f0f6b8c11",
    "note": "Môi giới chuyển giao công nghệ lọc nước nhiễm asen",
    "valid_until": "2027-12-31T00:00:00Z",
}


class MandateCreate(RequestModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE]})

    broker_organization_id: uuid.UUID = Field(description="The intermediary that may act for the client.")
    client_organization_id: uuid.UUID | None = Field(
        default=None,
        description="The organisation granting the mandate; the caller's own by default.",
    )
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)] | None = None
    valid_until: Timestamp | None = Field(default=None, description="No end date when omitted.")


class MandateRead(ResponseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "7e6d5c4b-3a29-4180-a706-f5e4d3c2b1a0",
                    **_EXAMPLE,
                    "granted_by_account_id": "6a1c0f4e-2b7d-4c36-9f58-1d2e3f4a5b6c",
                    "created_at": "2026-11-23T02:00:00Z",
                    "revoked_at": None,
                    "active": True,
                }
            ]
        },
    )

    id: uuid.UUID
    client_organization_id: uuid.UUID
    broker_organization_id: uuid.UUID
    granted_by_account_id: uuid.UUID | None
    note: str | None
    created_at: datetime
    valid_until: datetime | None
    revoked_at: datetime | None
    active: bool = Field(description="Not revoked and not past `valid_until`.")
