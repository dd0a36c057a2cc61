"""Killing the indexer mid-drain loses nothing: restarted, it converges on the database, without duplicates."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from app.db import Database, unit_of_work
from app.migrations import upgrade
from app.models import Listing, Organization, OutboxEvent
from app.search import outbox
from app.search.backend import SearchQuery
from app.search.embedded import EmbeddedBackend

LISTINGS = 2000
ROOT = Path(__file__).resolve().parents[2]


async def _arrange(database: Database) -> None:
    now = datetime.now(UTC)
    async with unit_of_work(database.writer) as session:
        owner = Organization(
            id=uuid.uuid4(),
            name="Viện Thử nghiệm",
            name_i18n={},
            kind="institute",
            country="VN",
            description_i18n={},
            sectors=[],
            languages=[],
            services=[],
            contact={},
            verified=True,
        )
        session.add(owner)
        await session.flush()
        for i in range(LISTINGS):
            listing = Listing(
                id=uuid.uuid4(),
                kind="offer",
                reference=f"TO-VN-CRASH-{i:05d}",
                organization_id=owner.id,
                status="published",
                language="vi",
                title=f"Công nghệ xử lý nước số {i}",
                summary="Tóm tắt công nghệ.",
                description="",
                translations={},
                field="environment",
                concepts=["wastewater-treatment"],
                transfer_types=["licence"],
                target_countries=[],
                languages=[],
                contact={},
                country="VN",
                visibility="public",
                currency="VND",
                expires_at=now + timedelta(days=100),
                trl=5,
                ip_status="none",
                patent_numbers=[],
                evidence=[],
                support_included=False,
                proposed_for_city=False,
            )
            session.add(listing)
            outbox.listing_changed(session, "offer", listing.id)


async def _counts(database: Database) -> tuple[int, int]:
    async with unit_of_work(database.reader) as session:
        done = await session.scalar(select(func.count()).where(OutboxEvent.processed_at.is_not(None)))
        pending = await session.scalar(select(func.count()).where(OutboxEvent.processed_at.is_(None)))
    return int(done or 0), int(pending or 0)


async def _wait_for(database: Database, predicate, seconds: float = 90) -> tuple[int, int]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        counts = await _counts(database)
        if predicate(*counts):
            return counts
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out; processed/pending = {await _counts(database)}")


def _start_worker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "app.cli", "worker"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


@pytest.mark.slow
async def test_killed_indexer_resumes_and_converges(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'crash.db'}"
    index_dir = tmp_path / "index"
    await asyncio.to_thread(upgrade, url)
    database = Database.from_url(url)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "INDEX_DIR": str(index_dir),
        "INDEXER_BATCH_SIZE": "50",
        "EXPIRY_SWEEP_SECONDS": "0",
        "LOG_LEVEL": "WARNING",
    }
    try:
        await _arrange(database)
        worker = _start_worker(env)
        try:
            await _wait_for(database, lambda done, _pending: done >= 300)
        finally:
            worker.send_signal(signal.SIGKILL)  # no clean-up of any kind
            worker.wait(timeout=10)
        _processed, pending = await _counts(database)
        assert pending > 0, "the worker must die mid-drain for this test to mean anything"

        # Changes made while no indexer runs: 25 listings are withdrawn.
        async with unit_of_work(database.writer) as session:
            withdrawn = list((await session.scalars(select(Listing.id).limit(25))).all())
            await session.execute(update(Listing).where(Listing.id.in_(withdrawn)).values(status="archived"))
            for listing_id in withdrawn:
                outbox.listing_changed(session, "offer", listing_id)

        worker = _start_worker(env)
        try:
            await _wait_for(database, lambda _done, pending: pending == 0)
        finally:
            worker.terminate()
            worker.wait(timeout=10)

        async with unit_of_work(database.reader) as session:
            published = {
                str(i) for i in (await session.scalars(select(Listing.id).where(Listing.status == "published")))
            }
        backend = EmbeddedBackend(index_dir)
        try:
            result = await backend.search("offers", SearchQuery(limit=LISTINGS + 100))
        finally:
            await backend.close()
        indexed = [hit.id for hit in result.hits]
        assert result.total == len(indexed) == len(published) == LISTINGS - 25
        assert len(set(indexed)) == len(indexed), "no document is indexed twice"
        assert set(indexed) == published, "the index converges on the database"
    finally:
        await database.dispose()
