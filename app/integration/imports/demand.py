"""Technology demands: the demand-survey form of the Can Tho programme (enterprise, sector, technology
need, budget, timeline), and the fuller demand columns."""

from __future__ import annotations

from typing import Any

from app.integration.imports import cells
from app.integration.imports.base import (
    DESCRIPTION,
    EXTERNAL_ID,
    FIELD,
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
from app.listings.schemas import DemandCreate

TITLE_LENGTH = 120


def _title_of(need: str) -> str:
    """A title from the need's first sentence, cut at a word within the length."""
    first = need.split(".")[0].strip()
    if len(first) <= TITLE_LENGTH:
        return first
    return first[:TITLE_LENGTH].rsplit(" ", 1)[0] + "…"


def _payload(row: dict[str, Any]) -> dict[str, Any]:
    need = row.get("technology_need")
    summary = row.get("summary") or need
    title = row.get("title") or (_title_of(need) if need else None)
    return listing_payload(
        {**row, "title": title, "summary": summary},
        {
            "problem_statement": row.get("problem_statement"),
            "requirements": row.get("requirements"),
            "min_trl": row.get("min_trl"),
            "budget_min": row.get("budget_min"),
            "budget_max": row.get("budget"),
            "currency": row.get("currency") or "VND",
            "wanted_by": row.get("timeline"),
            "deployment_province": row.get("province"),
            "co_development": row.get("co_development") or False,
        },
    )


KIND = ImportKind(
    name="demand",
    schema=DemandCreate,
    to_payload=_payload,
    payload_columns={"summary": "technology_need", "budget_max": "budget", "wanted_by": "timeline"},
    columns=(
        EXTERNAL_ID,
        Column(
            "organization",
            ("Doanh nghiệp", "Enterprise", *ORGANIZATION.labels),
            required=True,
            help=ORGANIZATION.help,
        ),
        ORGANIZATION_KIND,
        FIELD,
        Column(
            "technology_need",
            ("Nhu cầu công nghệ", "Technology need", "Nội dung nhu cầu", "Need"),
            required=True,
            help="What the enterprise needs; the title is its first sentence unless a title is given.",
        ),
        Column("title", ("Tên nhu cầu", "Title")),
        Column("summary", ("Tóm tắt", "Summary")),
        DESCRIPTION,
        Column("problem_statement", ("Vấn đề cần giải quyết", "Problem")),
        Column("requirements", ("Yêu cầu kỹ thuật", "Requirements")),
        Column("budget", ("Kinh phí dự kiến", "Budget", "Kinh phí", "Ngân sách"), cells.amount),
        Column("budget_min", ("Kinh phí tối thiểu", "Budget from"), cells.amount),
        Column("currency", ("Đơn vị tiền", "Currency"), help="VND by default."),
        Column(
            "timeline",
            ("Thời gian cần", "Timeline", "Thời hạn", "Thời gian thực hiện"),
            cells.day,
            help="A date, a month (06/2027), a quarter (Q2/2027) or a year.",
        ),
        Column("min_trl", ("TRL tối thiểu", "Minimum TRL"), cells.integer),
        Column("co_development", ("Cùng phát triển", "Co-development"), cells.boolean),
        KEYWORDS,
        TRANSFER_TYPES,
        LANGUAGE,
        PROVINCE,
        VISIBILITY,
    ),
    example={
        "external_id": "CT-2025-014",
        "organization": "Công ty TNHH Thủy sản Cần Thơ",
        "organization_kind": "doanh nghiệp",
        "field": "Nông nghiệp và chế biến thực phẩm",
        "technology_need": "Công nghệ xử lý nước thải chế biến thủy sản đạt QCVN 11 cột A, công suất 500 m³/ngày.",
        "budget": "3 tỷ",
        "timeline": "Q2/2027",
        "province": "Cần Thơ",
    },
)
