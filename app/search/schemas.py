"""The search API contract."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Generic, TypeVar

from pydantic import ConfigDict, Field, field_serializer

from app.listings.schemas import IpStatus, ListingKind, OriginKind, TransferType, Visibility
from app.money import AmountOut, AmountText, CurrencyCode, format_amount
from app.organizations.schemas import OrganizationKind
from app.schema_base import NamedGeneric, ResponseModel
from app.vocabulary import FieldCode, Language

HitT = TypeVar("HitT")


class SearchSort(StrEnum):
    RELEVANCE = "relevance"
    NEWEST = "-created_at"
    OLDEST = "created_at"
    RECENTLY_UPDATED = "-updated_at"
    TRL_HIGH = "-trl"
    TRL_LOW = "trl"
    PRICE_LOW = "price"
    PRICE_HIGH = "-price"


class ListingHitDocument(ResponseModel):
    """A listing as search shows it: no contact, and no owner for anonymous listings."""

    id: uuid.UUID
    kind: ListingKind
    reference: str
    title: str
    summary: str
    language: Language
    translations: dict[str, dict[str, str | None]]
    field: FieldCode
    concepts: list[str]
    trl: int | None = None
    min_trl: int | None = None
    ip_status: IpStatus | None = None
    transfer_types: list[TransferType]
    organization_id: uuid.UUID | None = None
    organization_name: str | None = None
    owner_verified: bool | None = None
    owner_kind: OrganizationKind | None = Field(default=None, description="Null for anonymous listings.")
    country: str
    province: str | None = None
    origin_kind: OriginKind | None = None
    proposed_for_city: bool | None = None
    source: str = Field(
        default="local", description="`local` for this exchange's own listings; else the import or harvest source."
    )
    price_min: AmountOut | None = Field(default=None, description="Price (offers) or budget (demands), low end.")
    price_max: AmountOut | None = None
    currency: CurrencyCode
    visibility: Visibility
    created_at: datetime
    updated_at: datetime
    expires_at: datetime

    @field_serializer("price_min", "price_max")
    def serialize_amounts(self, value: Decimal | None) -> AmountText | None:
        return format_amount(value, self.currency)


class OrganizationHitDocument(ResponseModel):
    id: uuid.UUID
    name: str
    translations: dict[str, str]
    owner_kind: OrganizationKind = Field(description="The organisation's kind.")
    country: str
    province: str | None = None
    sectors: list[str]
    services: list[str]
    languages: list[str]
    verified: bool
    created_at: datetime
    updated_at: datetime


class Hit(ResponseModel, NamedGeneric, Generic[HitT]):
    id: uuid.UUID
    score: float | None = Field(description="Relevance score (null when sorted by a field).")
    document: HitT
    highlights: dict[str, str] = Field(
        description="Matched words wrapped in <mark>, per field (title, summary, translations.<lang>.title)."
    )

    @classmethod
    def model_parametrized_name(cls, params: tuple[Any, ...]) -> str:
        """`ListingHit` for `Hit[ListingHitDocument]`: the name clients see in the OpenAPI document."""
        return f"{params[0].__name__.removesuffix('HitDocument')}Hit"


_LISTING_HIT: dict[str, Any] = {
    "id": "3d9f7a1e-5b2c-4e8d-9a6f-1c2b3d4e5f60",
    "score": 12.7,
    "document": {
        "id": "3d9f7a1e-5b2c-4e8d-9a6f-1c2b3d4e5f60",
        "kind": "offer",
        "reference": "TO-VN-20261122-0007",
        "title": "Hệ thống xử lý nước thải chế biến thủy sản bằng công nghệ MBBR",
        "summary": "Xử lý nước thải chế biến thủy sản đạt cột A.",
        "language": "vi",
        "translations": {"en": {"title": "MBBR treatment of seafood-processing wastewater", "summary": None}},
        "field": "environment",
        "concepts": ["wastewater-treatment", "biological-treatment"],
        "trl": 8,
        "ip_status": "know_how",
        "transfer_types": ["licence"],
        "organization_id": "0b7d3f38-4f53-4c9f-9d2e-4f1f0f6b8c11",
        "organization_name": "Trung tâm Công nghệ Môi trường Hải Phòng",
        "owner_verified": True,
        "owner_kind": "institute",
        "country": "VN",
        "province": "Hải Phòng",
        "origin_kind": "institute_university",
        "proposed_for_city": True,
        "price_min": "150000000",
        "price_max": "450000000",
        "currency": "VND",
        "visibility": "public",
        "created_at": "2026-06-01T02:00:00Z",
        "updated_at": "2026-06-03T02:00:00Z",
        "expires_at": "2027-06-03T02:00:00Z",
    },
    "highlights": {"title": "Hệ thống <mark>xử</mark> <mark>lý</mark> <mark>nước</mark> <mark>thải</mark> chế biến"},
}


class SearchResponse(ResponseModel, Generic[HitT]):
    """The list envelope of every list (`items`, `total`, `page`, `limit`, `next_cursor`) with facets."""

    items: list[Hit[HitT]]
    total: int = Field(description="Matching documents over all pages.")
    page: int
    limit: int
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last.")
    facets: dict[str, dict[str, int]] = Field(description="Per requested facet: value → count among the matches.")
    processing_time_ms: float
    query: str


class ListingSearchResponse(SearchResponse[ListingHitDocument]):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [_LISTING_HIT],
                    "total": 1,
                    "page": 1,
                    "limit": 20,
                    "next_cursor": None,
                    "facets": {"field": {"environment": 1}},
                    "processing_time_ms": 3.2,
                    "query": "xu ly nuoc thai",
                }
            ]
        }
    )


class OrganizationSearchResponse(SearchResponse[OrganizationHitDocument]):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {
                            "id": "0b7d3f38-4f53-4c9f-9d2e-4f1f0f6b8c11",
                            "score": 8.1,
                            "document": {
                                "id": "0b7d3f38-4f53-4c9f-9d2e-4f1f0f6b8c11",
                                "name": "Viện Nghiên cứu Hải sản",
                                "translations": {"en": "Research Institute for Marine Fisheries"},
                                "owner_kind": "institute",
                                "country": "VN",
                                "province": "Hải Phòng",
                                "sectors": ["marine_logistics"],
                                "services": [],
                                "languages": ["vi", "en"],
                                "verified": True,
                                "created_at": "2026-01-05T02:00:00Z",
                                "updated_at": "2026-01-05T02:00:00Z",
                            },
                            "highlights": {"name": "Viện Nghiên cứu <mark>Hải</mark> sản"},
                        }
                    ],
                    "total": 1,
                    "page": 1,
                    "limit": 20,
                    "next_cursor": None,
                    "facets": {},
                    "processing_time_ms": 1.4,
                    "query": "hai san",
                }
            ]
        }
    )


class ExpertHitDocument(ResponseModel):
    """An expert as search shows it: the public fields only, never contact details."""

    id: uuid.UUID
    name: str
    title: str | None = None
    headline: str
    affiliation: str | None = None
    country: str
    city: str | None = None
    overseas_vietnamese: bool
    languages: list[str]
    concepts: list[str]
    offers: list[str]
    created_at: datetime
    updated_at: datetime
    last_confirmed_at: datetime
    stale: bool = Field(
        description="Not confirmed for 12 months: ranked below profiles that match as well (never hidden)."
    )


class ExpertSearchResponse(SearchResponse[ExpertHitDocument]):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {
                            "id": "6b1f0d7e-3c2a-4b5d-8e9f-0a1b2c3d4e5f",
                            "score": 7.4,
                            "document": {
                                "id": "6b1f0d7e-3c2a-4b5d-8e9f-0a1b2c3d4e5f",
                                "name": "Nguyễn Thị Minh Hạnh",
                                "title": "Phó Giáo sư, Tiến sĩ",
                                "headline": "Xử lý nước thải công nghiệp bằng màng MBR",
                                "affiliation": "Kyushu University",
                                "country": "JP",
                                "city": None,
                                "overseas_vietnamese": True,
                                "languages": ["vi", "ja", "en"],
                                "concepts": ["wastewater-treatment"],
                                "offers": ["assessment", "consulting"],
                                "created_at": "2026-11-02T08:00:00Z",
                                "updated_at": "2026-11-02T08:00:00Z",
                                "last_confirmed_at": "2026-11-02T08:00:00Z",
                                "stale": False,
                            },
                            "highlights": {"headline": "Xử lý <mark>nước thải</mark> công nghiệp bằng màng MBR"},
                        }
                    ],
                    "total": 1,
                    "page": 1,
                    "limit": 20,
                    "next_cursor": None,
                    "facets": {"overseas_vietnamese": {"true": 1}},
                    "processing_time_ms": 2.1,
                    "query": "nuoc thai",
                }
            ]
        }
    )


class IndexStatus(ResponseModel):
    documents: int


class OutboxStatus(ResponseModel):
    pending: int = Field(description="Changes not yet applied to the search index.")
    oldest_pending_seconds: float | None = Field(description="Age of the oldest pending change.")


class SearchStatus(ResponseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "backend": "embedded",
                    "healthy": True,
                    "indexes": {"offers": {"documents": 209}, "demands": {"documents": 84}},
                    "outbox": {"pending": 0, "oldest_pending_seconds": None},
                }
            ]
        }
    )

    backend: str
    healthy: bool
    indexes: dict[str, IndexStatus]
    outbox: OutboxStatus
