"""The demo data set reproduces the Hai Phong survey through the public API."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import yaml
from fastapi import FastAPI
from httpx import AsyncClient

from app.seed import load_demo_data
from app.vocabulary import FieldCode
from tests.helpers import expect

SURVEY = {  # field: (units, technologies, proposed for transfer in the city)
    "biotech": (19, 94, 50),
    "environment": (11, 25, 23),
    "new_energy": (9, 20, 11),
    "automation": (15, 30, 10),
    "new_materials": (12, 40, 32),
}


async def _total(client: AsyncClient, path: str, **params: object) -> int:
    return int(expect(await client.get(path, params={"limit": 1, **params}), 200)["total"])


async def test_demo_catalogue_matches_the_survey(app: FastAPI, client: AsyncClient) -> None:
    message = await load_demo_data(app.state.database)
    assert "209 offers and 84 demands loaded" in message

    assert await _total(client, "/api/v1/offers") == 209
    assert await _total(client, "/api/v1/offers", proposed_for_city=True) == 126
    assert await _total(client, "/api/v1/demands") >= 80
    for field, (_units, technologies, proposed) in SURVEY.items():
        assert await _total(client, "/api/v1/offers", field=field) == technologies, field
        assert await _total(client, "/api/v1/offers", field=field, proposed_for_city=True) == proposed, field
    for field, (units, _technologies, _proposed) in SURVEY.items():
        surveyed = expect(
            await client.get("/api/v1/organizations", params={"sector": field, "country": "VN", "limit": 100}), 200
        )
        owners = {o["id"] for o in surveyed["items"] if o["kind"] != "government"}
        assert len(owners) >= units, field

    japanese = expect(await client.get("/api/v1/offers", params={"language": "ja", "limit": 100}), 200)
    assert japanese["total"] >= 13
    assert any("ヒ素" in o["title"] or "浄水" in o["title"] for o in japanese["items"])

    arsenic = expect(await client.get("/api/v1/offers", params={"concept": "arsenic-removal"}), 200)
    assert any("asen" in o["title"] for o in arsenic["items"])

    indicators = expect(await client.get("/api/v1/stats/indicators", params={"year": 2025}), 200)["indicators"]
    values = {i["code"]: Decimal(i["value"]) if i["value"] is not None else None for i in indicators}
    assert values["transaction_value"] > 0
    assert values["value_growth"] is not None
    assert 0 < values["ip_share"] < 1
    assert 0 < values["institute_share_of_domestic"] < 1
    assert values["active_intermediaries"] >= 1
    survey = expect(await client.get("/api/v1/stats/listings", params={"kind": "offer"}), 200)
    assert survey["totals"]["listings"] == 209
    assert survey["totals"]["proposed_for_city"] == 126
    assert {r["field"]: r["listings"] for r in survey["rows"]} == {f: t for f, (_u, t, _p) in SURVEY.items()}
    # The programme's table: 66 surveyed units; the 13 Japanese suppliers are counted apart.
    assert {r["field"]: r["units"] for r in survey["rows"]} == {f: u for f, (u, _t, _p) in SURVEY.items()}
    assert survey["totals"]["units"] == 66
    assert survey["totals"]["foreign_units"] == 13

    again = await load_demo_data(app.state.database)
    assert "0 organisations, 0 offers and 0 demands loaded" in again
    assert await _total(client, "/api/v1/offers") == 209

    # the matching evaluation's labelled answers are demo offers (tests/data/matching_eval.yaml)
    titles = set()
    for page in (1, 2, 3):
        offers = expect(await client.get("/api/v1/offers", params={"limit": 100, "page": page}), 200)["items"]
        titles |= {o["title"] for o in offers}
    cases = yaml.safe_load((Path(__file__).parent / "data" / "matching_eval.yaml").read_text(encoding="utf-8"))
    assert len(cases) >= 40
    assert len({c["id"] for c in cases}) == len(cases)
    assert {c["language"] for c in cases} == {"vi", "en", "ja"}
    for case in cases:
        assert case["field"] in {f.value for f in FieldCode}, case["id"]
        for grade, title, reason in case["relevant"]:
            assert grade in (1, 2, 3), case["id"]
            assert reason, case["id"]
            assert title in titles, (case["id"], title)


async def test_demo_experts_at_home_and_abroad(app: FastAPI, client: AsyncClient) -> None:
    """At least 60 experts, 15 or more of them overseas Vietnamese in Japan, Korea, Germany, the USA and
    Australia; all listed with consent; visibility choices differ; some searchable by facet."""
    await load_demo_data(app.state.database)
    await app.state.indexer.drain()
    assert await _total(client, "/api/v1/experts") >= 60
    overseas = expect(await client.get("/api/v1/experts", params={"overseas_vietnamese": True, "limit": 100}), 200)
    assert overseas["total"] >= 15
    assert {e["country"] for e in overseas["items"]} == {"JP", "KR", "DE", "US", "AU"}
    everyone = expect(await client.get("/api/v1/experts", params={"limit": 100}), 200)["items"]
    assert len({tuple(e["hidden"]) for e in everyone}) >= 3, "visibility choices are mixed"
    assert all(e["contact"] is None for e in everyone), "contact details are never public"
    found = expect(
        await client.get("/api/v1/search/experts", params={"facets": "country,overseas_vietnamese", "limit": 1}), 200
    )
    assert found["facets"]["overseas_vietnamese"]["true"] >= 15
    today = date.today()
    since = {"from": (today - timedelta(days=200)).isoformat(), "to": (today + timedelta(days=2)).isoformat()}
    stats = expect(await client.get("/api/v1/stats/experts", params=since), 200)
    assert stats["experts"] >= 60
    assert stats["requests"] == 18, "the demo requests of the last 150 days"
