"""The services revision gives deals signed before it the follow-up plan a newly signed deal gets."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import JSON, Boolean, Date, DateTime, Integer, Numeric, String, Uuid, column, table, text

from app.db import create_engine
from app.migrations import upgrade
from tests.fixtures.database import drop_postgres_database, fresh_database_url

BEFORE = "5d2e8c7b41a0"


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
async def test_signed_deals_get_their_plan(kind: str, tmp_path: Path) -> None:
    url = await fresh_database_url(kind, tmp_path)
    try:
        await asyncio.to_thread(upgrade, url, BEFORE)
        engine = create_engine(url)
        supplier, buyer = uuid.uuid4(), uuid.uuid4()
        deals = {"signed": uuid.uuid4(), "negotiating": uuid.uuid4(), "cancelled": uuid.uuid4()}
        now = datetime(2026, 1, 1, tzinfo=UTC)
        organization = table(
            "organization",
            *(column(n, Uuid()) for n in ("id",)),
            *(
                column(n, JSON())
                for n in ("name_i18n", "description_i18n", "sectors", "languages", "services", "contact")
            ),
            *(column(n, String()) for n in ("name", "kind", "country")),
            *(column(n, Boolean()) for n in ("is_network", "verified")),
            *(column(n, DateTime(timezone=True)) for n in ("created_at", "updated_at")),
        )
        deal = table(
            "deal",
            *(column(n, Uuid()) for n in ("id", "supplier_organization_id", "buyer_organization_id")),
            *(
                column(n, String())
                for n in ("reference", "source", "title", "deal_type", "field", "currency", "stage", "origin")
            ),
            *(column(n, String()) for n in ("origin_country", "confirmation")),
            column("vnd_rate", Numeric()),
            column("version", Integer()),
            column("signed_on", Date()),
            *(column(n, Boolean()) for n in ("ip_transferred", "developed_economy", "confidential")),
            *(column(n, DateTime(timezone=True)) for n in ("created_at", "updated_at")),
        )
        empty = {"name_i18n": {}, "description_i18n": {}, "sectors": [], "languages": [], "services": [], "contact": {}}
        async with engine.begin() as connection:
            for organization_id in (supplier, buyer):
                await connection.execute(
                    organization.insert().values(
                        id=organization_id,
                        name="X",
                        kind="enterprise",
                        country="VN",
                        is_network=False,
                        verified=False,
                        created_at=now,
                        updated_at=now,
                        **empty,
                    )
                )
            for stage, deal_id in deals.items():
                await connection.execute(
                    deal.insert().values(
                        id=deal_id,
                        reference=f"GD-{stage}",
                        source="direct",
                        supplier_organization_id=supplier,
                        buyer_organization_id=buyer,
                        title="t",
                        deal_type="licence",
                        field="other",
                        currency="VND",
                        vnd_rate=1,
                        stage=stage,
                        signed_on=None if stage == "negotiating" else date(2025, 8, 31),
                        ip_transferred=False,
                        origin="domestic_enterprise",
                        origin_country="VN",
                        developed_economy=False,
                        confidential=False,
                        version=1,
                        confirmation="confirmed",
                        created_at=now,
                        updated_at=now,
                    )
                )
        await engine.dispose()
        await asyncio.to_thread(upgrade, url)
        engine = create_engine(url)
        async with engine.connect() as connection:
            check_ins = (await connection.execute(text("SELECT deal_id, month, due_on FROM deal_check_in"))).all()
            milestones = (await connection.execute(text("SELECT deal_id, kind FROM deal_milestone"))).all()
        await engine.dispose()
        assert sorted((m, str(d)) for _deal, m, d in check_ins) == [
            (3, "2025-11-30"),
            (6, "2026-02-28"),
            (12, "2026-08-31"),
        ]
        assert {uuid.UUID(str(d)) for d, *_ in check_ins} == {deals["signed"]}
        assert sorted(k for _deal, k in milestones) == ["acceptance", "delivery", "installation", "training"]
    finally:
        if kind == "postgresql":
            await drop_postgres_database(url)
