"""Computing a schedule over HTTP on the default database, and what other writes feel meanwhile.

    .venv/bin/python scripts/bench_schedule_api.py [--port 8120] [--rounds 5] [--time-limit 3]
    .venv/bin/python scripts/bench_schedule_api.py --database-url postgresql+asyncpg://…

Serves the real app with uvicorn on a fresh SQLite file (as `make run` does; or on --database-url),
creates a connection session through the API (organiser, suppliers and seekers, two sessions,
auto-accepted meeting requests), then, round after round, computes the schedule while another
client keeps creating offers. Reports the schedule request's wall time against the solver's own
time (what the API adds) and the latency of creating an offer while no schedule is computed
(baseline, same run) against while one is.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchdata import free_port, serve, summary

from app.migrations import upgrade

PASSWORD = "loc-nuoc-nhiem-asen-2026"  # noqa: S105 (accounts made for the run)
DAY = "2026-12-10"


def offer(title: str) -> dict[str, Any]:
    return {
        "language": "vi",
        "title": title,
        "summary": "Vật liệu hấp phụ asen, sắt và mangan cho trạm cấp nước sạch nông thôn.",
        "description": "Cát thạch anh phủ mangan oxit kích thước nano; thử nghiệm tại Hải Phòng.",
        "field": "environment",
        "concepts": ["arsenic-removal", "filter-media"],
        "transfer_types": ["licence"],
        "trl": 7,
        "ip_status": "utility_solution_granted",
    }


def check(response: httpx.Response) -> httpx.Response:
    if response.is_error:
        raise RuntimeError(
            f"{response.request.method} {response.request.url.path}: {response.status_code} {response.text}"
        )
    return response


async def register(http: httpx.AsyncClient, kind: str) -> dict[str, str]:
    name = f"Bench {kind} {uuid.uuid4().hex[:8]}"
    body = {
        "email": f"{uuid.uuid4().hex[:10]}@bench.example.vn",
        "password": PASSWORD,
        "full_name": "Nguyễn Văn An",
        "organization": {"name": name, "kind": kind, "country": "VN"},
    }
    response = check(await http.post("/api/v1/auth/register", json=body))
    data = response.json()
    return {"org": data["organization"]["id"], "token": data["tokens"]["access_token"]}


def auth(person: dict[str, str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {person['token']}"}


async def build_event(
    http: httpx.AsyncClient, suppliers: int, seekers: int, per_seeker: int, fairness: int | None
) -> tuple[str, dict[str, str], dict[str, str], int]:
    """An auto-accept event where each seeker has `per_seeker` meetings; returns its path, the organiser,
    a writer for the concurrent offers and the number of meetings."""
    organizer = await register(http, "intermediary")
    sessions = [
        {
            "name": "Sáng",
            "starts_at": f"{DAY}T08:00:00+07:00",
            "ends_at": f"{DAY}T11:20:00+07:00",
            "meeting_minutes": 20,
            "tables": max(2, (suppliers + seekers) // 4),
        },
        {
            "name": "Chiều",
            "starts_at": f"{DAY}T13:30:00+07:00",
            "ends_at": f"{DAY}T16:50:00+07:00",
            "meeting_minutes": 20,
            "tables": max(2, (suppliers + seekers) // 4),
        },
    ]
    body = {
        "name": "Kết nối cung cầu (benchmark)",
        "organizer_organization_id": organizer["org"],
        "sessions": sessions,
        "request_mode": "auto_accept",
        "max_requests_per_participant": 100,
        "fairness": fairness,
    }
    created = check(await http.post("/api/v1/events", json=body, headers=auth(organizer)))
    path = f"/api/v1/events/{created.json()['id']}"
    status = {"status": "registration_open"}
    check(await http.post(f"{path}/status", json=status, headers=auth(organizer)))
    people = [(await register(http, "institute"), "supplier") for _ in range(suppliers)]
    people += [(await register(http, "enterprise"), "seeker") for _ in range(seekers)]
    ids = []
    for person, role in people:
        body = {"organization_id": person["org"], "representative": "Đại diện", "role": role}
        response = check(await http.post(f"{path}/participants", json=body, headers=auth(person)))
        ids.append((person, response.json()["id"]))
    status = {"status": "booking_open"}
    check(await http.post(f"{path}/status", json=status, headers=auth(organizer)))
    supplier_ids, seeker_ids = ids[:suppliers], ids[suppliers:]
    meetings = 0
    for index, (seeker, seeker_id) in enumerate(seeker_ids):
        for step in range(per_seeker):
            _, supplier_id = supplier_ids[(index + step) % suppliers]
            body = {"requester_id": seeker_id, "recipient_id": supplier_id}
            check(await http.post(f"{path}/requests", json=body, headers=auth(seeker)))
            meetings += 1
    return path, organizer, supplier_ids[0][0], meetings


async def create_offers(
    http: httpx.AsyncClient, writer: dict[str, str], until: asyncio.Event, failures: list[int]
) -> list[float]:
    """Offers created one after another until `until` is set; a failed one is counted, not raised."""
    samples = []
    while not until.is_set():
        started = time.perf_counter()
        response = await http.post("/api/v1/offers", json=offer(f"Offer {uuid.uuid4().hex[:6]}"), headers=auth(writer))
        samples.append((time.perf_counter() - started) * 1000)
        if response.is_error:
            failures.append(response.status_code)
    return samples


async def run(base: str, args: argparse.Namespace) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=base, timeout=120) as http:
        path, organizer, writer, meetings = await build_event(
            http, args.suppliers, args.seekers, args.per_seeker, args.fairness
        )
        idle: list[float] = []
        for _ in range(args.idle_writes):
            started = time.perf_counter()
            response = await http.post("/api/v1/offers", json=offer("Idle offer"), headers=auth(writer))
            idle.append((time.perf_counter() - started) * 1000)
            check(response)
        walls, solver, statuses, during = [], [], [], []
        failures: list[int] = []
        for _ in range(args.rounds):
            done = asyncio.Event()
            writes = asyncio.create_task(create_offers(http, writer, done, failures))
            started = time.perf_counter()
            response = await http.post(
                f"{path}/schedule", json={"time_limit": args.time_limit}, headers=auth(organizer)
            )
            walls.append(time.perf_counter() - started)
            done.set()
            during.extend(await writes)
            statuses.append(f"{response.status_code} {response.json().get('code', '')}".strip())
            report = response.json() if response.status_code == 200 else response.json().get("schedule", {})
            solver.append(report.get("seconds", 0.0))
    overhead = [w - s for w, s in zip(walls, solver, strict=True)]
    return {
        "database": args.database_url or "sqlite file",
        "meetings": meetings,
        "time_limit_s": args.time_limit,
        "statuses": statuses,
        "schedule_request_s": {"p50": round(statistics.median(walls), 3), "max": round(max(walls), 3)},
        "solver_s": {"p50": round(statistics.median(solver), 3), "max": round(max(solver), 3)},
        "api_overhead_s": {"p50": round(statistics.median(overhead), 3), "max": round(max(overhead), 3)},
        "offer_create_idle": summary(idle),
        "offer_create_during_solve": {**summary(during), "count": len(during), "failed": failures},
        "during_vs_idle_p95": round(summary(during)["p95_ms"] / summary(idle)["p95_ms"], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument("--port", type=int, default=None)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--time-limit", type=float, default=3.0)
    parser.add_argument("--suppliers", type=int, default=8)
    parser.add_argument("--seekers", type=int, default=16)
    parser.add_argument("--per-seeker", type=int, default=4)
    parser.add_argument("--fairness", type=int, default=None, help="the event's fairness bound (default: none)")
    parser.add_argument("--idle-writes", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(scratch) / 'bench.db'}"
        upgrade(url)
        port = args.port or free_port()
        process = serve(url, port, INDEX_DIR=str(Path(scratch) / "index"))
        try:
            result = asyncio.run(run(f"http://127.0.0.1:{port}", args))
        finally:
            process.terminate()
            process.wait(timeout=30)
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
