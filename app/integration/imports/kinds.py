"""The import kinds by name. A new kind is one module with a `KIND` and one line here."""

from __future__ import annotations

from enum import StrEnum

from app.integration.imports import demand, expert, offer, organization
from app.integration.imports.base import ImportKind

KINDS: dict[str, ImportKind] = {kind.name: kind for kind in (offer.KIND, demand.KIND, organization.KIND, expert.KIND)}


class ImportKindName(StrEnum):
    OFFER = "offer"
    DEMAND = "demand"
    ORGANIZATION = "organization"
    EXPERT = "expert"
