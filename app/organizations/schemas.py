"""The organisations API contract."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    HttpUrl,
    StringConstraints,
    model_validator,
)

from app.schema_base import RequestModel, ResponseModel
from app.validation import non_nullable_in_schema, refuse_null
from app.vocabulary import CountryCode, FieldCode, LanguageCode, Translations


class OrganizationKind(StrEnum):
    ENTERPRISE = "enterprise"
    INSTITUTE = "institute"
    UNIVERSITY = "university"
    INTERMEDIARY = "intermediary"
    GOVERNMENT = "government"
    OTHER = "other"


class SizeBand(StrEnum):
    MICRO = "micro"
    SMALL = "small"
    MEDIUM = "medium"
    LARGE = "large"


class IntermediaryService(StrEnum):
    """Services of intermediary organisations named in the Can Tho programme."""

    TRANSFER_BROKERAGE = "transfer_brokerage"
    VALUATION_APPRAISAL = "valuation_appraisal"
    IP_SERVICES = "ip_services"
    LABORATORY_SERVICES = "laboratory_services"
    INFORMATION_SERVICES = "information_services"
    TRAINING = "training"
    INVESTMENT_CONNECTION = "investment_connection"


Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=256)]


class Contact(RequestModel):
    person: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None
    email: EmailStr | None = None
    phone: Annotated[str, StringConstraints(pattern=r"^\+?[0-9 ()./-]{6,32}$")] | None = None


_EXAMPLE: dict[str, Any] = {
    "name": "Viện Nghiên cứu Hải sản",
    "name_i18n": {"en": "Research Institute for Marine Fisheries"},
    "kind": "institute",
    "country": "VN",
    "province": "Hải Phòng",
    "registration_code": "0200123456",
    "website": "https://rimf.example.vn/",
    "description": "Nghiên cứu và chuyển giao công nghệ nuôi trồng và khai thác hải sản.",
    "description_i18n": {"en": "Research and transfer of aquaculture and fishing technology."},
    "sectors": ["marine_logistics", "biotech"],
    "size_band": "medium",
    "languages": ["vi", "en"],
    "services": [],
    "is_network": False,
    "contact": {
        "person": "Nguyễn Văn An",
        "email": "lienhe@rimf.example.vn",
        "phone": "+84 225 3836 656",
    },
}


class OrganizationBase(BaseModel):
    name_i18n: Translations = Field(default_factory=dict)
    province: Annotated[str, StringConstraints(strip_whitespace=True, max_length=128)] | None = None
    registration_code: Annotated[str, StringConstraints(strip_whitespace=True, max_length=64)] | None = Field(
        default=None, description="Tax or business registration code."
    )
    website: HttpUrl | None = None
    description: Annotated[str, StringConstraints(strip_whitespace=True, max_length=8000)] | None = None
    description_i18n: Translations = Field(default_factory=dict)
    sectors: list[FieldCode] = Field(default_factory=list, max_length=11, description="Technology fields.")
    size_band: SizeBand | None = None
    languages: list[LanguageCode] = Field(default_factory=list, max_length=20)
    services: list[IntermediaryService] = Field(
        default_factory=list, description="Services offered (intermediaries only)."
    )
    is_network: bool = Field(default=False, description="The intermediary is a network of organisations.")
    contact: Contact = Field(default_factory=Contact)


class OrganizationCreate(RequestModel, OrganizationBase):
    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE]})

    name: Name
    kind: OrganizationKind
    country: CountryCode

    @model_validator(mode="after")
    def _services_only_for_intermediaries(self) -> Self:
        if self.kind is not OrganizationKind.INTERMEDIARY and (self.services or self.is_network):
            raise ValueError("services and is_network apply to intermediary organisations only")
        return self


_NOT_NULL = (
    "name",
    "name_i18n",
    "kind",
    "country",
    "description_i18n",
    "sectors",
    "languages",
    "services",
    "is_network",
    "contact",
)


class OrganizationUpdate(RequestModel):
    """Fields to change; omitted fields stay as they are, null clears those that may be empty."""

    model_config = ConfigDict(
        json_schema_extra=non_nullable_in_schema(
            _NOT_NULL, examples=[{"website": "https://rimf.example.vn/en/", "size_band": "large"}]
        )
    )

    name: Name | None = None
    name_i18n: Translations | None = None
    kind: OrganizationKind | None = None
    country: CountryCode | None = None
    province: Annotated[str, StringConstraints(strip_whitespace=True, max_length=128)] | None = None
    registration_code: Annotated[str, StringConstraints(strip_whitespace=True, max_length=64)] | None = None
    website: HttpUrl | None = None
    description: Annotated[str, StringConstraints(strip_whitespace=True, max_length=8000)] | None = None
    description_i18n: Translations | None = None
    sectors: list[FieldCode] | None = Field(default=None, max_length=11)
    size_band: SizeBand | None = None
    languages: list[LanguageCode] | None = Field(default=None, max_length=20)
    services: list[IntermediaryService] | None = None
    is_network: bool | None = None
    contact: Contact | None = None

    _not_null = refuse_null(*_NOT_NULL)


class OrganizationRead(ResponseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "0b7d3f38-4f53-4c9f-9d2e-4f1f0f6b8c11",
                    **_EXAMPLE,
                    "verified": True,
                    "verified_at": "2026-11-20T08:30:00Z",
                    "created_at": "2026-11-19T02:00:00Z",
                    "updated_at": "2026-11-20T08:30:00Z",
                    "source": None,
                    "origin_url": None,
                }
            ]
        },
    )

    id: uuid.UUID
    name: str
    name_i18n: dict[str, str]
    kind: OrganizationKind
    country: str
    province: str | None
    registration_code: str | None
    website: str | None
    description: str | None
    description_i18n: dict[str, str]
    sectors: list[str]
    size_band: SizeBand | None
    languages: list[str]
    services: list[str]
    is_network: bool
    contact: Contact
    verified: bool
    verified_at: datetime | None
    created_at: datetime
    updated_at: datetime
    source: str | None = Field(
        description="Where the record came from: null for this exchange's own, else the import or harvest source."
    )
    origin_url: str | None = Field(description="The record's page on the exchange it was harvested from.")


class VerificationUpdate(RequestModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"verified": True}]})

    verified: bool = Field(description="Whether a moderator has checked the organisation's identity.")


class OrganizationFilters(BaseModel):
    """Filters combine with AND; a list matches any of its values."""

    kind: list[OrganizationKind] | None = None
    country: list[str] | None = None
    verified: bool | None = None
    sector: list[FieldCode] | None = None
    q: str | None = None
