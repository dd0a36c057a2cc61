"""A listing's own words, by part: what search indexes and concept tagging reads.

A demand's problem statement and requirements are where the form asks for
the need itself, so they count with the summary and the description.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ListingTexts:
    """Each part in the original language first, then in each translation; empty texts left out."""

    titles: list[str]
    summaries: list[str]
    descriptions: list[str]

    def all(self) -> list[str]:
        return [*self.titles, *self.summaries, *self.descriptions]


def listing_texts(listing: Any) -> ListingTexts:
    """`listing` is a mapped object or a row with the listing's columns."""
    translations = list((listing.translations or {}).values())

    def part(key: str, *extra: str | None) -> list[str]:
        texts = [getattr(listing, key) or "", *(extra or ()), *((t.get(key) or "") for t in translations)]
        return [text for text in texts if text]

    return ListingTexts(
        titles=part("title"),
        summaries=part("summary", getattr(listing, "problem_statement", None)),
        descriptions=part("description", getattr(listing, "requirements", None)),
    )
