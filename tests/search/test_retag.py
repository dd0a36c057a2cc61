"""A release that changes the taxonomy or the tagger: the indexer infers the stored concepts again, once."""

from __future__ import annotations

import uuid

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Expert, Listing, TaxonomyState
from app.search.indexer import Indexer
from app.taxonomy.retag import taxonomy_digest
from tests.helpers import create_listing, expect, make_staff, register

STALE = ["roofing-paint"]  # what an older taxonomy could have left


async def _plant_stale_concepts(session: AsyncSession, demand_id: str, expert_id: str) -> None:
    await session.execute(update(Listing).where(Listing.id == uuid.UUID(demand_id)).values(inferred_concepts=STALE))
    await session.execute(update(Expert).where(Expert.id == uuid.UUID(expert_id)).values(inferred_concepts=STALE))
    await session.commit()


def _new_release_indexer(app: FastAPI) -> Indexer:
    """The indexer a restart after a release starts, on the same database and index."""
    return Indexer(app.state.database, app.state.search)


async def _search_demands(client: AsyncClient, concept: str) -> list[str]:
    found = expect(await client.get("/api/v1/search/demands", params={"concept": concept}), 200)
    return [hit["id"] for hit in found["items"]]


async def test_concepts_stored_by_an_older_taxonomy_are_inferred_again_once(
    app: FastAPI, client: AsyncClient, session: AsyncSession
) -> None:
    moderator = await make_staff(client, session, "moderator")
    factory = await register(client, organization="Công ty Gạch men Hải Dương")
    demand = await create_listing(
        client,
        factory,
        "demand",
        status="published",
        moderator=moderator,
        title="Lò nung gạch men tốn nhiều nhiên liệu",
        summary="Tiền ga chiếm gần 30% giá thành, gạch ra lò bị cong vênh.",
        field="new_materials",
        concepts=[],
    )
    institute = await register(client, kind="institute", organization="Viện Vật liệu Xây dựng")
    body = {
        "listed_by": "self",
        "name": "Trần Văn Lò",
        "country": "VN",
        "languages": ["vi"],
        "headline": "Giảm tổn thất nhiệt lò nung gốm sứ và lò công nghiệp",
        "contact": {"email": "lo@example.vn"},
    }
    expert = expect(await client.post("/api/v1/experts", json=body, headers=institute.headers), 201)
    await app.state.indexer.drain()
    assert "furnace-kiln-efficiency" in demand["inferred_concepts"]
    assert "furnace-kiln-efficiency" in expert["inferred_concepts"]
    assert demand["id"] in await _search_demands(client, "furnace-kiln-efficiency")
    state = (await session.execute(select(TaxonomyState))).scalar_one()
    assert state.digest == taxonomy_digest()

    # the stored concepts of a release whose taxonomy or tagger was older: no record of which one it was
    await _plant_stale_concepts(session, demand["id"], expert["id"])
    await session.execute(delete(TaxonomyState))
    await session.commit()
    await _new_release_indexer(app).drain()
    read = expect(await client.get(f"/api/v1/demands/{demand['id']}", headers=factory.headers), 200)
    assert "furnace-kiln-efficiency" in read["inferred_concepts"]
    assert "roofing-paint" not in read["inferred_concepts"]
    renewed = expect(await client.get(f"/api/v1/experts/{expert['id']}", headers=institute.headers), 200)
    assert "furnace-kiln-efficiency" in renewed["inferred_concepts"]
    assert demand["id"] in await _search_demands(client, "furnace-kiln-efficiency")  # the index caught up
    assert demand["id"] not in await _search_demands(client, "roofing-paint")
    assert (await session.execute(select(TaxonomyState.digest))).scalar_one() == taxonomy_digest()

    # with the current taxonomy recorded, a restart does not read every record again
    await _plant_stale_concepts(session, demand["id"], expert["id"])
    await _new_release_indexer(app).drain()
    read = expect(await client.get(f"/api/v1/demands/{demand['id']}", headers=factory.headers), 200)
    assert read["inferred_concepts"] == STALE
    kept = expect(await client.get(f"/api/v1/experts/{expert['id']}", headers=institute.headers), 200)
    assert kept["inferred_concepts"] == STALE
