"""The demo data set has a way in: an account per role and kind, and an event open for booking."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from fastapi import FastAPI
from httpx import AsyncClient
from prometheus_client.parser import text_string_to_metric_families

from app.seed import load_demo_data
from app.seed_data.demo_accounts import DEMO_ACCOUNTS, DEMO_PASSWORD, EVENT_NAME
from tests.helpers import expect

README = Path(__file__).resolve().parents[2] / "README.md"


def _bearer(token: dict) -> dict[str, str]:
    return {"Authorization": f"Bearer {token['access_token']}"}


async def _sign_in(client: AsyncClient, email: str) -> dict[str, str]:
    token = await client.post("/api/v1/auth/token", data={"username": email, "password": DEMO_PASSWORD})
    return _bearer(expect(token, 200))


async def test_every_demo_account_signs_in_with_its_role_and_kind(app: FastAPI, client: AsyncClient) -> None:
    message = await load_demo_data(app.state.database)
    assert f"{len(DEMO_ACCOUNTS)} demo accounts, 1 events" in message
    roles, kinds = set(), set()
    for demo in DEMO_ACCOUNTS:
        me = expect(await client.get("/api/v1/auth/me", headers=await _sign_in(client, demo.email)), 200)
        assert me["account"]["role"] == demo.role.value, demo.email
        assert me["organization"]["name"] == demo.organization
        roles.add(me["account"]["role"])
        kinds.add(me["organization"]["kind"])
    assert roles == {"member", "broker", "moderator", "admin"}
    assert kinds == {"institute", "university", "enterprise", "intermediary", "government"}

    institute = await _sign_in(client, DEMO_ACCOUNTS[0].email)
    me = expect(await client.get("/api/v1/auth/me", headers=institute), 200)
    owned = expect(
        await client.get("/api/v1/offers", params={"organization_id": me["organization"]["id"], "limit": 1}), 200
    )
    assert owned["total"] >= 1, "the demo institute owns offers of the catalogue"

    again = await load_demo_data(app.state.database)
    assert "0 demo accounts, 0 events" in again


async def test_the_demo_broker_runs_the_demo_event(app: FastAPI, client: AsyncClient) -> None:
    await load_demo_data(app.state.database)
    broker = await _sign_in(client, "broker@demo.techex.vn")
    events = expect(await client.get("/api/v1/events", headers=broker), 200)["items"]
    event = next(e for e in events if e["name"] == EVENT_NAME)
    assert event["status"] == "booking_open"
    assert event["schedule_status"] == "none"
    detail = expect(await client.get(f"/api/v1/events/{event['id']}", headers=broker), 200)
    assert len(detail["sessions"]) == 1
    participants = expect(await client.get(f"/api/v1/events/{event['id']}/participants", headers=broker), 200)
    assert participants["total"] == 7
    assert all(p["listing_ids"] for p in participants["items"]), "each comes with its listings"
    requests = expect(
        await client.get(f"/api/v1/events/{event['id']}/requests", params={"limit": 100}, headers=broker), 200
    )["items"]
    assert {r["status"] for r in requests} == {"pending", "accepted", "declined"}

    # The organiser schedules the accepted meetings into the session; /metrics counts the run.
    runs_before = _schedule_runs((await client.get("/metrics")).text)
    report = expect(
        await client.post(f"/api/v1/events/{event['id']}/schedule", json={"time_limit": 5}, headers=broker), 200
    )
    assert report["placed"] == sum(r["status"] == "accepted" for r in requests)
    scraped = (await client.get("/metrics")).text
    assert _schedule_runs(scraped) == runs_before + 1
    durations = [
        s.value
        for family in text_string_to_metric_families(scraped)
        for s in family.samples
        if s.name == "techex_schedule_duration_seconds_count"
    ]
    assert durations
    assert durations[0] >= 1


def _schedule_runs(text: str) -> float:
    return sum(
        s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "techex_schedule_runs_total" and s.labels["outcome"] == "ok"
    )


def test_the_demo_data_set_is_refused_in_production(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "ENVIRONMENT": "production",
        "SECRET_KEY": "a-private-production-secret-0123456789",
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'techex.db'}",
    }
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", "seed", "--demo"], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2
    assert "development only" in done.stderr


def test_the_readme_lists_every_demo_account_with_its_password() -> None:
    text = README.read_text(encoding="utf-8")
    for demo in DEMO_ACCOUNTS:
        assert demo.email in text
    assert DEMO_PASSWORD in text


async def test_the_readme_quick_start_signs_in_as_the_demo_broker(app: FastAPI, client: AsyncClient) -> None:
    """The curl commands of the quick start, sent as curl sends them (a form, then the bearer token)."""
    await load_demo_data(app.state.database)
    text = README.read_text(encoding="utf-8")
    block = text[text.index("### Quick start") :].split("```sh", 1)[1].split("```", 1)[0]
    url, fields = re.search(r"curl -s -X POST (\S+) \\\s+((?:-d \S+ ?)+)", block).groups()  # type: ignore[union-attr]
    form = dict(field.split("=", 1) for field in re.findall(r"-d (\S+)", fields))
    assert form["username"] == "broker@demo.techex.vn"
    token = expect(await client.post(url.removeprefix("http://127.0.0.1:8000"), data=form), 200)
    me_url = re.search(r"curl -s (\S+/auth/me)", block).group(1)  # type: ignore[union-attr]
    me = expect(await client.get(me_url.removeprefix("http://127.0.0.1:8000"), headers=_bearer(token)), 200)
    assert me["account"]["role"] == "broker"
