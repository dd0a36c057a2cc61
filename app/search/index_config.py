"""Index settings for every backend, in one place: what is searched, filtered, faceted and sorted."""

from __future__ import annotations

from dataclasses import dataclass, replace

from app.search.documents import Fields
from app.search.text import MIN_WORD_SIZE_ONE_TYPO, MIN_WORD_SIZE_TWO_TYPOS
from app.taxonomy.data import get_taxonomy

OFFERS, DEMANDS, ORGANIZATIONS, EXPERTS = "offers", "demands", "organizations", "experts"
INDEXES = (OFFERS, DEMANDS, ORGANIZATIONS, EXPERTS)
# Shown with the matched words marked, where a document has them.
HIGHLIGHTED = (Fields.TITLE, Fields.SUMMARY, Fields.NAME, Fields.HEADLINE)


@dataclass(frozen=True)
class IndexConfig:
    name: str
    # Searchable texts with their weight (the order is Meilisearch's attribute ranking).
    searchable: tuple[tuple[str, float], ...]
    # Exact-value filters (strings and booleans; several values of one field match any).
    keyword_filters: tuple[str, ...]
    # Numeric filters and sorts (ranges).
    numeric: tuple[str, ...]
    sortable: tuple[str, ...]
    # A filter always applied for public searches: documents past `expires_at` are hidden.
    expires: bool
    # When the owner last confirmed the document is current: public search ranks those not confirmed
    # for `expert_stale_days` below comparable fresh ones, and flags them.
    confirmed: str | None = None

    @property
    def facetable(self) -> tuple[str, ...]:
        return self.keyword_filters

    def searching_only(self, fields: tuple[str, ...]) -> IndexConfig:
        """The same index searched on some of its texts only (all of them when `fields` is empty)."""
        if not fields:
            return self
        unknown = set(fields) - {name for name, _ in self.searchable}
        if unknown:
            raise ValueError(f"not searchable in {self.name}: {', '.join(sorted(unknown))}")
        return replace(self, searchable=tuple(item for item in self.searchable if item[0] in fields))


_LISTING_SEARCHABLE = (
    (Fields.SEARCH_TITLE, 4.0),
    (Fields.KEYWORDS, 3.0),
    (Fields.SEARCH_SUMMARY, 2.0),
    (Fields.SEARCH_DESCRIPTION, 1.0),
)
_LISTING_KEYWORDS = (
    Fields.FIELD,
    Fields.CONCEPTS,
    Fields.IP_STATUS,
    Fields.TRANSFER_TYPES,
    Fields.OWNER_KIND,
    Fields.OWNER_ID,
    Fields.COUNTRY,
    Fields.PROVINCE,
    Fields.LANGUAGE,
    Fields.ORIGIN_KIND,
    Fields.PROPOSED,
    Fields.SOURCE,
)
_LISTING_NUMERIC = (
    Fields.TRL,
    Fields.MIN_TRL,
    Fields.PRICE_MIN,
    Fields.CREATED_AT,
    Fields.UPDATED_AT,
    Fields.EXPIRES_AT,
)

CONFIGS: dict[str, IndexConfig] = {
    name: IndexConfig(
        name=name,
        searchable=_LISTING_SEARCHABLE,
        keyword_filters=_LISTING_KEYWORDS,
        numeric=_LISTING_NUMERIC,
        sortable=(Fields.CREATED_AT, Fields.UPDATED_AT, Fields.TRL, Fields.MIN_TRL, Fields.PRICE_MIN),
        expires=True,
    )
    for name in (OFFERS, DEMANDS)
} | {
    ORGANIZATIONS: IndexConfig(
        name=ORGANIZATIONS,
        searchable=((Fields.SEARCH_TITLE, 4.0), (Fields.KEYWORDS, 2.0), (Fields.SEARCH_DESCRIPTION, 1.0)),
        keyword_filters=(
            Fields.OWNER_KIND,
            Fields.COUNTRY,
            Fields.PROVINCE,
            Fields.SECTORS,
            Fields.SERVICES,
            Fields.LANGUAGES,
            Fields.VERIFIED,
        ),
        numeric=(Fields.CREATED_AT, Fields.UPDATED_AT),
        sortable=(Fields.CREATED_AT, Fields.UPDATED_AT),
        expires=False,
    ),
    EXPERTS: IndexConfig(
        name=EXPERTS,
        searchable=(
            (Fields.SEARCH_TITLE, 4.0),
            (Fields.KEYWORDS, 3.0),
            (Fields.SEARCH_SUMMARY, 2.0),
            (Fields.SEARCH_DESCRIPTION, 1.0),
        ),
        keyword_filters=(Fields.COUNTRY, Fields.OVERSEAS, Fields.CONCEPTS, Fields.OFFERS, Fields.LANGUAGES),
        numeric=(Fields.CREATED_AT, Fields.UPDATED_AT, Fields.LAST_CONFIRMED_AT),
        sortable=(Fields.CREATED_AT, Fields.UPDATED_AT, Fields.LAST_CONFIRMED_AT),
        expires=False,
        confirmed=Fields.LAST_CONFIRMED_AT,
    ),
}

RANKING_RULES = ["words", "typo", "proximity", "attribute", "sort", "exactness"]
TYPO_TOLERANCE = {
    "enabled": True,
    "minWordSizeForTypos": {"oneTypo": MIN_WORD_SIZE_ONE_TYPO, "twoTypos": MIN_WORD_SIZE_TWO_TYPOS},
}


def synonyms() -> dict[str, list[str]]:
    """Every label and synonym of a concept stands for the others (vi ↔ en ↔ ja)."""
    table: dict[str, list[str]] = {}
    for concept in get_taxonomy().concepts.values():
        words = list(dict.fromkeys([*concept.labels.values(), *concept.synonyms]))
        for word in words:
            table.setdefault(word.lower(), []).extend(w for w in words if w != word)
    return table
