"""Harvesting another exchange's change feed into this one, through the idempotent external-key path.

Each feed entry is saved in its own transaction together with the cursor after it, so a harvester
killed at any point resumes exactly after the last entry it saved: nothing is lost, and an entry seen
twice changes nothing the second time. Harvested records keep their source and origin URL; they are
published here as they are at the source, matchable and searchable like local ones, and archived when
the source sends a tombstone.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

import httpx
import structlog
from pydantic import ValidationError

from app.audit.service import Actor
from app.db import Database, unit_of_work
from app.integration import repository
from app.integration.external import Outcome, Provenance, save_listing, save_organization, withdraw_listing
from app.listings.schemas import DemandCreate, ListingKind, ListingStatus, OfferCreate
from app.models import HarvestState, Organization
from app.models.base import utcnow
from app.organizations.schemas import OrganizationCreate, OrganizationKind
from app.taxonomy.data import get_taxonomy

log = structlog.get_logger(__name__)

FEED_PATH = "/api/v1/feed/changes"
# The organisation that stands for the source exchange: owner of its anonymous listings.
EXCHANGE_KEY = "exchange"
_ORGANIZATION_FIELDS = set(OrganizationCreate.model_fields) - {"contact"}
_MONEY = ("price_min", "price_max", "budget_min", "budget_max")


class HarvestError(Exception):
    """The source answered something that is not a change feed page."""


@dataclass
class HarvestResult:
    pages: int = 0
    entries: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    rejected: list[str] = field(default_factory=list)

    def count(self, outcome: Outcome) -> None:
        self.outcomes[outcome.value] = self.outcomes.get(outcome.value, 0) + 1


def organization_values(record: dict[str, Any]) -> dict[str, Any]:
    """A feed organisation as this exchange's column values (validated like a create)."""
    payload = {key: value for key, value in record.items() if key in _ORGANIZATION_FIELDS and value is not None}
    return OrganizationCreate.model_validate(payload).model_dump(mode="json", exclude={"contact"})


def listing_values(kind: ListingKind, record: dict[str, Any]) -> dict[str, Any]:
    """A feed listing as this exchange's column values (validated like a create; unknown concepts dropped)."""
    schema = OfferCreate if kind is ListingKind.OFFER else DemandCreate
    fields = set(schema.model_fields) - {"organization_id", "contact", "expires_at"}
    payload = {key: value for key, value in record.items() if key in fields and value is not None}
    taxonomy = get_taxonomy()
    unknown = set(taxonomy.unknown_concepts(payload.get("concepts") or []))
    payload["concepts"] = [c for c in payload.get("concepts") or [] if c not in unknown]
    payload["translations"] = {
        language: text
        for language, text in (payload.get("translations") or {}).items()
        if language != payload.get("language")
    }
    validated = schema.model_validate(payload)
    values = validated.model_dump(mode="json", exclude={"organization_id", "contact", "expires_at"})
    for money in _MONEY:
        if values.get(money) is not None:
            values[money] = Decimal(str(getattr(validated, money)))
    if kind is ListingKind.DEMAND and values.get("wanted_by") is not None:
        values["wanted_by"] = getattr(validated, "wanted_by")  # noqa: B009
    values["contact"] = {}
    values["expires_at"] = datetime.fromisoformat(record["expires_at"])
    return values


class Harvester:
    """Pulls one source's feed from where the last run stopped."""

    def __init__(
        self,
        database: Database,
        source: str,
        url: str,
        *,
        page_size: int = 100,
        delay: float = 0.0,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.database = database
        self.source = source
        self.url = url.rstrip("/")
        self.page_size = page_size
        self.delay = delay
        self.client = client
        self.actor = Actor.system()

    async def run(
        self, max_pages: int | None = None, progress: Callable[[int, int], None] | None = None
    ) -> HarvestResult:
        """Harvest until the feed is exhausted (or `max_pages`); `progress(done, remaining)` after each page."""
        result = HarvestResult()
        client = self.client or httpx.AsyncClient(timeout=30.0)
        try:
            cursor = await self._cursor()
            while max_pages is None or result.pages < max_pages:
                params: dict[str, Any] = {"limit": self.page_size}
                if cursor:
                    params["cursor"] = cursor
                response = await client.get(f"{self.url}{FEED_PATH}", params=params)
                if response.status_code != 200:
                    raise HarvestError(f"{self.url}{FEED_PATH} answered {response.status_code}")
                page = response.json()
                if not isinstance(page, dict) or not isinstance(page.get("items"), list):
                    raise HarvestError(f"{self.url}{FEED_PATH} did not answer a feed page")
                for entry in page["items"]:
                    await self._save(entry, result)
                    cursor = entry["cursor"]
                    result.entries += 1
                    if self.delay:
                        await asyncio.sleep(self.delay)
                result.pages += 1
                if progress is not None:
                    progress(result.entries, max(0, int(page.get("total", 0)) - len(page["items"])))
                if not page.get("next_cursor"):
                    break
        finally:
            if self.client is None:
                await client.aclose()
        return result

    async def _cursor(self) -> str | None:
        async with unit_of_work(self.database.reader) as session:
            state = await repository.harvest_state(session, self.source)
            return state.cursor if state is not None else None

    async def _save(self, entry: dict[str, Any], result: HarvestResult) -> None:
        """Apply one entry and move the cursor past it, in one transaction."""
        async with unit_of_work(self.database.writer) as session:
            try:
                outcome = await self._apply(session, entry)
            except (ValidationError, KeyError, ValueError) as error:
                # A record this exchange cannot hold is reported and passed over, not retried for ever.
                log.warning("harvest_entry_rejected", source=self.source, id=entry.get("id"), error=str(error)[:300])
                result.rejected.append(str(entry.get("id")))
                outcome = None
            if outcome is not None:
                result.count(outcome)
            state = await repository.harvest_state(session, self.source)
            if state is None:
                state = HarvestState(source=self.source, url=self.url, harvested=0)
                session.add(state)
            state.cursor = entry["cursor"]
            state.harvested += 1
            state.last_run_at = utcnow()

    async def _apply(self, session: Any, entry: dict[str, Any]) -> Outcome:
        record_type, external_id = entry["type"], str(uuid.UUID(entry["id"]))
        provenance = Provenance(self.source, external_id, entry["url"])
        if record_type == "organization":
            if entry["deleted"] or entry["record"] is None:
                return Outcome.UNCHANGED  # organisations stay: harvested listings may name them
            _, outcome = await save_organization(session, self.actor, provenance, organization_values(entry["record"]))
            return outcome
        if entry["deleted"] or entry["record"] is None:
            return await withdraw_listing(session, self.actor, provenance)
        record = entry["record"]
        kind = ListingKind(record_type)
        owner = await self._owner(session, record)
        published_at = datetime.fromisoformat(record["published_at"]) if record.get("published_at") else None
        _, outcome = await save_listing(
            session,
            self.actor,
            provenance,
            kind,
            listing_values(kind, record),
            owner,
            status=ListingStatus.PUBLISHED,
            published_at=published_at,
        )
        return outcome

    async def _owner(self, session: Any, record: dict[str, Any]) -> Organization:
        """The listing's owner as harvested (created from its summary when its own entry comes later);
        the source exchange itself for an anonymous listing."""
        summary = record.get("organization")
        if summary is None:
            key, values = (
                EXCHANGE_KEY,
                {
                    "name": self.source,
                    "kind": OrganizationKind.INTERMEDIARY.value,
                    "country": record["country"],
                },
            )
            origin = self.url
        else:
            key = str(uuid.UUID(summary["id"]))
            values = {
                "name": summary["name"],
                "kind": summary["kind"],
                "country": summary["country"],
                "province": summary.get("province"),
            }
            origin = f"{self.url}/api/v1/organizations/{key}"
        existing = await repository.organization_by_key(session, self.source, key)
        if existing is not None:
            return existing
        organization, _ = await save_organization(
            session, self.actor, Provenance(self.source, key, origin), organization_values(values)
        )
        await session.flush()  # the owner's row must precede its listing's
        return organization


async def harvest_periodically(database: Database, sources: dict[str, str], interval_seconds: float) -> None:
    """The worker's job: harvest every configured source, then wait; a failing source waits for the next tick."""
    while True:
        for source, url in sources.items():
            try:
                result = await Harvester(database, source, url).run()
                if result.entries:
                    log.info("harvested", source=source, entries=result.entries, outcomes=result.outcomes)
            except Exception:
                log.exception("harvest_failed", source=source)
        await asyncio.sleep(interval_seconds)
