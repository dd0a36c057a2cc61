"""What an import kind is: its columns (with the header names people use, in Vietnamese and English)
and how a row's cells become the create payload that the API's own schema validates."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from app.integration.imports import cells
from app.listings.schemas import IpStatus, TransferType
from app.matching.concepts import infer_concepts
from app.organizations.schemas import OrganizationKind
from app.search.text import fold
from app.taxonomy.data import get_taxonomy
from app.vocabulary import FieldCode

MAX_CONCEPTS = 20


@dataclass(frozen=True)
class Column:
    field: str
    labels: tuple[str, ...]  # the template's Vietnamese header first, then English and other names met on forms
    parse: Callable[[Any], Any] = cells.text
    required: bool = False
    help: str = ""

    @property
    def header(self) -> str:
        return self.labels[0]


@dataclass(frozen=True)
class ImportKind:
    name: str
    columns: tuple[Column, ...]
    schema: type[BaseModel]
    # Parsed cells by column field → the payload the schema validates.
    to_payload: Callable[[dict[str, Any]], dict[str, Any]]
    # Payload keys (or `key.subkey` of a nested object) that come from a column of another name, for
    # reporting errors on the right column.
    payload_columns: Mapping[str, str] = field(default_factory=dict)
    example: Mapping[str, Any] = field(default_factory=dict)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.field == name)

    def column_of(self, loc: tuple[int | str, ...]) -> str | None:
        """The column of a validation error's location (None for an error of the whole row)."""
        if not loc:
            return None
        nested = ".".join(str(part) for part in loc[:2])
        if nested in self.payload_columns:
            return self.payload_columns[nested]
        return self.payload_columns.get(str(loc[0]), str(loc[0]))


def external_key(row: Mapping[str, Any], *names: str) -> str:
    """The row's external id, or one derived from the fields that name the record, so that a corrected
    file without ids still updates the records its first upload created."""
    given = row.get("external_id")
    if given:
        return str(given)[:128]
    digest = hashlib.sha256("|".join(fold(str(row.get(n) or "")) for n in names).encode()).hexdigest()
    return f"auto:{digest[:32]}"


def concepts_from(keywords: Any) -> list[str]:
    """Concept ids given as ids, plus those the free-text keywords name (in any language). Concepts the
    listing's texts mention are inferred apart when it is saved (`inferred_concepts`)."""
    given = cells.items(keywords) if not cells.is_blank(keywords) else []
    if not given:
        return []
    known = set(given) - set(get_taxonomy().unknown_concepts(given))
    words = [g for g in given if g not in known]
    inferred = infer_concepts(*words) if words else []
    ordered = [g for g in given if g in known] + [c for c in inferred if c not in known]
    return list(dict.fromkeys(ordered))[:MAX_CONCEPTS]


def _labelled(codes: type[Any], labels: Mapping[str, str]) -> dict[str, str]:
    options = {member.value.replace("_", " "): member.value for member in codes}
    options.update(labels)
    return options


FIELD_OPTIONS = {
    **{label: f.code for f in get_taxonomy().fields for label in f.labels.values()},
    **{code.value.replace("_", " "): code.value for code in FieldCode},
    "môi trường": "environment",
    "sinh học": "biotech",
    "năng lượng": "new_energy",
    "tự động hóa": "automation",
    "vật liệu": "new_materials",
    "công nghệ thông tin": "ict",
    "chuyển đổi số": "ict",
    "nông nghiệp": "agriculture_food",
    "thủy sản": "agriculture_food",
    "chế biến thực phẩm": "agriculture_food",
    "cơ khí": "mechanical_manufacturing",
    "y tế": "health",
    "dược": "health",
    "logistics": "marine_logistics",
    "khác": "other",
}
IP_OPTIONS = _labelled(
    IpStatus,
    {
        "không": "none",
        "chưa có": "none",
        "bí quyết": "know_how",
        "bí quyết kỹ thuật": "know_how",
        "đang đăng ký sáng chế": "patent_pending",
        "đơn sáng chế": "patent_pending",
        "bằng độc quyền sáng chế": "patent_granted",
        "sáng chế": "patent_granted",
        "giải pháp hữu ích": "utility_solution_granted",
        "bản quyền": "copyright",
        "giống cây trồng": "plant_variety",
    },
)
TRANSFER_OPTIONS = _labelled(
    TransferType,
    {
        "li xăng": "licence",
        "license": "licence",
        "chuyển nhượng": "assignment",
        "liên doanh": "joint_venture",
        "hợp tác kỹ thuật": "technical_cooperation",
        "hợp tác nghiên cứu": "rd_cooperation",
        "mua bán có hỗ trợ kỹ thuật": "commercial_with_assistance",
        "tư vấn": "consulting_services",
        "dịch vụ tư vấn": "consulting_services",
        "chìa khóa trao tay": "turnkey_equipment",
        "thiết bị": "turnkey_equipment",
    },
)
ORGANIZATION_KIND_OPTIONS = _labelled(
    OrganizationKind,
    {
        "doanh nghiệp": "enterprise",
        "công ty": "enterprise",
        "viện": "institute",
        "viện nghiên cứu": "institute",
        "trường": "university",
        "trường đại học": "university",
        "đại học": "university",
        "tổ chức trung gian": "intermediary",
        "cơ quan nhà nước": "government",
        "khác": "other",
    },
)
LANGUAGE_OPTIONS = {
    "tiếng việt": "vi",
    "vietnamese": "vi",
    "tiếng anh": "en",
    "english": "en",
    "tiếng nhật": "ja",
    "japanese": "ja",
}
VISIBILITY_OPTIONS = {"công khai": "public", "public": "public", "ẩn danh": "anonymous", "anonymous": "anonymous"}

# Columns every listing kind shares.
EXTERNAL_ID = Column("external_id", ("Mã hồ sơ", "External ID", "ID", "Mã", "Mã số"), help="Your id of the record.")
ORGANIZATION = Column(
    "organization",
    ("Tổ chức", "Organization", "Organisation", "Đơn vị", "Chủ sở hữu", "Owner"),
    required=True,
    help="The owner's name; created when this exchange does not know it.",
)
ORGANIZATION_KIND = Column(
    "organization_kind",
    ("Loại tổ chức", "Organization kind", "Loại hình"),
    cells.choice(ORGANIZATION_KIND_OPTIONS),
    help="enterprise, institute, university, intermediary, government, other.",
)
LANGUAGE = Column("language", ("Ngôn ngữ", "Language"), cells.choice(LANGUAGE_OPTIONS), help="vi (default), en, ja.")
DESCRIPTION = Column("description", ("Mô tả", "Description", "Mô tả chi tiết"))
FIELD = Column(
    "field",
    ("Lĩnh vực", "Field", "Sector", "Ngành", "Lĩnh vực công nghệ"),
    cells.choice(FIELD_OPTIONS, cutoff=70),
    required=True,
    help="A technology field, by code or name.",
)
KEYWORDS = Column(
    "keywords",
    ("Từ khóa", "Keywords", "Từ khoá"),
    help="Free text or concept ids, separated by commas; concepts are recognised in vi, en and ja.",
)
TRANSFER_TYPES = Column(
    "transfer_types",
    ("Hình thức chuyển giao", "Transfer types", "Phương thức chuyển giao"),
    cells.choices(TRANSFER_OPTIONS),
)
PROVINCE = Column("province", ("Tỉnh/thành phố", "Province", "Địa phương", "Tỉnh"))
VISIBILITY = Column(
    "visibility", ("Hiển thị", "Visibility"), cells.choice(VISIBILITY_OPTIONS), help="public (default) or anonymous."
)


def listing_payload(row: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """The fields every listing kind maps the same way."""
    payload = {
        "language": row.get("language") or "vi",
        "title": row.get("title"),
        "summary": row.get("summary"),
        "description": row.get("description") or "",
        "field": row.get("field"),
        "transfer_types": row.get("transfer_types") or [],
        "province": row.get("province"),
        "visibility": row.get("visibility") or "public",
        **extra,
    }
    payload["concepts"] = concepts_from(row.get("keywords"))
    return {key: value for key, value in payload.items() if value is not None}
