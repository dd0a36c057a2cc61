"""Search documents: pure functions from records to the flat dicts every backend indexes.

A document carries what a search hit shows (never a contact, never the owner
of an anonymous listing, nor its kind) and the `search_*` texts the engines match against.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any

from app.experts.schemas import ExpertField
from app.experts.visibility import Reader, public_texts, visible_fields
from app.listings.texts import listing_texts
from app.models import Expert, Listing, Organization
from app.money import format_decimal
from app.search.text import cjk_bigrams, cjk_text, tone_text
from app.taxonomy.data import get_taxonomy

LOCAL_SOURCE = "local"


class Fields:
    ID = "id"
    KIND = "kind"
    REFERENCE = "reference"
    TITLE = "title"
    SUMMARY = "summary"
    LANGUAGE = "language"
    TRANSLATIONS = "translations"
    SEARCH_TITLE = "search_title"
    SEARCH_SUMMARY = "search_summary"
    SEARCH_DESCRIPTION = "search_description"
    KEYWORDS = "keywords"
    CJK = "search_cjk"
    TONES = "search_tones"
    FIELD = "field"
    CONCEPTS = "concepts"
    TRL = "trl"
    MIN_TRL = "min_trl"
    IP_STATUS = "ip_status"
    TRANSFER_TYPES = "transfer_types"
    OWNER_ID = "organization_id"
    OWNER_NAME = "organization_name"
    OWNER_KIND = "owner_kind"
    OWNER_VERIFIED = "owner_verified"
    COUNTRY = "country"
    PROVINCE = "province"
    ORIGIN_KIND = "origin_kind"
    PROPOSED = "proposed_for_city"
    # provenance: `local` for this exchange's own listings, else the import or harvest source
    SOURCE = "source"
    PRICE_MIN = "price_min"
    PRICE_MAX = "price_max"
    # the low price as a number, for Meilisearch's sort only (the embedded engine indexes `price_min`'s
    # decimal string as a float itself); hits show the exact decimal strings
    PRICE_SORT = "price_sort"
    CURRENCY = "currency"
    VISIBILITY = "visibility"
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"
    EXPIRES_AT = "expires_at"
    # organisations
    NAME = "name"
    SECTORS = "sectors"
    SERVICES = "services"
    VERIFIED = "verified"
    LANGUAGES = "languages"
    # experts
    HEADLINE = "headline"
    AFFILIATION = "affiliation"
    CITY = "city"
    OVERSEAS = "overseas_vietnamese"
    OFFERS = "offers"
    LAST_CONFIRMED_AT = "last_confirmed_at"


SEARCH_ONLY = (
    Fields.SEARCH_TITLE,
    Fields.SEARCH_SUMMARY,
    Fields.SEARCH_DESCRIPTION,
    Fields.KEYWORDS,
    Fields.CJK,
    Fields.TONES,
    Fields.PRICE_SORT,
)


def _epoch(value: datetime | None) -> int | None:
    return int(value.timestamp()) if value is not None else None


def _concept_words(concept_ids: list[str]) -> str:
    return _concept_words_cached(tuple(concept_ids))


@lru_cache(maxsize=16_384)
def _concept_words_cached(concept_ids: tuple[str, ...]) -> str:
    taxonomy = get_taxonomy()
    words: list[str] = []
    for concept_id in concept_ids:
        concept = taxonomy.concepts.get(concept_id)
        if concept is not None:
            words += [*concept.labels.values(), *concept.synonyms]
    return " · ".join(words)


def cjk_with_keywords(own: list[str], keywords: str) -> str:
    """The bigram field: the document's own text, then each bigram of its concepts' labels and synonyms
    once — a concept with many Japanese synonyms sharing a word (浄水器, 浄水装置) must not count that word
    more often than a listing that writes it in its own title."""
    own_grams = cjk_text("\n".join(own))
    keyword_grams = " ".join(dict.fromkeys(cjk_bigrams(keywords)))
    return f"{own_grams} {keyword_grams}".strip()


def listing_document(listing: Listing | Any, owner: Organization | Any) -> dict[str, Any]:
    """`listing` and `owner` are mapped objects or plain rows with the same columns."""
    texts = listing_texts(listing)
    concepts = list(dict.fromkeys([*(listing.concepts or []), *(getattr(listing, "inferred_concepts", None) or [])]))
    keywords = _concept_words(concepts)
    is_offer = listing.kind == "offer"
    anonymous = listing.visibility == "anonymous"
    price_min = listing.price_min if is_offer else listing.budget_min
    price_max = listing.price_max if is_offer else listing.budget_max
    document: dict[str, Any] = {
        Fields.ID: str(listing.id),
        Fields.KIND: listing.kind,
        Fields.REFERENCE: listing.reference,
        Fields.TITLE: listing.title,
        Fields.SUMMARY: listing.summary,
        Fields.LANGUAGE: listing.language,
        Fields.TRANSLATIONS: {
            lang: {"title": t.get("title"), "summary": t.get("summary")}
            for lang, t in (listing.translations or {}).items()
        },
        Fields.SEARCH_TITLE: "\n".join(texts.titles),
        Fields.SEARCH_SUMMARY: "\n".join(texts.summaries),
        Fields.SEARCH_DESCRIPTION: "\n".join(texts.descriptions),
        Fields.KEYWORDS: keywords,
        Fields.CJK: cjk_with_keywords(list(texts.all()), keywords),
        # for Meilisearch, which folds every mark: the marked words spelled in Telex (see `tone_key`)
        Fields.TONES: tone_text("\n".join([*texts.all(), keywords])),
        Fields.FIELD: listing.field,
        Fields.CONCEPTS: concepts,
        Fields.TRL: listing.trl,
        Fields.MIN_TRL: listing.min_trl,
        Fields.IP_STATUS: listing.ip_status,
        Fields.TRANSFER_TYPES: list(listing.transfer_types or []),
        Fields.COUNTRY: listing.country,
        Fields.PROVINCE: listing.province,
        Fields.ORIGIN_KIND: listing.origin_kind,
        Fields.PROPOSED: listing.proposed_for_city,
        Fields.SOURCE: getattr(listing, "source", None) or LOCAL_SOURCE,
        Fields.PRICE_MIN: format_decimal(price_min),
        Fields.PRICE_MAX: format_decimal(price_max),
        Fields.PRICE_SORT: float(price_min) if price_min is not None else None,
        Fields.CURRENCY: listing.currency,
        Fields.VISIBILITY: listing.visibility,
        Fields.CREATED_AT: _epoch(listing.created_at),
        Fields.UPDATED_AT: _epoch(listing.updated_at),
        Fields.EXPIRES_AT: _epoch(listing.expires_at),
    }
    if not anonymous:
        document |= {
            Fields.OWNER_ID: str(owner.id),
            Fields.OWNER_NAME: owner.name,
            Fields.OWNER_VERIFIED: owner.verified,
            # Only here: a filter or facet on the owner's kind must not find anonymous listings either.
            Fields.OWNER_KIND: owner.kind,
        }
    return document


def organization_document(organization: Organization) -> dict[str, Any]:
    names = [organization.name, *(organization.name_i18n or {}).values()]
    descriptions = [organization.description or "", *(organization.description_i18n or {}).values()]
    return {
        Fields.ID: str(organization.id),
        Fields.NAME: organization.name,
        Fields.TRANSLATIONS: dict(organization.name_i18n or {}),
        Fields.SEARCH_TITLE: "\n".join(names),
        Fields.SEARCH_SUMMARY: "",
        Fields.SEARCH_DESCRIPTION: "\n".join(d for d in descriptions if d),
        Fields.KEYWORDS: " · ".join([*(organization.sectors or []), *(organization.services or [])]),
        Fields.CJK: cjk_text("\n".join([*names, *descriptions])),
        Fields.TONES: tone_text("\n".join([*names, *descriptions])),
        Fields.OWNER_KIND: organization.kind,
        Fields.COUNTRY: organization.country,
        Fields.PROVINCE: organization.province,
        Fields.SECTORS: list(organization.sectors or []),
        Fields.SERVICES: list(organization.services or []),
        Fields.LANGUAGES: list(organization.languages or []),
        Fields.VERIFIED: organization.verified,
        Fields.CREATED_AT: _epoch(organization.created_at),
        Fields.UPDATED_AT: _epoch(organization.updated_at),
    }


def expert_document(expert: Expert | Any) -> dict[str, Any]:
    """An expert as anyone may see it: only the fields the owner made public (see `app.experts.visibility`)."""
    texts = public_texts(expert)
    shown = visible_fields(expert, Reader.PUBLIC)
    concepts = list(dict.fromkeys([*(expert.concepts or []), *(expert.inferred_concepts or [])]))
    keywords = " · ".join(part for part in (_concept_words(concepts), texts["keywords"]) if part)
    titles = [texts["name"], texts["title"]]
    own = [*titles, texts["headline"], texts["bio"], texts["affiliation"]]
    every = [*own, keywords]
    return {
        Fields.ID: str(expert.id),
        Fields.NAME: expert.name,
        Fields.TITLE: texts["title"] or None,
        Fields.HEADLINE: expert.headline or "",
        Fields.AFFILIATION: texts["affiliation"] or None,
        Fields.SEARCH_TITLE: "\n".join(t for t in titles if t),
        Fields.SEARCH_SUMMARY: texts["headline"],
        Fields.SEARCH_DESCRIPTION: "\n".join(t for t in (texts["bio"], texts["affiliation"]) if t),
        Fields.KEYWORDS: keywords,
        Fields.CJK: cjk_with_keywords(own, keywords),
        Fields.TONES: tone_text("\n".join(every)),
        Fields.COUNTRY: expert.country,
        Fields.CITY: expert.city if ExpertField.CITY in shown else None,
        Fields.OVERSEAS: bool(expert.overseas_vietnamese),
        Fields.LANGUAGES: list(expert.languages or []) if ExpertField.LANGUAGES in shown else [],
        Fields.CONCEPTS: concepts,
        Fields.OFFERS: list(expert.offers or []),
        Fields.CREATED_AT: _epoch(expert.created_at),
        Fields.UPDATED_AT: _epoch(expert.updated_at),
        Fields.LAST_CONFIRMED_AT: _epoch(expert.last_confirmed_at),
    }


def display(document: dict[str, Any]) -> dict[str, Any]:
    """What a hit shows: the document without the texts made only for matching."""
    return {key: value for key, value in document.items() if key not in SEARCH_ONLY}
