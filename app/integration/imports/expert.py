"""Experts: an institute's, university's or intermediary's list of its staff and associates, each row a
profile listed by the organisation, with the person's consent (date and how it was given) recorded per
row, as `POST /experts` requires of an organisation listing its staff."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from app.experts.orcid import is_valid_orcid, normalise_orcid
from app.experts.schemas import Availability, ExpertCreate, ExpertField, ExpertOffer, FeeBasis, ListedBy, Tier
from app.integration.imports import cells
from app.integration.imports.base import (
    EXTERNAL_ID,
    LANGUAGE_OPTIONS,
    ORGANIZATION,
    ORGANIZATION_KIND,
    Column,
    ImportKind,
    concepts_from,
)
from app.search.text import fold

OFFER_OPTIONS = {
    **{offer.value.replace("_", " "): offer.value for offer in ExpertOffer},
    "tư vấn": "consulting",
    "tư vấn kỹ thuật": "consulting",
    "đánh giá": "assessment",
    "đánh giá công nghệ": "assessment",
    "thẩm định": "assessment",
    "thẩm định công nghệ": "assessment",
    "định giá": "valuation",
    "định giá công nghệ": "valuation",
    "đào tạo": "training",
    "hợp tác nghiên cứu": "joint_research",
    "nghiên cứu chung": "joint_research",
    "joint research": "joint_research",
    "cố vấn": "mentoring",
    "hướng dẫn": "mentoring",
    "kèm cặp": "mentoring",
}
FEE_OPTIONS = {
    **{fee.value.replace("_", " "): fee.value for fee in FeeBasis},
    "miễn phí": "pro_bono",
    "không thu phí": "pro_bono",
    "free": "pro_bono",
    "có phí": "paid",
    "trả phí": "paid",
    "thỏa thuận": "negotiable",
    "thoả thuận": "negotiable",
}
AVAILABILITY_OPTIONS = {
    **{a.value: a.value for a in Availability},
    "sẵn sàng": "available",
    "có thể nhận": "available",
    "hạn chế": "limited",
    "không nhận": "unavailable",
    "bận": "unavailable",
}
EXPERT_LANGUAGES = {
    **LANGUAGE_OPTIONS,
    "tiếng hàn": "ko",
    "korean": "ko",
    "tiếng trung": "zh",
    "chinese": "zh",
    "tiếng đức": "de",
    "german": "de",
    "tiếng pháp": "fr",
    "french": "fr",
    "tiếng nga": "ru",
    "russian": "ru",
}
FIELD_LABELS = {
    **{f.value.replace("_", " "): f.value for f in ExpertField},
    "chức danh": "title",
    "học hàm học vị": "title",
    "đơn vị công tác": "affiliation",
    "thành phố": "city",
    "ngôn ngữ": "languages",
    "tiểu sử": "bio",
    "giới thiệu": "bio",
    "từ khóa": "keywords",
    "năm kinh nghiệm": "industry_years",
    "kinh nghiệm doanh nghiệp": "industry_years",
    "trl cao nhất": "highest_trl",
    "số công bố": "publications_count",
    "công bố": "publications_count",
    "số sáng chế": "patents_count",
    "sáng chế": "patents_count",
    "orcid": "orcid",
    "khả năng nhận việc": "availability",
    "phí": "fee_basis",
    "hình thức phí": "fee_basis",
}


def _languages(value: Any) -> list[str]:
    """Language names (vi/en) or ISO 639-1 codes; a code this list does not name is left to the schema."""
    known = {fold(label): code for label, code in EXPERT_LANGUAGES.items()}
    return list(dict.fromkeys(known.get(fold(item), item.lower()) for item in cells.items(value)))


def _orcid(value: Any) -> str:
    text = normalise_orcid(cells.text(value))
    if not is_valid_orcid(text):
        raise cells.CellError("invalid_orcid", f"'{value}' is not an ORCID iD with a valid check digit")
    return text


def _consent_day(value: Any) -> datetime:
    """The day the person agreed; not later than today (in any time zone: a day's grace past UTC)."""
    day = cells.day(value)
    if day > datetime.now(UTC).date() + timedelta(days=1):
        raise cells.CellError("future_date", f"'{value}' is in the future: consent is recorded once given")
    return datetime.combine(day, time(), tzinfo=UTC)


def _visibility(row: dict[str, Any]) -> dict[str, str]:
    """Fields named under members-only or private; the rest keep the defaults (city, availability and fee
    basis: members; the others: public). A field named under both is private."""
    tiers = {name: Tier.MEMBERS.value for name in row.get("members_only") or []}
    tiers.update({name: Tier.PRIVATE.value for name in row.get("private") or []})
    return tiers


def _payload(row: dict[str, Any]) -> dict[str, Any]:
    expertise = row.get("expertise")
    concepts = concepts_from(expertise)
    words = [w for w in (cells.items(expertise) if expertise else []) if w not in concepts]
    contact = {"email": row.get("email"), "phone": row.get("phone")}
    consent = {"given_at": row.get("consent_date"), "method": row.get("consent_method")}
    payload = {
        "listed_by": ListedBy.ORGANIZATION.value,
        # Always an object: a missing half is then reported on its own column, as the schema requires it.
        "consent": {k: v for k, v in consent.items() if v is not None},
        "name": row.get("name"),
        "title": row.get("title"),
        "affiliation": row.get("affiliation"),
        "country": (row.get("country") or "VN").upper(),
        "city": row.get("city"),
        "overseas_vietnamese": row.get("overseas_vietnamese") or False,
        "languages": row.get("languages") or [],
        "headline": row.get("headline") or "",
        "bio": row.get("bio") or "",
        "concepts": concepts,
        "keywords": words,
        "industry_years": row.get("industry_years") or 0,
        "highest_trl": row.get("highest_trl"),
        "publications_count": row.get("publications_count") or 0,
        "patents_count": row.get("patents_count") or 0,
        "orcid": row.get("orcid"),
        "offers": row.get("offers") or [],
        "availability": row.get("availability") or Availability.AVAILABLE.value,
        "fee_basis": row.get("fee_basis") or FeeBasis.NEGOTIABLE.value,
        "contact": {k: v for k, v in contact.items() if v is not None},
        "visibility": _visibility(row),
    }
    return {key: value for key, value in payload.items() if value is not None}


KIND = ImportKind(
    name="expert",
    schema=ExpertCreate,
    to_payload=_payload,
    payload_columns={
        "concepts": "expertise",
        "keywords": "expertise",
        "contact.email": "email",
        "contact.phone": "phone",
        "consent.given_at": "consent_date",
        "consent.method": "consent_method",
        "visibility": "private",
    },
    columns=(
        EXTERNAL_ID,
        Column(
            "organization",
            ("Đơn vị lập hồ sơ", "Listed by", *ORGANIZATION.labels),
            required=True,
            help="The organisation listing the expert (the profile's owner); created when this exchange "
            "does not know it.",
        ),
        ORGANIZATION_KIND,
        Column("name", ("Họ và tên", "Name", "Họ tên", "Full name", "Chuyên gia", "Expert"), required=True),
        Column("title", ("Học hàm, học vị", "Title", "Chức danh", "Học vị")),
        Column("affiliation", ("Đơn vị công tác", "Affiliation", "Cơ quan công tác", "Nơi công tác")),
        Column("country", ("Quốc gia cư trú", "Country", "Quốc gia"), help="ISO 3166-1 alpha-2; VN by default."),
        Column("city", ("Thành phố", "City")),
        Column(
            "overseas_vietnamese",
            ("Kiều bào", "Overseas Vietnamese", "Người Việt ở nước ngoài"),
            cells.boolean,
            help="có/không.",
        ),
        Column(
            "languages",
            ("Ngôn ngữ làm việc", "Languages", "Ngoại ngữ"),
            _languages,
            help="Language names or ISO 639-1 codes, separated by commas.",
        ),
        Column("headline", ("Có thể hỗ trợ", "Headline", "Nội dung hỗ trợ"), help="What the expert can help with."),
        Column("bio", ("Tiểu sử", "Bio", "Giới thiệu", "Biography")),
        Column(
            "expertise",
            ("Chuyên môn", "Expertise", "Lĩnh vực chuyên môn", "Từ khóa", "Keywords"),
            help="Free text or concept ids, separated by commas; concepts are recognised in vi, en and ja, "
            "the other words are kept as keywords.",
        ),
        Column(
            "offers",
            ("Hình thức hỗ trợ", "Offers", "Dịch vụ"),
            cells.choices(OFFER_OPTIONS),
            help="tư vấn, đánh giá, định giá, đào tạo, hợp tác nghiên cứu, cố vấn "
            "(consulting, assessment, valuation, training, joint_research, mentoring).",
        ),
        Column(
            "fee_basis",
            ("Chi phí", "Fee basis", "Phí"),
            cells.choice(FEE_OPTIONS),
            help="miễn phí, có phí, thỏa thuận (pro_bono, paid, negotiable; the default).",
        ),
        Column(
            "availability",
            ("Khả năng nhận việc", "Availability"),
            cells.choice(AVAILABILITY_OPTIONS),
            help="sẵn sàng (the default), hạn chế, không nhận (available, limited, unavailable).",
        ),
        Column("orcid", ("Mã ORCID", "ORCID iD", "ORCID"), _orcid, help="Its check digit is verified."),
        Column("publications_count", ("Số công bố", "Publications"), cells.integer),
        Column("patents_count", ("Số bằng sáng chế", "Patents", "Số sáng chế"), cells.integer),
        Column("industry_years", ("Số năm kinh nghiệm doanh nghiệp", "Industry experience (years)"), cells.integer),
        Column("highest_trl", ("TRL cao nhất", "Highest TRL"), cells.integer, help="1–9."),
        Column(
            "email",
            ("Email", "E-mail", "Thư điện tử"),
            required=True,
            help="Never public: shown to the owner, and to a requester the expert accepted.",
        ),
        Column("phone", ("Điện thoại", "Phone", "Số điện thoại")),
        Column(
            "members_only",
            ("Chỉ thành viên xem", "Members only", "Members-only fields"),
            cells.choices(FIELD_LABELS),
            help="Fields shown to members of verified organisations only, e.g. thành phố, số công bố.",
        ),
        Column(
            "private",
            ("Không công khai", "Private", "Private fields"),
            cells.choices(FIELD_LABELS),
            help="Fields shown to the owner only; unnamed fields keep the defaults (city, availability and fee "
            "basis: members; the rest: public).",
        ),
        Column(
            "consent_date",
            ("Ngày đồng ý", "Consent date", "Ngày chấp thuận"),
            _consent_day,
            required=True,
            help="When the person agreed to be listed.",
        ),
        Column(
            "consent_method",
            ("Hình thức đồng ý", "Consent method", "Cách thức đồng ý"),
            required=True,
            help="How the consent was given, e.g. phiếu đồng ý ký ngày 02/11/2026.",
        ),
    ),
    example={
        "external_id": "CG-0001",
        "organization": "Viện Hóa học",
        "organization_kind": "viện",
        "name": "Nguyễn Thị Minh Hạnh",
        "title": "Phó Giáo sư, Tiến sĩ",
        "affiliation": "Kyushu University",
        "country": "JP",
        "city": "Fukuoka",
        "overseas_vietnamese": "có",
        "languages": "tiếng Việt, tiếng Nhật, tiếng Anh",
        "headline": "Đánh giá công nghệ xử lý nước thải bằng màng MBR cho doanh nghiệp.",
        "expertise": "xử lý nước thải, màng lọc MBR",
        "offers": "đánh giá, tư vấn",
        "fee_basis": "thỏa thuận",
        "orcid": "0000-0002-1825-0097",
        "publications_count": 42,
        "patents_count": 3,
        "industry_years": 6,
        "email": "hanh.nguyen@example.jp",
        "members_only": "thành phố",
        "consent_date": "02/11/2026",
        "consent_method": "Phiếu đồng ý có chữ ký",
    },
)
