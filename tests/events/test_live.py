"""The event flow on the app as production runs it (`live_client`): its own connection pool on a file
(SQLite) or server (PostgreSQL) database, a separate connection per session, concurrent requests.

These catch what the rolled-back, shared-connection fixtures cannot: a request holding SQLite's write
lock while another waits for it, and two requests racing for one schedule."""

from __future__ import annotations

import asyncio
import csv
import io
import threading
from collections.abc import Iterator
from typing import Any

import icalendar
import pytest
from httpx import AsyncClient

from app.db import Database, unit_of_work
from app.scheduling import service as scheduling
from tests.events.test_api import DAY, Fair, make_fair, pid, schedule_fair
from tests.helpers import Registered, expect, make_staff, offer_payload

# Far below SQLite's busy timeout (15 s): a request that waits for another's lock fails this.
PROMPT_SECONDS = 5.0


@pytest.fixture
async def live_fair(live_client: AsyncClient, live_database: Database) -> Fair:
    async with unit_of_work(live_database.writer) as session:
        moderator = await make_staff(live_client, session, "moderator")
    return await make_fair(live_client, moderator)


class SolverGate:
    """Holds each schedule computation inside the solver until the test lets it go (the real solver
    runs first), so that other requests can be sent while one is being computed."""

    def __init__(self, parties: int = 1) -> None:
        self.inside = threading.Semaphore(0)
        self.release = threading.Event()
        self.together = threading.Barrier(parties, timeout=30)

    def wrap(self, solve: Any) -> Any:
        def gated(*args: Any, **kwargs: Any) -> Any:
            schedule = solve(*args, **kwargs)
            self.together.wait()  # every computation has read the meetings before any writes
            self.inside.release()
            if not self.release.wait(timeout=30):
                raise TimeoutError("the test never released the solver")
            return schedule

        return gated

    async def entered(self) -> None:
        acquired = await asyncio.to_thread(self.inside.acquire, timeout=30)
        assert acquired, "the schedule computation never reached the solver"


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> Iterator[SolverGate]:
    found = SolverGate()
    monkeypatch.setattr(scheduling, "solve", found.wrap(scheduling.solve))
    yield found
    found.release.set()


async def test_the_whole_event_flow(live_client: AsyncClient, live_fair: Fair) -> None:
    """Create → register → request → accept → schedule → publish → agendas, each step its own request."""
    fair, client = live_fair, live_client
    seeker = fair.seekers[0]
    await schedule_fair(client, fair)
    report = expect(
        await asyncio.wait_for(
            client.post(f"{fair.path}/schedule", json={"time_limit": 5}, headers=fair.organizer.headers),
            timeout=5 + 2,
        ),
        200,
    )
    assert report["placed"] == report["meetings"] == 4
    assert report["status"] == "draft"
    published = expect(
        await client.post(f"{fair.path}/schedule/publish", json={"stage": "final"}, headers=fair.organizer.headers), 200
    )
    assert published["schedule_status"] == "final"
    agenda_path = f"{fair.path}/participants/{pid(fair, seeker)}/agenda"
    agenda = expect(await client.get(agenda_path, headers=seeker.headers), 200)
    assert len(agenda["items"]) == 2
    assert {item["counterpart_id"] for item in agenda["items"]} == {pid(fair, s) for s in fair.suppliers}
    ics = await client.get(agenda_path, params={"format": "ics"}, headers=seeker.headers)
    assert ics.status_code == 200
    assert {str(e["UID"]) for e in icalendar.Calendar.from_ical(ics.content).walk("VEVENT")} == {
        f"{i['meeting_id']}@techex" for i in agenda["items"]
    }
    sheet = await client.get(agenda_path, params={"format": "csv"}, headers=seeker.headers)
    rows = list(csv.reader(io.StringIO(sheet.content.decode("utf-8-sig"))))
    assert len(rows) == 3
    assert {row[1] for row in rows[1:]} == {DAY}


async def test_writes_go_on_while_a_schedule_is_computed(
    live_client: AsyncClient, live_fair: Fair, gate: SolverGate
) -> None:
    fair, client = live_fair, live_client
    await schedule_fair(client, fair)
    computing = asyncio.create_task(
        client.post(f"{fair.path}/schedule", json={"time_limit": 5}, headers=fair.organizer.headers)
    )
    await gate.entered()
    supplier: Registered = fair.suppliers[0]
    offer = await asyncio.wait_for(
        client.post("/api/v1/offers", json=offer_payload(), headers=supplier.headers), PROMPT_SECONDS
    )
    expect(offer, 201)
    assert not computing.done()
    gate.release.set()
    report = expect(await asyncio.wait_for(computing, PROMPT_SECONDS), 200)
    assert report["placed"] == 4


async def test_two_computations_at_once_one_wins(
    live_client: AsyncClient, live_fair: Fair, monkeypatch: pytest.MonkeyPatch
) -> None:
    fair, client = live_fair, live_client
    await schedule_fair(client, fair)
    gate = SolverGate(parties=2)
    monkeypatch.setattr(scheduling, "solve", gate.wrap(scheduling.solve))
    gate.release.set()
    path, headers = f"{fair.path}/schedule", fair.organizer.headers
    responses = await asyncio.gather(
        client.post(path, json={"time_limit": 5, "seed": 1}, headers=headers),
        client.post(path, json={"time_limit": 5, "seed": 2}, headers=headers),
    )
    assert sorted(r.status_code for r in responses) == [200, 409], [r.text for r in responses]
    loser = next(r for r in responses if r.status_code == 409)
    assert loser.headers["content-type"] == "application/problem+json"
    assert loser.json()["code"] == "ScheduleChanged"
    # the winner's schedule is the one stored, and it is complete
    winner = next(r for r in responses if r.status_code == 200).json()
    stored = expect(await client.get(path, headers=headers), 200)
    assert stored["placed"] == winner["placed"] == 4
    assert stored["seconds"] == winner["seconds"]
