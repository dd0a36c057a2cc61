"""Files attached to listings, service requests and deals; the bytes live in the document storage."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, IdMixin, UTCDateTime, utcnow


class Document(IdMixin, Base):
    __tablename__ = "document"
    __table_args__ = (
        Index("ix_document_listing_id", "listing_id"),
        Index("ix_document_service_request_id", "service_request_id"),
        Index("ix_document_deal_id", "deal_id"),
    )

    attached_to: Mapped[str] = mapped_column(String(16))
    listing_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("listing.id", ondelete="CASCADE"))
    service_request_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("service_request.id", ondelete="CASCADE"))
    deal_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("deal.id", ondelete="CASCADE"))
    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"))
    uploaded_by_account_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(32))
    visibility: Mapped[str] = mapped_column(String(16), default="parties")
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(128))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(255))
    scan_status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
