"""The expert network's API contract: profiles, ORCID proposals, matches and consultation requests."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, ConfigDict, EmailStr, Field, StringConstraints, model_validator

from app.experts.orcid import is_valid_orcid, normalise_orcid
from app.schema_base import RequestModel, ResponseModel
from app.vocabulary import CountryCode, LanguageCode


class ExpertOffer(StrEnum):
    """What the expert offers to do."""

    CONSULTING = "consulting"
    ASSESSMENT = "assessment"
    VALUATION = "valuation"
    TRAINING = "training"
    JOINT_RESEARCH = "joint_research"
    MENTORING = "mentoring"


class FeeBasis(StrEnum):
    PRO_BONO = "pro_bono"
    PAID = "paid"
    NEGOTIABLE = "negotiable"


class Availability(StrEnum):
    AVAILABLE = "available"
    LIMITED = "limited"
    UNAVAILABLE = "unavailable"


class Tier(StrEnum):
    """Who may read a field (as ORCID's visibility settings): everyone; signed-in people of verified
    organisations; the owner only."""

    PUBLIC = "public"
    MEMBERS = "members"
    PRIVATE = "private"


class ListedBy(StrEnum):
    SELF = "self"  # the expert's own account
    ORGANIZATION = "organization"  # an organisation lists one of its staff, with the person's consent


class ExpertField(StrEnum):
    """The profile fields whose visibility the owner chooses. Name, country, the overseas flag, the
    headline, expertise and what the expert offers are always public (they are what finds the
    expert); contact details are never public."""

    TITLE = "title"
    AFFILIATION = "affiliation"
    CITY = "city"
    LANGUAGES = "languages"
    BIO = "bio"
    KEYWORDS = "keywords"
    INDUSTRY_YEARS = "industry_years"
    HIGHEST_TRL = "highest_trl"
    PUBLICATIONS_COUNT = "publications_count"
    PATENTS_COUNT = "patents_count"
    ORCID = "orcid"
    AVAILABILITY = "availability"
    FEE_BASIS = "fee_basis"


DEFAULT_VISIBILITY: dict[ExpertField, Tier] = {field: Tier.PUBLIC for field in ExpertField} | {
    ExpertField.CITY: Tier.MEMBERS,
    ExpertField.AVAILABILITY: Tier.MEMBERS,
    ExpertField.FEE_BASIS: Tier.MEMBERS,
}


class ConsultationStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"


class ConsultationOutcome(StrEnum):
    ADVICE_GIVEN = "advice_given"
    ENGAGED = "engaged"
    NO_FIT = "no_fit"


class SubjectKind(StrEnum):
    DEMAND = "demand"
    OFFER = "offer"
    DEAL = "deal"


def _orcid(value: str) -> str:
    text = normalise_orcid(value)
    if not is_valid_orcid(text):
        raise ValueError("not a valid ORCID iD (0000-0000-0000-000X with an ISO 7064 MOD 11-2 check digit)")
    return text


Orcid = Annotated[
    str,
    StringConstraints(max_length=40),
    AfterValidator(_orcid),
    Field(examples=["0000-0002-1825-0097"], description="ORCID iD; its check digit is verified."),
]
Text200 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Keyword = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=80)]
ConceptId = Annotated[str, StringConstraints(max_length=64)]


class ExpertContact(RequestModel):
    """Never public: shown to the owner, and to an organisation whose consultation request was accepted."""

    email: EmailStr
    phone: Annotated[str, StringConstraints(pattern=r"^\+?[0-9 ()./-]{6,32}$")] | None = None


class ExpertContactRead(ResponseModel):
    email: str
    phone: str | None


class Consent(RequestModel):
    """The listed person's consent, recorded when an organisation lists its staff."""

    given_at: datetime = Field(description="When the person agreed to be listed.")
    method: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=200)] = Field(
        description="How the consent was given, e.g. `signed form 2026-11-02`."
    )


class ConsentRead(ResponseModel):
    given_at: datetime
    method: str


_PROFILE_EXAMPLE: dict[str, Any] = {
    "listed_by": "self",
    "name": "Nguyễn Thị Minh Hạnh",
    "title": "Phó Giáo sư, Tiến sĩ",
    "affiliation": "Kyushu University, Faculty of Engineering",
    "country": "JP",
    "city": "Fukuoka",
    "overseas_vietnamese": True,
    "languages": ["vi", "ja", "en"],
    "headline": "Xử lý nước thải công nghiệp bằng màng MBR; sẵn sàng đánh giá công nghệ cho doanh nghiệp Hải Phòng.",
    "bio": "15 năm nghiên cứu màng lọc sinh học và xử lý nước thải thủy sản.",
    "concepts": ["wastewater-treatment"],
    "keywords": ["membrane bioreactor", "MBR"],
    "industry_years": 6,
    "highest_trl": 7,
    "publications_count": 42,
    "patents_count": 3,
    "orcid": "0000-0002-1825-0097",
    "offers": ["assessment", "consulting"],
    "availability": "limited",
    "fee_basis": "negotiable",
    "contact": {"email": "hanh.nguyen@example.jp", "phone": "+81 92 000 0000"},
    "visibility": {"city": "members", "fee_basis": "private"},
}


class ExpertBase(RequestModel):
    name: Text200
    title: Text200 | None = Field(default=None, description="Academic or professional title.")
    affiliation_organization_id: uuid.UUID | None = Field(
        default=None, description="The organisation the expert works for, when it is on the platform."
    )
    affiliation: Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)] | None = Field(
        default=None, description="Free text, e.g. a university abroad."
    )
    country: CountryCode = Field(description="Country of residence.")
    city: Annotated[str, StringConstraints(strip_whitespace=True, max_length=128)] | None = None
    overseas_vietnamese: bool = Field(default=False, description="A Vietnamese living abroad (kiều bào).")
    languages: list[LanguageCode] = Field(default_factory=list, max_length=10)
    headline: Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)] = Field(
        default="", description="What the expert can help with, in one sentence: an offer, not a CV."
    )
    bio: Annotated[str, StringConstraints(max_length=5000)] = ""
    concepts: list[ConceptId] = Field(default_factory=list, max_length=30, description="Taxonomy concept ids.")
    keywords: list[Keyword] = Field(default_factory=list, max_length=30)
    industry_years: int = Field(default=0, ge=0, le=70, description="Years of industry experience.")
    highest_trl: int | None = Field(
        default=None, ge=1, le=9, description="Highest TRL the expert brought a technology to."
    )
    publications_count: int = Field(default=0, ge=0, le=100_000)
    patents_count: int = Field(default=0, ge=0, le=10_000)
    orcid: Orcid | None = None
    offers: list[ExpertOffer] = Field(default_factory=list, max_length=6)
    availability: Availability = Availability.AVAILABLE
    fee_basis: FeeBasis = FeeBasis.NEGOTIABLE
    visibility: dict[ExpertField, Tier] = Field(
        default_factory=dict,
        description="Who may read each field (public, members, private); fields left out keep their default "
        "(city, availability and fee basis: members; the rest: public).",
    )


class ExpertCreate(ExpertBase):
    model_config = ConfigDict(json_schema_extra={"examples": [_PROFILE_EXAMPLE]})

    listed_by: ListedBy = Field(
        default=ListedBy.SELF,
        description="`self`: the caller is the expert; `organization`: the caller's organisation lists one of its "
        "staff, and `consent` must be given.",
    )
    consent: Consent | None = None
    contact: ExpertContact

    @model_validator(mode="after")
    def _consent_when_listed_by_organisation(self) -> ExpertCreate:
        if self.listed_by is ListedBy.ORGANIZATION and self.consent is None:
            raise ValueError("an organisation listing its staff must record the person's consent")
        return self


class ExpertUpdate(RequestModel):
    """Any subset of the profile's fields; `visibility` entries replace those given."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"headline": "Đánh giá công nghệ MBR", "city": "Osaka"}]})

    name: Text200 | None = None
    title: Text200 | None = None
    affiliation_organization_id: uuid.UUID | None = None
    affiliation: Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)] | None = None
    country: CountryCode | None = None
    city: Annotated[str, StringConstraints(strip_whitespace=True, max_length=128)] | None = None
    overseas_vietnamese: bool | None = None
    languages: list[LanguageCode] | None = Field(default=None, max_length=10)
    headline: Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)] | None = None
    bio: Annotated[str, StringConstraints(max_length=5000)] | None = None
    concepts: list[ConceptId] | None = Field(default=None, max_length=30)
    keywords: list[Keyword] | None = Field(default=None, max_length=30)
    industry_years: int | None = Field(default=None, ge=0, le=70)
    highest_trl: int | None = Field(default=None, ge=1, le=9)
    publications_count: int | None = Field(default=None, ge=0, le=100_000)
    patents_count: int | None = Field(default=None, ge=0, le=10_000)
    orcid: Orcid | None = None
    offers: list[ExpertOffer] | None = Field(default=None, max_length=6)
    availability: Availability | None = None
    fee_basis: FeeBasis | None = None
    contact: ExpertContact | None = None
    visibility: dict[ExpertField, Tier] | None = None


class ExpertRead(ResponseModel):
    """A profile as this reader may see it: a field the reader may not see is null and named in `hidden`."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **{k: v for k, v in _PROFILE_EXAMPLE.items() if k not in ("contact", "visibility")},
                    "id": "6b1f0d7e-3c2a-4b5d-8e9f-0a1b2c3d4e5f",
                    "organization_id": "1e2d3c4b-5a69-4788-9a0b-1c2d3e4f5a6b",
                    "affiliation_organization_id": None,
                    "inferred_concepts": ["membrane-filtration"],
                    "city": None,
                    "availability": None,
                    "fee_basis": None,
                    "hidden": ["city", "availability", "fee_basis"],
                    "contact": None,
                    "consent": None,
                    "visibility": None,
                    "last_confirmed_at": "2026-11-02T08:00:00Z",
                    "stale": False,
                    "source": None,
                    "version": 1,
                    "created_at": "2026-11-02T08:00:00Z",
                    "updated_at": "2026-11-02T08:00:00Z",
                }
            ]
        }
    )

    id: uuid.UUID
    organization_id: uuid.UUID
    listed_by: ListedBy
    name: str
    title: str | None
    affiliation_organization_id: uuid.UUID | None
    affiliation: str | None
    country: str
    city: str | None
    overseas_vietnamese: bool
    languages: list[str] | None
    headline: str
    bio: str | None
    concepts: list[str]
    inferred_concepts: list[str] = Field(description="Concepts found in the headline, bio and keywords.")
    keywords: list[str] | None
    industry_years: int | None
    highest_trl: int | None
    publications_count: int | None
    patents_count: int | None
    orcid: str | None
    offers: list[ExpertOffer]
    availability: Availability | None
    fee_basis: FeeBasis | None
    hidden: list[ExpertField] = Field(description="Fields withheld from this reader by the owner's visibility choices.")
    contact: ExpertContactRead | None = Field(description="The owner's side only.")
    consent: ConsentRead | None = Field(description="The owner's side only.")
    visibility: dict[ExpertField, Tier] | None = Field(description="Every field's tier; the owner's side only.")
    last_confirmed_at: datetime = Field(description="When the owner last confirmed the profile is current.")
    stale: bool = Field(description="Not confirmed for 12 months: flagged, and ranked lower in matches and search.")
    source: str | None = Field(description="The import the profile came from; null when created here.")
    version: int
    created_at: datetime
    updated_at: datetime


class OrcidImport(RequestModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"orcid": "0000-0002-1825-0097"}]})

    orcid: Orcid


class ExpertProposal(ResponseModel):
    """A profile drawn from the public ORCID record, for the expert to check, complete (contact,
    offers, visibility) and send to `POST /experts`. Nothing is saved."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "orcid": "0000-0002-1825-0097",
                    "name": "Josiah Carberry",
                    "title": "Professor",
                    "affiliation": "Brown University",
                    "country": "US",
                    "city": "Providence",
                    "bio": "Psychoceramics.",
                    "keywords": ["psychoceramics"],
                    "concepts": [],
                    "publications_count": 12,
                    "patents_count": 1,
                    "affiliations": ["Brown University"],
                    "works": ["On the cracked pot"],
                    "links": ["https://example.org/carberry"],
                }
            ]
        }
    )

    orcid: str
    name: str
    title: str | None
    affiliation: str | None
    country: str | None
    city: str | None
    bio: str
    keywords: list[str]
    concepts: list[str] = Field(description="Taxonomy concepts found in the keywords and work titles.")
    publications_count: int
    patents_count: int
    affiliations: list[str] = Field(description="Every employer the record names, current first.")
    works: list[str] = Field(description="Titles of the first works, to help pick concepts.")
    links: list[str]


class ExpertMatchCandidate(ResponseModel):
    id: uuid.UUID
    name: str
    headline: str
    country: str
    overseas_vietnamese: bool
    offers: list[ExpertOffer]
    stale: bool


class ExpertReason(ResponseModel):
    feature: str = Field(
        description="expertise: concepts, subfield, text, meaning; evidence: industry, trl, patents, publications, "
        "consultations, offers, language; gaps: stale."
    )
    contribution: float
    text: str


class ExpertMatchRead(ResponseModel):
    rank: int
    score: float = Field(ge=0, le=1)
    expertise: float = Field(ge=0, le=1, description="How well the expertise covers the listing's topics.")
    evidence: float = Field(ge=0, le=1, description="Industry experience, patents and consultations on the platform.")
    expert: ExpertMatchCandidate
    reasons: list[ExpertReason]
    gaps: list[ExpertReason]


class ExpertMatchesResponse(ResponseModel):
    listing_id: uuid.UUID
    language: str
    items: list[ExpertMatchRead]
    total: int
    limit: int


class ConsultationCreate(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "subject_kind": "demand",
                    "subject_id": "3d9f7a1e-5b2c-4e8d-9a6f-1c2b3d4e5f60",
                    "message": "Nhà máy cần đánh giá phương án MBR cho nước thải thủy sản 500 m³/ngày.",
                }
            ]
        }
    )

    subject_kind: SubjectKind | None = Field(default=None, description="What the question is about.")
    subject_id: uuid.UUID | None = None
    message: Annotated[str, StringConstraints(strip_whitespace=True, min_length=10, max_length=4000)]

    @model_validator(mode="after")
    def _subject_whole(self) -> ConsultationCreate:
        if (self.subject_kind is None) != (self.subject_id is None):
            raise ValueError("give subject_kind and subject_id together")
        return self


class ConsultationDecline(RequestModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "Ngoài chuyên môn của tôi."}]})

    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None = None


class ConsultationOutcomeUpdate(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"outcome": "engaged", "note": "Hợp đồng tư vấn 3 tháng."}]}
    )

    outcome: ConsultationOutcome
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] | None = None


class ConsultationRead(ResponseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "0c9d8e7f-6a5b-4c3d-2e1f-0a9b8c7d6e5f",
                    "expert_id": "6b1f0d7e-3c2a-4b5d-8e9f-0a1b2c3d4e5f",
                    "expert_name": "Nguyễn Thị Minh Hạnh",
                    "expert_organization_id": "1e2d3c4b-5a69-4788-9a0b-1c2d3e4f5a6b",
                    "requester_organization_id": "5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d",
                    "requester_organization_name": "Công ty Chế biến Thủy sản Hải Phòng",
                    "subject_kind": "demand",
                    "subject_id": "3d9f7a1e-5b2c-4e8d-9a6f-1c2b3d4e5f60",
                    "message": "Nhà máy cần đánh giá phương án MBR cho nước thải thủy sản 500 m³/ngày.",
                    "status": "accepted",
                    "decline_reason": None,
                    "expert_contact": {"email": "hanh.nguyen@example.jp", "phone": None},
                    "outcome": None,
                    "outcome_note": None,
                    "created_at": "2026-11-20T08:00:00Z",
                    "responded_at": "2026-11-21T08:00:00Z",
                    "outcome_at": None,
                }
            ]
        }
    )

    id: uuid.UUID
    expert_id: uuid.UUID
    expert_name: str
    expert_organization_id: uuid.UUID
    requester_organization_id: uuid.UUID
    requester_organization_name: str
    subject_kind: SubjectKind | None
    subject_id: uuid.UUID | None
    message: str
    status: ConsultationStatus
    decline_reason: str | None
    expert_contact: ExpertContactRead | None = Field(description="Revealed to the requester once the expert accepts.")
    outcome: ConsultationOutcome | None
    outcome_note: str | None
    created_at: datetime
    responded_at: datetime | None
    outcome_at: datetime | None
