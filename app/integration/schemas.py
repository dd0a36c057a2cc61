"""The change feed's contract: one entry per record at its latest change, in change order."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import ConfigDict, Field

from app.schema_base import ResponseModel


class FeedRecordType(StrEnum):
    OFFER = "offer"
    DEMAND = "demand"
    ORGANIZATION = "organization"


class FeedEntry(ResponseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "3d9f7a1e-5b2c-4e8d-9a6f-1c2b3d4e5f60",
                    "type": "offer",
                    "updated_at": "2026-11-22T09:00:00Z",
                    "deleted": False,
                    "url": "https://techex.example.vn/api/v1/offers/3d9f7a1e-5b2c-4e8d-9a6f-1c2b3d4e5f60",
                    "cursor": "eyJzIjo0Mn0",
                    "record": {"title": "Nano manganese-oxide filter media", "field": "environment"},
                }
            ]
        }
    )

    id: uuid.UUID = Field(description="The record's id on this exchange; stable for its whole life.")
    type: FeedRecordType
    updated_at: datetime = Field(description="When the record last changed (for a tombstone: when it left).")
    deleted: bool = Field(description="A tombstone: the record was withdrawn, expired or deleted; drop your copy.")
    url: str = Field(description="The record on this exchange's API.")
    cursor: str = Field(description="Resume the feed after this entry with `cursor=`.")
    record: dict[str, Any] | None = Field(
        description="The public record (`OfferRead`/`DemandRead`/`OrganizationRead` less personal data); "
        "null for a tombstone."
    )
