"""The listings API contract: technology offers and demands.

Modelled on the Enterprise Europe Network technology offer/request profile and
WIPO GREEN's technology and need records: a listing says what the technology
is, how mature (TRL), how protected (IP status), how it may be transferred,
and on what terms.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, StringConstraints, field_serializer, model_validator

from app.money import AmountIn, AmountOut, AmountText, CurrencyCode, format_amount
from app.organizations.schemas import Contact, OrganizationKind
from app.schema_base import RequestModel, ResponseModel
from app.validation import Day, Timestamp
from app.vocabulary import CountryCode, FieldCode, Language, LanguageCode


class ListingKind(StrEnum):
    OFFER = "offer"
    DEMAND = "demand"


class ListingStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    PUBLISHED = "published"
    REJECTED = "rejected"
    ARCHIVED = "archived"
    EXPIRED = "expired"


class TransferType(StrEnum):
    LICENCE = "licence"
    ASSIGNMENT = "assignment"
    JOINT_VENTURE = "joint_venture"
    TECHNICAL_COOPERATION = "technical_cooperation"
    RD_COOPERATION = "rd_cooperation"
    COMMERCIAL_WITH_ASSISTANCE = "commercial_with_assistance"
    CONSULTING_SERVICES = "consulting_services"
    TURNKEY_EQUIPMENT = "turnkey_equipment"


class IpStatus(StrEnum):
    NONE = "none"
    KNOW_HOW = "know_how"
    PATENT_PENDING = "patent_pending"
    PATENT_GRANTED = "patent_granted"
    UTILITY_SOLUTION_GRANTED = "utility_solution_granted"
    COPYRIGHT = "copyright"
    PLANT_VARIETY = "plant_variety"


class OriginKind(StrEnum):
    INSTITUTE_UNIVERSITY = "institute_university"
    ENTERPRISE = "enterprise"
    IMPORTED = "imported"


class Visibility(StrEnum):
    PUBLIC = "public"
    ANONYMOUS = "anonymous"


class EvidenceKind(StrEnum):
    PILOT_SITE = "pilot_site"
    CERTIFICATION = "certification"
    PUBLICATION = "publication"
    AWARD = "award"
    LINK = "link"


class ListingSort(StrEnum):
    NEWEST = "-created_at"
    OLDEST = "created_at"
    RECENTLY_UPDATED = "-updated_at"
    TRL_HIGH = "-trl"
    TRL_LOW = "trl"
    PRICE_LOW = "price"
    PRICE_HIGH = "-price"
    TITLE = "title"
    EXPIRING = "expires_at"


# Stage words of the Enterprise Europe Network profile, by TRL.
TRL_LABELS = {
    1: "Concept stage: basic principles observed",
    2: "Concept stage: technology concept formulated",
    3: "Under development: experimental proof of concept",
    4: "Under development: validated in the lab",
    5: "Field tested: validated in a relevant environment",
    6: "Field tested: demonstrated in a relevant environment",
    7: "Available for demonstration: prototype in an operational environment",
    8: "Already on the market: system complete and qualified",
    9: "Already on the market: proven in operational use",
}

ORIGIN_OF_OWNER = {
    OrganizationKind.INSTITUTE: OriginKind.INSTITUTE_UNIVERSITY,
    OrganizationKind.UNIVERSITY: OriginKind.INSTITUTE_UNIVERSITY,
}

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=256)]
Summary = Annotated[str, StringConstraints(strip_whitespace=True, min_length=10, max_length=500)]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=8000)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000)]
Advantages = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]
Province = Annotated[str, StringConstraints(strip_whitespace=True, max_length=128)]
PatentNumber = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Money = AmountIn
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$"), Field(description="ISO 4217 code.")]
Trl = Annotated[int, Field(ge=1, le=9, description="Technology readiness level, 1–9.")]
ConceptIds = Annotated[
    list[Annotated[str, StringConstraints(max_length=64)]],
    Field(max_length=20, description="Keyword concept ids from `/api/v1/taxonomy`."),
]


_OFFERCREATE_EXAMPLE: dict[str, Any] = {
    "language": "vi",
    "title": "Vật liệu lọc nano mangan oxit phủ cát thạch anh xử lý asen, sắt, mangan",
    "summary": "Vật liệu hấp phụ asen, sắt và mangan cho hệ thống cấp nước sạch nông thôn, "
    "chế tạo từ cát thạch anh phủ mangan oxit kích thước nano.",
    "description": "Công nghệ đã được thử nghiệm tại 3 trạm cấp nước ở Hải Phòng.",
    "translations": {
        "en": {
            "title": "Nano manganese-oxide coated quartz sand filter media for arsenic, iron and manganese",
            "summary": "Adsorbent filter media removing arsenic, iron and manganese for rural water supply.",
        }
    },
    "field": "environment",
    "concepts": ["arsenic-removal", "filter-media", "nano-manganese-oxide"],
    "transfer_types": ["licence", "technical_cooperation"],
    "target_countries": ["VN", "LA"],
    "languages": ["vi", "en"],
    "contact": {"person": "TS. Phạm Thu Hà", "email": "ha.pt@imer.example.vn"},
    "trl": 7,
    "ip_status": "utility_solution_granted",
    "patent_numbers": ["GPHI-2-0001234"],
    "advantages": "Giá thành thấp hơn 30% so với vật liệu nhập khẩu; tái sinh được.",
    "applications": "Trạm cấp nước nông thôn, hộ gia đình.",
    "evidence": [{"kind": "pilot_site", "description": "Trạm cấp nước xã An Hòa, Hải Phòng"}],
    "price_min": "150000000",
    "price_max": "400000000",
    "currency": "VND",
    "support_included": True,
    "origin_country": "VN",
    "origin_kind": "institute_university",
    "proposed_for_city": True,
}

_DEMANDCREATE_EXAMPLE: dict[str, Any] = {
    "language": "vi",
    "title": "Cần công nghệ xử lý nước thải chế biến thủy sản đạt QCVN 11",
    "summary": "Nhà máy chế biến thủy sản công suất 500 m³/ngày cần hệ thống "
    "xử lý nước thải đạt "
    "cột A, vận hành đơn giản.",
    "field": "environment",
    "concepts": ["wastewater-treatment", "biological-treatment"],
    "transfer_types": ["turnkey_equipment", "technical_cooperation"],
    "languages": ["vi"],
    "problem_statement": "Hệ thống hiện tại quá tải, nước thải vượt chuẩn COD và amoni.",
    "requirements": "Công suất 500 m³/ngày; diện tích ≤ 300 m²; đạt QCVN 11-MT:2015/BTNMT cột A.",
    "min_trl": 7,
    "budget_min": "2000000000",
    "budget_max": "5000000000",
    "currency": "VND",
    "wanted_by": "2027-06-30",
    "deployment_province": "Hải Phòng",
    "co_development": False,
}


class ListingText(RequestModel):
    """The listing's texts in one language."""

    title: Title
    summary: Summary
    description: Description = ""


class Evidence(RequestModel):
    kind: EvidenceKind
    description: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=500)]
    url: HttpUrl | None = None


class OwnerSummary(ResponseModel):
    id: uuid.UUID
    name: str
    kind: OrganizationKind
    country: str
    province: str | None
    verified: bool


def _check_range(low: Decimal | None, high: Decimal | None, names: tuple[str, str]) -> None:
    if low is not None and high is not None and low > high:
        raise ValueError(f"{names[0]} must not exceed {names[1]}")


def _check_translations(language: Language | None, translations: dict[Language, ListingText] | None) -> None:
    if language is not None and translations and language in translations:
        raise ValueError(f"translations must not repeat the original language '{language.value}'")


class ListingCreateBase(BaseModel):
    organization_id: uuid.UUID | None = Field(
        default=None, description="Owner; the caller's organisation by default (brokers name their client)."
    )
    language: Language = Field(description="Language of `title`, `summary` and `description`.")
    title: Title
    summary: Summary
    description: Description = ""
    translations: dict[Language, ListingText] = Field(default_factory=dict, description="The texts in other languages.")
    field: FieldCode
    concepts: ConceptIds = Field(default_factory=list)
    transfer_types: list[TransferType] = Field(default_factory=list, max_length=8)
    target_countries: list[CountryCode] = Field(default_factory=list, max_length=50)
    languages: list[LanguageCode] = Field(default_factory=list, max_length=10, description="Languages spoken.")
    contact: Contact = Field(default_factory=Contact)
    province: Province | None = Field(default=None, description="Province or city; the owner's by default.")
    visibility: Visibility = Field(
        default=Visibility.PUBLIC, description="`anonymous` hides the owner until an interest is accepted."
    )
    expires_at: Timestamp | None = Field(default=None, description="12 months after creation by default.")
    currency: Currency = "VND"

    @model_validator(mode="after")
    def _translations_are_other_languages(self) -> Self:
        _check_translations(self.language, self.translations)
        return self


class OfferCreate(RequestModel, ListingCreateBase):
    model_config = ConfigDict(json_schema_extra={"examples": [_OFFERCREATE_EXAMPLE]})

    trl: Trl
    ip_status: IpStatus
    patent_numbers: list[PatentNumber] = Field(default_factory=list, max_length=20)
    advantages: Advantages | None = None
    applications: LongText | None = None
    evidence: list[Evidence] = Field(default_factory=list, max_length=20)
    price_min: Money | None = None
    price_max: Money | None = None
    support_included: bool = Field(default=False, description="Training and technical support included.")
    origin_country: CountryCode | None = Field(default=None, description="The owner's country by default.")
    origin_kind: OriginKind | None = Field(default=None, description="Derived from the owner's kind by default.")
    proposed_for_city: bool = Field(default=False, description="Proposed for transfer in the city (survey flag).")

    @model_validator(mode="after")
    def _price_range(self) -> Self:
        _check_range(self.price_min, self.price_max, ("price_min", "price_max"))
        return self


class DemandCreate(RequestModel, ListingCreateBase):
    model_config = ConfigDict(json_schema_extra={"examples": [_DEMANDCREATE_EXAMPLE]})

    problem_statement: LongText | None = None
    requirements: LongText | None = Field(default=None, description="Technical specification and requirements.")
    min_trl: Trl | None = Field(default=None, description="Lowest acceptable TRL.")
    budget_min: Money | None = None
    budget_max: Money | None = None
    wanted_by: Day | None = None
    deployment_province: Annotated[str, StringConstraints(strip_whitespace=True, max_length=128)] | None = None
    co_development: bool = Field(default=False, description="Joint development is acceptable.")

    @model_validator(mode="after")
    def _budget_range(self) -> Self:
        _check_range(self.budget_min, self.budget_max, ("budget_min", "budget_max"))
        return self


class ListingUpdateBase(BaseModel):
    """Fields to change; omitted fields stay as they are."""

    language: Language | None = None
    title: Title | None = None
    summary: Summary | None = None
    description: Description | None = None
    translations: dict[Language, ListingText] | None = None
    field: FieldCode | None = None
    concepts: ConceptIds | None = None
    transfer_types: list[TransferType] | None = Field(default=None, max_length=8)
    target_countries: list[CountryCode] | None = Field(default=None, max_length=50)
    languages: list[LanguageCode] | None = Field(default=None, max_length=10)
    contact: Contact | None = None
    province: Province | None = None
    visibility: Visibility | None = None
    expires_at: Timestamp | None = None
    currency: Currency | None = None

    @model_validator(mode="after")
    def _translations_are_other_languages(self) -> Self:
        _check_translations(self.language, self.translations)
        return self


class OfferUpdate(RequestModel, ListingUpdateBase):
    model_config = ConfigDict(json_schema_extra={"examples": [{"trl": 8, "price_max": "350000000"}]})

    trl: Trl | None = None
    ip_status: IpStatus | None = None
    patent_numbers: list[Annotated[str, StringConstraints(max_length=64)]] | None = Field(default=None, max_length=20)
    advantages: Advantages | None = None
    applications: LongText | None = None
    evidence: list[Evidence] | None = Field(default=None, max_length=20)
    price_min: Money | None = None
    price_max: Money | None = None
    support_included: bool | None = None
    origin_country: CountryCode | None = None
    origin_kind: OriginKind | None = None
    proposed_for_city: bool | None = None


class DemandUpdate(RequestModel, ListingUpdateBase):
    model_config = ConfigDict(json_schema_extra={"examples": [{"min_trl": 6, "wanted_by": "2027-09-30"}]})

    problem_statement: LongText | None = None
    requirements: LongText | None = None
    min_trl: Trl | None = None
    budget_min: Money | None = None
    budget_max: Money | None = None
    wanted_by: Day | None = None
    deployment_province: Annotated[str, StringConstraints(strip_whitespace=True, max_length=128)] | None = None
    co_development: bool | None = None


_READ_COMMON: dict[str, Any] = {
    "id": "3d9f7a1e-5b2c-4e8d-9a6f-1c2b3d4e5f60",
    "reference": "TO-VN-20261122-0007",
    "status": "published",
    "version": 3,
    "organization": {
        "id": "0b7d3f38-4f53-4c9f-9d2e-4f1f0f6b8c11",
        "name": "Viện Tài nguyên và Môi trường biển",
        "kind": "institute",
        "country": "VN",
        "province": "Hải Phòng",
        "verified": True,
    },
    "owner_hidden": False,
    "created_at": "2026-11-22T03:00:00Z",
    "updated_at": "2026-11-22T09:00:00Z",
    "submitted_at": "2026-11-22T04:00:00Z",
    "published_at": "2026-11-22T09:00:00Z",
    "expires_at": "2027-11-22T03:00:00Z",
    "rejection_reason": None,
    "country": "VN",
    "visibility": "public",
    "source": None,
    "origin_url": None,
}


class ListingReadBase(ResponseModel):
    id: uuid.UUID
    reference: str = Field(description="Human reference code, e.g. `TO-VN-20261122-0007`.")
    kind: ListingKind
    status: ListingStatus
    version: int = Field(description="Changes with every write; the `ETag` is this number.")
    organization: OwnerSummary | None = Field(description="Hidden (null) for anonymous listings.")
    owner_hidden: bool
    language: Language
    title: str
    summary: str
    description: str
    translations: dict[str, ListingText]
    field: FieldCode
    concepts: list[str]
    inferred_concepts: list[str] = Field(
        description="Concepts the texts mention, in any of their languages, beyond those the owner gave "
        "(the owner's own name does not count); matching and search use both."
    )
    transfer_types: list[TransferType]
    target_countries: list[str]
    languages: list[str]
    contact: Contact | None = Field(description="Hidden (null) for anonymous listings.")
    country: str
    province: str | None
    visibility: Visibility
    currency: CurrencyCode
    expires_at: datetime
    submitted_at: datetime | None
    published_at: datetime | None
    rejection_reason: str | None
    created_at: datetime
    updated_at: datetime
    source: str | None = Field(
        description="Where the listing came from: null for this exchange's own, else the import or harvest source."
    )
    origin_url: str | None = Field(description="The listing's page on the exchange it was harvested from.")


class OfferRead(ListingReadBase):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **_OFFERCREATE_EXAMPLE,
                    **_READ_COMMON,
                    "kind": "offer",
                    "inferred_concepts": ["drinking-water", "adsorbent-materials"],
                    "trl_label": TRL_LABELS[7],
                }
            ]
        }
    )

    kind: Literal[ListingKind.OFFER] = ListingKind.OFFER
    trl: int
    trl_label: str = Field(description="The EEN stage words for the TRL.")
    ip_status: IpStatus
    patent_numbers: list[str]
    advantages: str | None
    applications: str | None
    evidence: list[Evidence]
    price_min: AmountOut | None
    price_max: AmountOut | None
    support_included: bool
    origin_country: str | None
    origin_kind: OriginKind | None
    proposed_for_city: bool

    @field_serializer("price_min", "price_max")
    def serialize_amounts(self, value: Decimal | None) -> AmountText | None:
        return format_amount(value, self.currency)


class DemandRead(ListingReadBase):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **_DEMANDCREATE_EXAMPLE,
                    **_READ_COMMON,
                    "reference": "TD-VN-20261122-0003",
                    "kind": "demand",
                    "description": "Nước thải có COD 2.000 mg/l, nhiều dầu mỡ; mặt bằng xử lý 300 m².",
                    "inferred_concepts": [],
                }
            ]
        }
    )

    kind: Literal[ListingKind.DEMAND] = ListingKind.DEMAND
    problem_statement: str | None
    requirements: str | None
    min_trl: int | None
    budget_min: AmountOut | None
    budget_max: AmountOut | None
    wanted_by: date | None
    deployment_province: str | None
    co_development: bool

    @field_serializer("budget_min", "budget_max")
    def serialize_amounts(self, value: Decimal | None) -> AmountText | None:
        return format_amount(value, self.currency)


class Rejection(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"reason": "Thiếu thông tin về tình trạng sở hữu trí tuệ."}]}
    )

    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=5, max_length=2000)]


class Renewal(RequestModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"expires_at": "2028-01-31T00:00:00Z"}]})

    expires_at: Timestamp | None = Field(default=None, description="12 months from now by default.")


class ListingFilters(BaseModel):
    """Browse filters; every one is optional and they combine with AND; a list matches any of its values."""

    field: list[FieldCode] | None = None
    concept: list[str] | None = None
    trl_min: int | None = None
    trl_max: int | None = None
    ip_status: list[IpStatus] | None = None
    transfer_type: list[TransferType] | None = None
    owner_kind: list[OrganizationKind] | None = None
    organization_id: list[uuid.UUID] | None = None
    country: list[str] | None = None
    province: list[str] | None = None
    language: list[Language] | None = None
    status: list[ListingStatus] | None = None
    proposed_for_city: bool | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    updated_from: datetime | None = None
    updated_to: datetime | None = None
    sort: ListingSort = ListingSort.NEWEST
