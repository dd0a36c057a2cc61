"""What leaves the exchange in open data and the change feed: the public read model, less personal data.

A listing becomes a record through `app.listings.service.present` for an anonymous caller — the one
visibility rule, so an anonymous listing names no owner here either — and then loses the fields that
are personal data (contact persons, emails, phones) or the exchange's internal business (moderation
notes, version counters). An organisation loses its contact. Nothing else is read.
"""

from __future__ import annotations

from typing import Any

from app.listings.schemas import ListingStatus
from app.listings.service import effective_status, present
from app.models import Listing, Organization
from app.organizations.schemas import OrganizationRead

# Never exported: personal data, and moderation details that are not part of the listing.
LISTING_WITHHELD = frozenset({"contact", "rejection_reason", "submitted_at", "version"})
ORGANIZATION_WITHHELD = frozenset({"contact"})


def is_public(listing: Listing) -> bool:
    """Published and within its validity: what anyone may read."""
    return effective_status(listing) is ListingStatus.PUBLISHED


def listing_record(listing: Listing, owner: Organization) -> dict[str, Any]:
    """The public JSON of a published listing, as an anonymous caller reads it, without personal data."""
    data = present(listing, owner, None).model_dump(mode="json")
    return {key: value for key, value in data.items() if key not in LISTING_WITHHELD}


def organization_record(organization: Organization) -> dict[str, Any]:
    data = OrganizationRead.model_validate(organization).model_dump(mode="json")
    return {key: value for key, value in data.items() if key not in ORGANIZATION_WITHHELD}
