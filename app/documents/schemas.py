"""The documents API contract."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from fastapi import UploadFile
from pydantic import BaseModel, ConfigDict, Field

from app.schema_base import ResponseModel


class AttachedTo(StrEnum):
    OFFER = "offer"
    DEMAND = "demand"
    SERVICE_REQUEST = "service_request"
    DEAL = "deal"


class DocumentKind(StrEnum):
    TECHNOLOGY_DOSSIER = "technology_dossier"
    CERTIFICATE = "certificate"
    CONTRACT = "contract"
    DELIVERABLE = "deliverable"
    OTHER = "other"


class DocumentVisibility(StrEnum):
    """`parties`: those the record belongs to (a listing's owner side; a request's requester side and its
    chosen provider; a deal's parties and broker) and moderators. `public`: whoever may see the record."""

    PARTIES = "parties"
    PUBLIC = "public"


class ScanStatus(StrEnum):
    CLEAN = "clean"
    NOT_SCANNED = "not_scanned"


class DocumentUpload(BaseModel):
    """The multipart/form-data fields of an upload."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "file": "ho-so-cong-nghe.pdf",
                    "attached_to": "offer",
                    "attached_id": "3d9f7a1e-5b2c-4e8d-9a6f-1c2b3d4e5f60",
                    "kind": "technology_dossier",
                    "visibility": "public",
                }
            ]
        },
    )

    file: UploadFile = Field(description="PDF, PNG, JPEG, docx, xlsx or pptx; the type is read from the content.")
    attached_to: AttachedTo
    attached_id: uuid.UUID = Field(description="The offer, demand, service request or deal.")
    kind: DocumentKind = DocumentKind.OTHER
    visibility: DocumentVisibility = DocumentVisibility.PARTIES


class DocumentRead(ResponseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d",
                    "attached_to": "offer",
                    "attached_id": "3d9f7a1e-5b2c-4e8d-9a6f-1c2b3d4e5f60",
                    "kind": "technology_dossier",
                    "visibility": "public",
                    "filename": "ho-so-cong-nghe-loc-asen.pdf",
                    "content_type": "application/pdf",
                    "size": 482113,
                    "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                    "scan_status": "clean",
                    "created_at": "2026-12-02T03:00:00Z",
                }
            ]
        },
    )

    id: uuid.UUID
    attached_to: AttachedTo
    attached_id: uuid.UUID | None
    kind: DocumentKind
    visibility: DocumentVisibility
    filename: str
    content_type: str = Field(description="The type read from the content, not the one the client claimed.")
    size: int = Field(description="Bytes.")
    sha256: str
    scan_status: ScanStatus
    created_at: datetime


class DocumentLink(ResponseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "url": "/api/v1/documents/download/IjlhOGI3YzZkIg.Z0Xk1A.4kq3s…",
                    "expires_at": "2026-12-02T03:10:00Z",
                }
            ]
        }
    )

    url: str = Field(description="A download link that needs no credentials, valid until `expires_at`.")
    expires_at: datetime
