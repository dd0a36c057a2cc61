"""Reasons as sentences in the reader's language (vi, en, ja): what fits, apart from what falls short.

Codes never reach the reader: transfer types, fields, concepts and sub-fields
are shown by their labels, languages and countries by their names in the
reader's language (from Babel's CLDR data). A reason that adds little to the
score says little to the reader, so it is left out.
"""

from __future__ import annotations

from dataclasses import dataclass

from babel import Locale, UnknownLocaleError
from babel.core import negotiate_locale

from app.matching.engine import Reason
from app.taxonomy.data import get_taxonomy

LANGUAGES = ("vi", "en", "ja")
# Fits adding less than this to the score (out of 1) are not worth a line; nor is a text likeness below
# MIN_SIMILARITY ("Similar description (4 %)" tells the reader nothing).
MIN_CONTRIBUTION = 0.02
MIN_SIMILARITY = 0.15

_TEMPLATES: dict[str, dict[str, str]] = {
    "text": {"vi": "Nội dung tương đồng ({pct})", "en": "Similar description ({pct})", "ja": "内容の類似度 {pct}"},
    "concepts": {"vi": "Cùng chủ đề: {labels}", "en": "Shared topics: {labels}", "ja": "共通のテーマ: {labels}"},
    "field": {"vi": "Cùng lĩnh vực: {field}", "en": "Same field: {field}", "ja": "同じ分野: {field}"},
    "subfield": {"vi": "Cùng chuyên ngành: {labels}", "en": "Same sub-field: {labels}", "ja": "同じ専門分野: {labels}"},
    "meaning": {
        "vi": "Nội dung gần nghĩa với nhu cầu",
        "en": "Close in meaning to the listing",
        "ja": "内容の意味が近い",
    },
    "trl_ok": {
        "vi": "TRL {trl} ≥ yêu cầu tối thiểu {min_trl}",
        "en": "TRL {trl} ≥ required minimum {min_trl}",
        "ja": "TRL {trl} ≥ 必要最低 {min_trl}",
    },
    "trl_low": {
        "vi": "TRL {trl} thấp hơn mức tối thiểu yêu cầu {min_trl}",
        "en": "TRL {trl} is below the required minimum of {min_trl}",
        "ja": "TRL {trl} は必要最低 {min_trl} に届かない",
    },
    "trl": {
        "vi": "Mức sẵn sàng công nghệ TRL {trl}",
        "en": "Technology readiness TRL {trl}",
        "ja": "技術成熟度 TRL {trl}",
    },
    "budget_ok": {"vi": "Giá nằm trong ngân sách", "en": "Price within the budget", "ja": "予算内の価格"},
    "budget_near": {
        "vi": "Giá nằm ngoài ngân sách",
        "en": "Price outside the budget",
        "ja": "価格が予算の範囲外",
    },
    "transfer": {
        "vi": "Hình thức chuyển giao phù hợp: {types}",
        "en": "Transfer type both accept: {types}",
        "ja": "双方が受け入れる移転形態: {types}",
    },
    "geography": {"vi": "Phù hợp địa bàn: {place}", "en": "Serves the location: {place}", "ja": "対象地域: {place}"},
    "language": {
        "vi": "Ngôn ngữ làm việc chung: {languages}",
        "en": "Working language in common: {languages}",
        "ja": "共通の使用言語: {languages}",
    },
    "freshness": {"vi": "Cập nhật {days} ngày trước", "en": "Updated {days} days ago", "ja": "{days} 日前に更新"},
    "verified": {"vi": "Tổ chức đã được xác minh", "en": "Verified organisation", "ja": "認証済みの組織"},
    # experts
    "industry": {
        "vi": "{years} năm kinh nghiệm làm việc với doanh nghiệp",
        "en": "{years} years of industry experience",
        "ja": "産業界での経験 {years} 年",
    },
    "trl_reached": {
        "vi": "Đã đưa công nghệ tới TRL {trl}",
        "en": "Has brought technology to TRL {trl}",
        "ja": "技術を TRL {trl} まで到達させた実績",
    },
    "patents": {"vi": "{count} bằng độc quyền sáng chế", "en": "{count} patents", "ja": "特許 {count} 件"},
    "publications": {"vi": "{count} công bố khoa học", "en": "{count} publications", "ja": "論文 {count} 件"},
    "consultations": {
        "vi": "{count} lần tư vấn hữu ích trên sàn",
        "en": "{count} helpful consultations on the exchange",
        "ja": "取引所での有益な相談 {count} 件",
    },
    "offers": {"vi": "Nhận: {offers}", "en": "Offers: {offers}", "ja": "提供できる支援: {offers}"},
    "stale": {
        "vi": "Hồ sơ chưa được xác nhận lại trong hơn 12 tháng",
        "en": "Profile not confirmed for over 12 months",
        "ja": "12か月以上プロフィールが確認されていない",
    },
}
EXPERT_OFFER_LABELS: dict[str, dict[str, str]] = {
    "consulting": {"vi": "tư vấn", "en": "consulting", "ja": "コンサルティング"},
    "assessment": {"vi": "đánh giá công nghệ", "en": "technology assessment", "ja": "技術評価"},
    "valuation": {"vi": "định giá", "en": "valuation", "ja": "価値評価"},
    "training": {"vi": "đào tạo", "en": "training", "ja": "研修"},
    "joint_research": {"vi": "nghiên cứu chung", "en": "joint research", "ja": "共同研究"},
    "mentoring": {"vi": "cố vấn", "en": "mentoring", "ja": "メンタリング"},
}
_INFERRED = {"vi": " (suy ra từ nội dung)", "en": " (inferred from the text)", "ja": "（本文から推定）"}
TRANSFER_LABELS: dict[str, dict[str, str]] = {
    "licence": {"vi": "cấp phép (li-xăng)", "en": "licence", "ja": "ライセンス"},
    "assignment": {"vi": "chuyển nhượng", "en": "assignment", "ja": "権利譲渡"},
    "joint_venture": {"vi": "liên doanh", "en": "joint venture", "ja": "合弁事業"},
    "technical_cooperation": {"vi": "hợp tác kỹ thuật", "en": "technical cooperation", "ja": "技術協力"},
    "rd_cooperation": {"vi": "hợp tác nghiên cứu", "en": "R&D cooperation", "ja": "共同研究開発"},
    "commercial_with_assistance": {
        "vi": "mua bán kèm hỗ trợ kỹ thuật",
        "en": "sale with technical assistance",
        "ja": "技術支援付き販売",
    },
    "consulting_services": {"vi": "dịch vụ tư vấn", "en": "consulting services", "ja": "コンサルティング"},
    "turnkey_equipment": {"vi": "thiết bị trọn gói", "en": "turnkey equipment", "ja": "ターンキー設備"},
}


@dataclass(frozen=True)
class Explanation:
    """A match's reasons for the reader: fits (adding to the score, largest first) and gaps."""

    fits: list[tuple[Reason, str]]
    gaps: list[tuple[Reason, str]]


def negotiate(accept_language: str | None, default: str = "vi") -> str:
    """The best of vi, en, ja for an Accept-Language header, honouring quality values ("ja;q=0.2, en");
    `default` (the listing's own language, where there is one) when it names none of them."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if tag.strip() and tag.strip() != "*" and quality > 0:
            ranked.append((-quality, position, tag.strip()))
    preferred = [tag for _q, _p, tag in sorted(ranked)]
    return negotiate_locale(preferred, list(LANGUAGES), sep="-") or (default if default in LANGUAGES else "vi")


def language_of(accept_language: str | None, default: str = "vi") -> str:
    return negotiate(accept_language, default)


def _locale(language: str) -> Locale:
    return Locale.parse(language)


def language_name(code: str, language: str) -> str:
    try:
        return str(_locale(language).languages.get(code, code))
    except UnknownLocaleError:
        return code


def country_name(code: str, language: str) -> str:
    return str(_locale(language).territories.get(code.upper(), code))


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


def is_gap(reason: Reason) -> bool:
    """A shortfall: the candidate does not reach what the need asks (it may still earn partial credit)."""
    p = reason.params
    if reason.feature == "trl":
        return p.get("min_trl") is not None and int(p["trl"]) < int(p["min_trl"])  # type: ignore[call-overload]
    if reason.feature == "budget":
        return not p["overlap"]
    return reason.feature == "stale"


def worth_showing(reason: Reason) -> bool:
    if reason.feature == "freshness":
        return False  # every listing was updated some time; the score's share of it is tiny
    if reason.feature == "text" and float(reason.params.get("similarity", 0.0)) < MIN_SIMILARITY:  # type: ignore[arg-type]
        return False
    return reason.contribution >= MIN_CONTRIBUTION


def explain(reasons: tuple[Reason, ...] | list[Reason], language: str) -> Explanation:
    fits, gaps = [], []
    for reason in reasons:
        if is_gap(reason):
            gaps.append((reason, sentence(reason, language)))
        elif worth_showing(reason):
            fits.append((reason, sentence(reason, language)))
    return Explanation(fits, gaps)


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
        types = [TRANSFER_LABELS.get(t, {}).get(language, t.replace("_", " ")) for t in _strings(p["types"])]
        return _TEMPLATES["transfer"][language].format(types=", ".join(types))
    if reason.feature == "geography":
        place = p.get("province") or country_name(str(p.get("country") or ""), language)
        return _TEMPLATES["geography"][language].format(place=place)
    if reason.feature == "language":
        names = [language_name(code, language) for code in _strings(p["languages"])]
        return _TEMPLATES["language"][language].format(languages=", ".join(names))
    if reason.feature == "freshness":
        return _TEMPLATES["freshness"][language].format(days=p["days"])
    if reason.feature == "industry":
        return _TEMPLATES["industry"][language].format(years=p["years"])
    if reason.feature == "trl_reached":
        return _TEMPLATES["trl_reached"][language].format(trl=p["trl"])
    if reason.feature in ("patents", "publications", "consultations"):
        return _TEMPLATES[reason.feature][language].format(count=p["count"])
    if reason.feature == "offers":
        offers = [EXPERT_OFFER_LABELS.get(o, {}).get(language, o) for o in _strings(p["offers"])]
        return _TEMPLATES["offers"][language].format(offers=", ".join(offers))
    return _TEMPLATES[reason.feature][language]
