"""The audit API contract."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class AuditEntryRead(BaseModel):
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
    action: str = Field(description="create, update, delete or state.")
    record_type: str
    record_id: uuid.UUID
    changes: dict[str, Any] = Field(description="`{field: [old, new]}`; secrets are redacted.")
    request_id: str | None


class AuditFilters(BaseModel):
    record_type: list[str] | None = None
    record_id: uuid.UUID | None = None
    actor_account_id: uuid.UUID | None = None
    actor_organization_id: uuid.UUID | None = None
    since: datetime | None = None
    until: datetime | None = None
