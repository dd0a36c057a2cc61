"""Technology offers: the survey of transferable technologies (name, owner, field, TRL, IP, price)."""

from __future__ import annotations

from typing import Any

from app.integration.imports import cells
from app.integration.imports.base import (
    DESCRIPTION,
    EXTERNAL_ID,
    FIELD,
    IP_OPTIONS,
    KEYWORDS,
    LANGUAGE,
    ORGANIZATION,
    ORGANIZATION_KIND,
    PROVINCE,
    TRANSFER_TYPES,
    VISIBILITY,
    Column,
    ImportKind,
    listing_payload,
)
from app.listings.schemas import OfferCreate


def _payload(row: dict[str, Any]) -> dict[str, Any]:
    return listing_payload(
        row,
        {
            "trl": row.get("trl"),
            "ip_status": row.get("ip_status") or "none",
            "price_min": row.get("price_min"),
            "price_max": row.get("price_max"),
            "currency": row.get("currency") or "VND",
            "advantages": row.get("advantages"),
            "applications": row.get("applications"),
            "proposed_for_city": row.get("proposed_for_city") or False,
        },
    )


KIND = ImportKind(
    name="offer",
    schema=OfferCreate,
    to_payload=_payload,
    columns=(
        EXTERNAL_ID,
        ORGANIZATION,
        ORGANIZATION_KIND,
        Column("title", ("Tên công nghệ", "Title", "Technology", "Tên sản phẩm"), required=True),
        Column("summary", ("Tóm tắt", "Summary", "Mô tả tóm tắt"), required=True),
        DESCRIPTION,
        LANGUAGE,
        FIELD,
        KEYWORDS,
        Column("trl", ("Mức độ sẵn sàng (TRL)", "TRL", "Mức độ sẵn sàng"), cells.integer, required=True, help="1–9."),
        Column(
            "ip_status",
            ("Tình trạng sở hữu trí tuệ", "IP status", "Sở hữu trí tuệ"),
            cells.choice(IP_OPTIONS),
            help="none, know_how, patent_pending, patent_granted, utility_solution_granted, …",
        ),
        TRANSFER_TYPES,
        Column("price_min", ("Giá từ", "Price from", "Giá tối thiểu"), cells.amount),
        Column("price_max", ("Giá đến", "Price to", "Giá tối đa", "Giá chuyển giao"), cells.amount),
        Column("currency", ("Đơn vị tiền", "Currency"), help="VND by default."),
        Column("advantages", ("Ưu điểm", "Advantages")),
        Column("applications", ("Ứng dụng", "Applications", "Khả năng ứng dụng")),
        Column("proposed_for_city", ("Đề xuất chuyển giao tại thành phố", "Proposed for the city"), cells.boolean),
        PROVINCE,
        VISIBILITY,
    ),
    example={
        "external_id": "KS-2015-001",
        "organization": "Viện Tài nguyên và Môi trường biển",
        "organization_kind": "institute",
        "title": "Vật liệu lọc nano mangan oxit xử lý asen",
        "summary": "Vật liệu hấp phụ asen, sắt và mangan cho trạm cấp nước sạch nông thôn.",
        "field": "Công nghệ môi trường",
        "keywords": "xử lý asen, vật liệu lọc",
        "trl": 7,
        "ip_status": "giải pháp hữu ích",
        "transfer_types": "li xăng, hợp tác kỹ thuật",
        "price_min": "150.000.000",
        "price_max": "400.000.000",
        "province": "Hải Phòng",
    },
)
