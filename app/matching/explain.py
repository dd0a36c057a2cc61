"""Reasons as sentences in the caller's language (vi, en, ja)."""

from __future__ import annotations

from app.matching.engine import Reason
from app.taxonomy.data import get_taxonomy

LANGUAGES = ("vi", "en", "ja")

_TEMPLATES: dict[str, dict[str, str]] = {
    "text": {"vi": "Nội dung tương đồng ({pct})", "en": "Similar description ({pct})", "ja": "内容の類似度 {pct}"},
    "concepts": {"vi": "Cùng chủ đề: {labels}", "en": "Shared topics: {labels}", "ja": "共通のテーマ: {labels}"},
    "field": {"vi": "Cùng lĩnh vực: {field}", "en": "Same field: {field}", "ja": "同じ分野: {field}"},
    "subfield": {"vi": "Cùng chuyên ngành: {labels}", "en": "Same sub-field: {labels}", "ja": "同じ専門分野: {labels}"},
    "trl_ok": {
        "vi": "TRL {trl} ≥ yêu cầu tối thiểu {min_trl}",
        "en": "TRL {trl} ≥ required minimum {min_trl}",
        "ja": "TRL {trl} ≥ 必要最低 {min_trl}",
    },
    "trl_low": {
        "vi": "TRL {trl} thấp hơn yêu cầu tối thiểu {min_trl}",
        "en": "TRL {trl} below the required {min_trl}",
        "ja": "TRL {trl} は必要最低 {min_trl} 未満",
    },
    "trl": {
        "vi": "Mức sẵn sàng công nghệ TRL {trl}",
        "en": "Technology readiness TRL {trl}",
        "ja": "技術成熟度 TRL {trl}",
    },
    "budget_ok": {"vi": "Giá nằm trong ngân sách", "en": "Price within the budget", "ja": "予算内の価格"},
    "budget_near": {"vi": "Giá gần với ngân sách", "en": "Price close to the budget", "ja": "予算に近い価格"},
    "transfer": {
        "vi": "Hình thức chuyển giao phù hợp: {types}",
        "en": "Transfer type both accept: {types}",
        "ja": "移転形態が一致: {types}",
    },
    "geography": {"vi": "Phù hợp địa bàn: {place}", "en": "Fits the location: {place}", "ja": "地域が一致: {place}"},
    "language": {
        "vi": "Ngôn ngữ chung: {languages}",
        "en": "Language in common: {languages}",
        "ja": "共通言語: {languages}",
    },
    "freshness": {"vi": "Cập nhật {days} ngày trước", "en": "Updated {days} days ago", "ja": "{days} 日前に更新"},
    "verified": {"vi": "Tổ chức đã được xác minh", "en": "Verified organisation", "ja": "認証済みの組織"},
}
_INFERRED = {"vi": " (suy ra từ nội dung)", "en": " (inferred from the text)", "ja": "（本文から推定）"}


def language_of(accept_language: str | None) -> str:
    """The first of vi, en, ja that the Accept-Language header names; Vietnamese by default."""
    for part in (accept_language or "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return "vi"


def _field_label(code: str, language: str) -> str:
    field = next((f for f in get_taxonomy().fields if f.code == code), None)
    label = field.labels[language] if field else code
    return label[0].lower() + label[1:] if language == "vi" else label


def _concept_labels(ids: list[str], inferred: list[str], language: str) -> str:
    concepts = get_taxonomy().concepts
    return ", ".join(
        concepts[i].labels[language] + (_INFERRED[language] if i in inferred else "") for i in ids if i in concepts
    )


def _strings(value: object) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list | tuple | set | frozenset) else []


def sentence(reason: Reason, language: str) -> str:
    p = reason.params
    if reason.feature == "text":
        return _TEMPLATES["text"][language].format(pct=f"{float(p['similarity']):.0%}")  # type: ignore[arg-type]
    if reason.feature == "concepts":
        labels = _concept_labels(_strings(p["shared"]), _strings(p["inferred"]), language)
        return _TEMPLATES["concepts"][language].format(labels=labels)
    if reason.feature == "subfield":
        subfields = get_taxonomy().subfields
        labels = ", ".join(subfields[c].labels[language] for c in _strings(p["subfields"]) if c in subfields)
        return _TEMPLATES["subfield"][language].format(labels=labels)
    if reason.feature == "field":
        return _TEMPLATES["field"][language].format(field=_field_label(str(p["field"]), language))
    if reason.feature == "trl":
        if p.get("min_trl") is None:
            return _TEMPLATES["trl"][language].format(trl=p["trl"])
        key = "trl_ok" if int(p["trl"]) >= int(p["min_trl"]) else "trl_low"  # type: ignore[call-overload]
        return _TEMPLATES[key][language].format(trl=p["trl"], min_trl=p["min_trl"])
    if reason.feature == "budget":
        return _TEMPLATES["budget_ok" if p["overlap"] else "budget_near"][language]
    if reason.feature == "transfer":
        return _TEMPLATES["transfer"][language].format(types=", ".join(_strings(p["types"])))
    if reason.feature == "geography":
        place = p.get("province") or p.get("country")
        return _TEMPLATES["geography"][language].format(place=place)
    if reason.feature == "language":
        return _TEMPLATES["language"][language].format(languages=", ".join(_strings(p["languages"])))
    if reason.feature == "freshness":
        return _TEMPLATES["freshness"][language].format(days=p["days"])
    return _TEMPLATES[reason.feature][language]
