"""Demo data loader (`techex seed --demo`, run by `make run` on an empty database).

Data lives in `app/seed_data/`; loading is idempotent: a record already there
(same name and country) is left alone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from app.audit.service import Actor
from app.db import Database, unit_of_work
from app.models.base import utcnow
from app.organizations import repository as organization_repository
from app.organizations.schemas import OrganizationCreate
from app.organizations.service import organization_service

SEED_DATA = Path(__file__).parent / "seed_data"


def _read(name: str) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = yaml.safe_load((SEED_DATA / name).read_text(encoding="utf-8"))
    return data


async def load_demo_data(database: Database, *, only_if_empty: bool = False) -> str:
    """Load the demonstration data set; returns what was done, in one line."""
    async with unit_of_work(database.writer) as session:
        if only_if_empty and await organization_repository.count(session):
            return "demo data: database not empty, nothing loaded"
        created = 0
        for record in _read("organizations.yaml"):
            verified = bool(record.pop("verified", False))
            payload = OrganizationCreate.model_validate(record)
            if await organization_repository.get_by_name(session, payload.name, payload.country):
                continue
            organization = await organization_service.create_unchecked(session, Actor.system(), payload)
            if verified:
                organization.verified, organization.verified_at = True, utcnow()
            created += 1
    return f"demo data: {created} organisations loaded"
