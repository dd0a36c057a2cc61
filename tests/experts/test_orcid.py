"""ORCID: the check digit, reading saved public records, and importing through the API from a real local server."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from httpx import AsyncClient

from app.config import Settings
from app.experts.orcid import check_digit, is_valid_orcid, parse_record
from tests.conftest import make_settings
from tests.fixtures.orcid import RECORDS, orcid_record_server
from tests.helpers import expect, register


@pytest.fixture(scope="module")
def orcid_server() -> Iterator[str]:
    with orcid_record_server() as url:
        yield url


@pytest.fixture
def settings(database_url: str, orcid_server: str) -> Settings:
    return make_settings(database_url, orcid_api_url=orcid_server)


class TestCheckDigit:
    @pytest.mark.parametrize("orcid", ["0000-0002-1825-0097", "0000-0001-5109-3700", "0000-0002-1694-233X"])
    def test_published_examples_are_valid(self, orcid: str) -> None:
        assert is_valid_orcid(orcid)

    @pytest.mark.parametrize("orcid", ["0000-0002-1825-0098", "0000-0002-1694-2330", "0000-0002-1825-009", "abcd"])
    def test_a_wrong_digit_or_shape_is_refused(self, orcid: str) -> None:
        assert not is_valid_orcid(orcid)

    def test_every_single_digit_change_is_caught(self) -> None:
        base = "000000021825009"
        for position in range(len(base)):
            for digit in "0123456789":
                if digit != base[position]:
                    changed = base[:position] + digit + base[position + 1 :]
                    assert check_digit(changed) != "7" or changed == base


class TestParse:
    def test_full_record(self) -> None:
        record = json.loads((RECORDS / "0000-0002-1825-0097.json").read_text())
        parsed = parse_record("0000-0002-1825-0097", record)
        assert parsed.name == "Josiah Carberry"
        assert parsed.affiliation == "Brown University", "the current employment (no end date) comes first"
        assert parsed.title == "Professor"
        assert (parsed.city, parsed.country) == ("Providence", "US")
        assert parsed.keywords == ["psychoceramics", "ionian philology"]
        assert parsed.affiliations == ["Brown University", "Wesleyan University"]
        # three work groups: two papers (one of them with two sources, counted once) and one patent
        assert (parsed.publications_count, parsed.patents_count) == (2, 1)
        assert parsed.links == ["http://library.brown.edu/about/hay/carberry.php"]

    def test_sparse_record_with_nulls(self) -> None:
        record = json.loads((RECORDS / "0000-0001-7456-3218.json").read_text())
        parsed = parse_record("0000-0001-7456-3218", record)
        assert parsed.name == "Trần Thị Lan", "the credit name is how the person wants to be named"
        assert parsed.biography == ""
        assert (parsed.country, parsed.city) == ("JP", "Fukuoka"), "from the employer's address when none is given"


class TestImportThroughTheApi:
    async def test_proposes_a_profile_with_concepts(self, client: AsyncClient) -> None:
        person = await register(client)
        proposal = expect(
            await client.post(
                "/api/v1/experts/import-orcid",
                json={"orcid": "https://orcid.org/0000-0001-7456-3218"},
                headers=person.headers,
            ),
            200,
        )
        assert proposal["orcid"] == "0000-0001-7456-3218"
        assert proposal["name"] == "Trần Thị Lan"
        assert proposal["affiliation"] == "Kyushu University"
        assert "wastewater-treatment" in proposal["concepts"], "排水処理 and the work title name it"
        assert proposal["publications_count"] == 1
        # nothing was saved: the expert confirms by creating the profile
        assert expect(await client.get("/api/v1/experts"), 200)["total"] == 0

    async def test_unknown_record_is_404(self, client: AsyncClient) -> None:
        person = await register(client)
        response = await client.post(
            "/api/v1/experts/import-orcid", json={"orcid": "0000-0003-1234-5674"}, headers=person.headers
        )
        assert expect(response, 404)["code"] == "OrcidRecordNotFound"

    async def test_bad_check_digit_is_422(self, client: AsyncClient) -> None:
        person = await register(client)
        response = await client.post(
            "/api/v1/experts/import-orcid", json={"orcid": "0000-0002-1825-0098"}, headers=person.headers
        )
        problem = expect(response, 422)
        assert problem["errors"][0]["loc"][-1] == "orcid"

    async def test_anonymous_callers_are_refused(self, client: AsyncClient) -> None:
        response = await client.post("/api/v1/experts/import-orcid", json={"orcid": "0000-0002-1825-0097"})
        assert response.status_code == 401


class TestOrcidUnreachable:
    @pytest.fixture
    def settings(self, database_url: str) -> Settings:
        # a port nothing listens on (the discard port, closed on test machines)
        return make_settings(database_url, orcid_api_url="http://127.0.0.1:9/v3.0", orcid_timeout_seconds=2)

    async def test_clear_503(self, client: AsyncClient) -> None:
        person = await register(client)
        response = await client.post(
            "/api/v1/experts/import-orcid", json={"orcid": "0000-0002-1825-0097"}, headers=person.headers
        )
        problem = expect(response, 503)
        assert problem["code"] == "OrcidUnavailable"
        assert response.headers["content-type"] == "application/problem+json"
        assert "did not answer" in problem["detail"]
