"""Organisations: enterprises, institutes and intermediaries from a register or a survey."""

from __future__ import annotations

from typing import Any

from app.integration.imports import cells
from app.integration.imports.base import EXTERNAL_ID, FIELD_OPTIONS, ORGANIZATION_KIND_OPTIONS, Column, ImportKind
from app.organizations.schemas import OrganizationCreate


def _payload(row: dict[str, Any]) -> dict[str, Any]:
    payload = {
        "name": row.get("name"),
        "name_i18n": {"en": row["name_en"]} if row.get("name_en") else {},
        "kind": row.get("kind"),
        "country": (row.get("country") or "VN").upper(),
        "province": row.get("province"),
        "registration_code": row.get("registration_code"),
        "website": row.get("website"),
        "description": row.get("description"),
        "sectors": row.get("sectors") or [],
    }
    return {key: value for key, value in payload.items() if value is not None}


KIND = ImportKind(
    name="organization",
    schema=OrganizationCreate,
    to_payload=_payload,
    payload_columns={"name_i18n": "name_en"},
    columns=(
        EXTERNAL_ID,
        Column("name", ("Tên tổ chức", "Name", "Tên đơn vị", "Tên doanh nghiệp"), required=True),
        Column("name_en", ("Tên tiếng Anh", "English name")),
        Column("kind", ("Loại tổ chức", "Kind", "Loại hình"), cells.choice(ORGANIZATION_KIND_OPTIONS), required=True),
        Column("country", ("Quốc gia", "Country"), help="ISO 3166-1 alpha-2; VN by default."),
        Column("province", ("Tỉnh/thành phố", "Province", "Địa phương")),
        Column("registration_code", ("Mã số thuế", "Registration code", "Mã số doanh nghiệp")),
        Column("website", ("Trang web", "Website")),
        Column("description", ("Giới thiệu", "Description", "Mô tả")),
        Column("sectors", ("Lĩnh vực", "Sectors", "Ngành"), cells.choices(FIELD_OPTIONS)),
    ),
    example={
        "external_id": "DN-0001",
        "name": "Công ty CP Cơ khí Hải Phòng",
        "kind": "doanh nghiệp",
        "province": "Hải Phòng",
        "registration_code": "0200123456",
        "sectors": "cơ khí, tự động hóa",
    },
)
