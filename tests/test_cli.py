"""The `techex` command line, run as a user runs it: in a subprocess, on a fresh database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from httpx import ASGITransport, AsyncClient
from sqlalchemy import delete, select

from app.db import Database, unit_of_work
from app.main import create_app
from app.models import Expert, Listing
from app.models.outbox import OutboxEvent
from tests.conftest import BASE_URL, make_settings
from tests.fixtures.live import copy_sqlite_database

ADMIN_PASSWORD = "quan-tri-he-thong-2026"


def techex(*args: str, env: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603
        [sys.executable, "-m", "app.cli", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}",
        "INDEX_DIR": str(tmp_path / "index"),
        "LOG_JSON": "false",
    }


@pytest.fixture
def seeded_cli_env(cli_env: dict[str, str], demo_database_template: str, tmp_path: Path) -> dict[str, str]:
    """`cli_env` on a copy of the run's demo database (`demo_database_template`)."""
    copy_sqlite_database(demo_database_template, tmp_path / "cli.db")
    return cli_env


@pytest.mark.slow
def test_migrate_seed_and_bootstrap_an_admin(
    seeded_cli_env: dict[str, str], demo_database_outputs: dict[str, str]
) -> None:
    # `techex migrate` and `techex seed --demo --if-empty` on an empty file made the run's demo database
    # (each succeeded, or the fixture failed): what they printed, then a copy of what they made
    assert "209 offers and 84 demands loaded" in demo_database_outputs["seed"]
    again = techex("seed", "--demo", "--if-empty", env=seeded_cli_env)
    assert "not empty" in again.stdout
    forced = techex("seed", "--demo", env=seeded_cli_env)
    assert "0 organisations, 0 offers and 0 demands loaded" in forced.stdout

    weak = techex(
        "create-account",
        "--email",
        "admin@sokhcn.example.vn",
        "--organization",
        "Sở Khoa học và Công nghệ Hải Phòng",
        "--password",
        "short",
        env=seeded_cli_env,
    )
    assert weak.returncode == 1
    assert "at least 10 characters" in weak.stderr

    created = techex(
        "create-account",
        "--email",
        "Admin@SoKHCN.example.vn",
        "--organization",
        "Sở Khoa học và Công nghệ Hải Phòng",
        env=seeded_cli_env,
        stdin=f"{ADMIN_PASSWORD}\n{ADMIN_PASSWORD}\n",
    )
    assert created.returncode == 0, created.stderr
    assert "created admin admin@sokhcn.example.vn" in created.stdout


async def test_bootstrapped_admin_signs_in_and_administers(seeded_cli_env: dict[str, str]) -> None:
    created = techex(
        "create-account",
        "--email",
        "admin@sokhcn.example.vn",
        "--organization",
        "Sở Khoa học và Công nghệ Hải Phòng",
        "--password",
        ADMIN_PASSWORD,
        env=seeded_cli_env,
    )
    assert created.returncode == 0, created.stderr

    url = seeded_cli_env["DATABASE_URL"]
    app = create_app(make_settings(url), database=Database.from_url(url))
    async with (
        app.router.lifespan_context(app),
        AsyncClient(transport=ASGITransport(app=app), base_url=BASE_URL) as http,
    ):
        tokens = (
            await http.post(
                "/api/v1/auth/token", data={"username": "admin@sokhcn.example.vn", "password": ADMIN_PASSWORD}
            )
        ).json()
        me = (await http.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})).json()
        assert me["account"]["role"] == "admin"
        assert me["organization"]["kind"] == "government"
        assert me["organization"]["verified"] is True  # the seeded Department, not a new one
        audit = await http.get("/api/v1/audit", headers={"Authorization": f"Bearer {tokens['access_token']}"})
        assert audit.status_code == 200
        await app.state.database.dispose()


@pytest.mark.slow
async def test_retag_infers_concepts_again_after_a_taxonomy_change(seeded_cli_env: dict[str, str]) -> None:
    database = Database.from_url(seeded_cli_env["DATABASE_URL"])
    title = "Hệ thống xử lý nước thải chế biến thủy sản bằng công nghệ MBBR"
    async with unit_of_work(database.writer) as session:
        listing = (await session.execute(select(Listing).where(Listing.title == title))).scalar_one()
        current = list(listing.inferred_concepts)
        listing.inferred_concepts = ["roofing-paint"]  # what an older taxonomy could have left
        expert = (await session.execute(select(Expert).where(Expert.inferred_concepts != []).limit(1))).scalar_one()
        expert_current = list(expert.inferred_concepts)
        expert.inferred_concepts = ["roofing-paint"]
        experts = len((await session.execute(select(Expert.id))).all())
        await session.execute(delete(OutboxEvent))

    first = techex("retag", "--batch-size", "50", env=seeded_cli_env)
    assert first.returncode == 0, first.stderr
    assert "293 listings read, 1 with new inferred concepts" in first.stdout
    assert f"{experts} experts read, 1 with new inferred concepts" in first.stdout
    async with unit_of_work(database.writer) as session:
        listing = (await session.execute(select(Listing).where(Listing.title == title))).scalar_one()
        assert listing.inferred_concepts == current
        assert (await session.get(Expert, expert.id)).inferred_concepts == expert_current
        queued = (await session.execute(select(OutboxEvent.record_id))).scalars().all()
        assert sorted(queued) == sorted([listing.id, expert.id])  # the index learns of the changes
    again = techex("retag", env=seeded_cli_env)
    assert "293 listings read, 0 with new inferred concepts" in again.stdout
    assert f"{experts} experts read, 0 with new inferred concepts" in again.stdout
    await database.dispose()


def test_serve_refuses_the_development_secret_off_loopback(cli_env: dict[str, str]) -> None:
    env = {key: value for key, value in cli_env.items() if key not in ("SECRET_KEY", "ENVIRONMENT")}
    refused = techex("serve", "--host", "0.0.0.0", "--port", "8169", env=env)  # noqa: S104
    assert refused.returncode == 2
    assert "development secret" in refused.stderr
