"""Open data: the DCAT catalogue parses as RDF with the required properties, the CSV validates against its
CSV on the Web metadata, and no export carries anything the public read model does not show."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from csvw import CSVW
from httpx import AsyncClient
from rdflib import RDF, Graph, Namespace, URIRef
from rdflib.namespace import DCTERMS
from sqlalchemy.ext.asyncio import AsyncSession

from tests.helpers import Registered, create_listing, expect, make_staff, register

DCAT = Namespace("http://www.w3.org/ns/dcat#")
SCHEMA = Namespace("https://schema.org/")
CONTACT = {"person": "TS. Phạm Thu Hà", "email": "ha.pt@imer.example.vn", "phone": "+84 225 3761 523"}
PERSONAL = ("Phạm Thu Hà", "ha.pt@imer.example.vn", "3761 523", "Nguyễn Văn An")


class Arranged:
    def __init__(
        self, owner: Registered, named: dict[str, Any], anonymous: dict[str, Any], need: dict[str, Any]
    ) -> None:
        self.owner, self.named, self.anonymous, self.need = owner, named, anonymous, need


@pytest.fixture
async def arranged(client: AsyncClient, session: AsyncSession) -> Arranged:
    moderator = await make_staff(client, session, "moderator")
    owner = await register(client, organization="Viện Tài nguyên và Môi trường biển", kind="institute")
    named = await create_listing(
        client, owner, status="published", moderator=moderator, contact=CONTACT, target_countries=["VN", "LA"]
    )
    anonymous = await create_listing(
        client,
        owner,
        status="published",
        moderator=moderator,
        contact=CONTACT,
        visibility="anonymous",
        title="Chế phẩm vi sinh xử lý nước thải chế biến thủy sản",
    )
    need = await create_listing(
        client, owner, "demand", status="published", moderator=moderator, contact=CONTACT, wanted_by="2027-06-30"
    )
    await create_listing(client, owner, title="Bản nháp chưa công bố của viện")
    return Arranged(owner, named, anonymous, need)


async def public_read(client: AsyncClient, kind: str, listing_id: str) -> dict[str, Any]:
    return expect(await client.get(f"/api/v1/{kind}s/{listing_id}"), 200)


class TestCatalog:
    async def test_dcat_catalogue_parses_with_the_required_properties(
        self, client: AsyncClient, arranged: Arranged
    ) -> None:
        response = await client.get("/api/v1/open-data/catalog.jsonld")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/ld+json")
        graph = Graph().parse(data=response.text, format="json-ld")
        catalogs = list(graph.subjects(RDF.type, DCAT.Catalog))
        assert len(catalogs) == 1
        catalog = catalogs[0]
        for prop in (DCTERMS.title, DCTERMS.publisher, DCTERMS.license, DCTERMS.modified):
            assert graph.value(catalog, prop) is not None, prop
        datasets = list(graph.objects(catalog, DCAT.dataset))
        titles = {str(graph.value(d, DCTERMS.title)) for d in datasets}
        assert len(datasets) == 4, titles
        for dataset in datasets:
            assert (dataset, RDF.type, DCAT.Dataset) in graph
            assert graph.value(dataset, DCTERMS.license) == URIRef("https://creativecommons.org/licenses/by/4.0/")
            assert graph.value(dataset, DCTERMS.accrualPeriodicity) is not None
            assert graph.value(dataset, DCTERMS.publisher) is not None
            distributions = list(graph.objects(dataset, DCAT.distribution))
            assert distributions
            for distribution in distributions:
                assert (distribution, RDF.type, DCAT.Distribution) in graph
                assert graph.value(distribution, DCAT.accessURL) is not None
                assert graph.value(distribution, DCAT.mediaType) is not None
        # every distribution this exchange serves answers
        for url in {str(o) for o in graph.objects(None, DCAT.downloadURL)}:
            assert (await client.get(url.removeprefix("http://testserver"))).status_code == 200, url


class TestCsvOnTheWeb:
    async def test_offers_csv_validates_against_its_metadata(
        self, client: AsyncClient, arranged: Arranged, tmp_path: Path
    ) -> None:
        for dataset in ("offers", "demands", "organizations"):
            data = await client.get(f"/api/v1/open-data/{dataset}.csv")
            assert data.status_code == 200
            assert f"<{dataset}.csv-metadata.json>" in data.headers["link"]
            metadata = await client.get(f"/api/v1/open-data/{dataset}.csv-metadata.json")
            (tmp_path / f"{dataset}.csv").write_bytes(data.content)
            (tmp_path / f"{dataset}.csv-metadata.json").write_bytes(metadata.content)
            table = CSVW(str(tmp_path / f"{dataset}.csv-metadata.json"), validate=True)
            assert table.is_valid, table.warnings
            rows = list(table.tables[0].iterdicts())
            assert rows, dataset
        offers = {row["id"]: row for row in CSVW(str(tmp_path / "offers.csv-metadata.json")).tables[0].iterdicts()}
        assert set(offers) == {arranged.named["id"], arranged.anonymous["id"]}, "published only, no draft"
        assert offers[arranged.named["id"]]["trl"] == 7, "typed by the metadata"
        assert str(offers[arranged.named["id"]]["price_min"]) == "150000000"


def _flat(public: dict[str, Any], column: str) -> Any:
    """The public read model's value for a CSV column."""
    if column.startswith("organization_"):
        return (public["organization"] or {}).get(column.removeprefix("organization_"))
    if column == "title_en":
        return (public["translations"].get("en") or {}).get("title")
    return public[column]


class TestNothingLeaks:
    async def test_every_exported_field_is_the_public_read_model(self, client: AsyncClient, arranged: Arranged) -> None:
        for kind in ("offer", "demand"):
            lines = (await client.get(f"/api/v1/open-data/{kind}s.jsonl")).text.splitlines()
            assert lines
            for line in lines:
                record = json.loads(line)
                public = await public_read(client, kind, record["id"])
                assert set(record) <= set(public)
                assert {key: public[key] for key in record} == record
                assert "contact" not in record
            rows = (await client.get(f"/api/v1/open-data/{kind}s.csv")).text.splitlines()
            header = rows[0].split(",")
            for row in csv.DictReader(rows):
                public = await public_read(client, kind, row["id"])
                for column in header:
                    expected = _flat(public, column)
                    shown = row[column]
                    if isinstance(expected, list):
                        assert shown.split() == expected, column
                    elif expected is None:
                        assert shown == "", column
                    elif isinstance(expected, bool):
                        assert shown == str(expected).lower(), column
                    else:
                        assert shown == str(expected), column

    async def test_anonymous_listings_and_personal_data_never_leave(
        self, client: AsyncClient, arranged: Arranged
    ) -> None:
        owner_id, owner_name = arranged.owner.organization_id, "Viện Tài nguyên và Môi trường biển"
        exports = {
            path: (await client.get(path)).text
            for path in (
                "/api/v1/open-data/catalog.jsonld",
                "/api/v1/open-data/offers.csv",
                "/api/v1/open-data/offers.jsonl",
                "/api/v1/open-data/demands.csv",
                "/api/v1/open-data/demands.jsonl",
                "/api/v1/open-data/organizations.csv",
                "/api/v1/open-data/organizations.jsonl",
                f"/api/v1/offers/{arranged.named['id']}.jsonld",
                f"/api/v1/offers/{arranged.anonymous['id']}.jsonld",
                f"/api/v1/demands/{arranged.need['id']}.jsonld",
                "/api/v1/feed/changes",
                "/api/v1/feed/listings.atom",
            )
        }
        for path, text in exports.items():
            for personal in PERSONAL:
                assert personal not in text, (path, personal)
        anonymous_row = next(
            line for line in exports["/api/v1/open-data/offers.csv"].splitlines() if arranged.anonymous["id"] in line
        )
        assert owner_id not in anonymous_row
        assert owner_name not in anonymous_row
        anonymous_record = next(
            line for line in exports["/api/v1/open-data/offers.jsonl"].splitlines() if arranged.anonymous["id"] in line
        )
        assert owner_id not in anonymous_record
        assert owner_name not in anonymous_record
        jsonld = exports[f"/api/v1/offers/{arranged.anonymous['id']}.jsonld"]
        assert owner_id not in jsonld
        assert owner_name not in jsonld
        feed = expect(await client.get("/api/v1/feed/changes"), 200)
        entry = next(e for e in feed["items"] if e["id"] == arranged.anonymous["id"])
        assert entry["record"]["organization"] is None
        assert owner_id not in json.dumps(entry)
        atom = {"a": "http://www.w3.org/2005/Atom"}
        entries = ET.fromstring(exports["/api/v1/feed/listings.atom"]).findall("a:entry", atom)  # noqa: S314 - our own
        authors = {e.find("a:id", atom).text: e.find("a:author/a:name", atom).text for e in entries}  # type: ignore[union-attr]
        assert authors[f"urn:uuid:{arranged.anonymous['id']}"] == "Anonymous"
        assert authors[f"urn:uuid:{arranged.named['id']}"] == owner_name


class TestSchemaOrg:
    async def test_offer_and_demand_as_schema_org(self, client: AsyncClient, arranged: Arranged) -> None:
        response = await client.get(f"/api/v1/offers/{arranged.named['id']}.jsonld")
        assert response.status_code == 200
        document = response.json()
        graph = Graph().parse(
            data=json.dumps({**document, "@context": {"@vocab": "https://schema.org/"}}), format="json-ld"
        )
        offer = URIRef(document["@id"])
        assert (offer, RDF.type, SCHEMA.Offer) in graph
        item = graph.value(offer, SCHEMA.itemOffered)
        assert (item, RDF.type, SCHEMA.Service) in graph
        assert (
            graph.value(graph.value(item, SCHEMA.provider), SCHEMA.name).toPython()
            == "Viện Tài nguyên và Môi trường biển"
        )
        assert {graph.value(a, SCHEMA.name).toPython() for a in graph.objects(offer, SCHEMA.areaServed)} == {"VN", "LA"}
        demand = (await client.get(f"/api/v1/demands/{arranged.need['id']}.jsonld")).json()
        assert demand["@type"] == "Demand"
        assert demand["priceSpecification"]["maxPrice"] == "5000000000"
        anonymous = (await client.get(f"/api/v1/offers/{arranged.anonymous['id']}.jsonld")).json()
        assert "offeredBy" not in anonymous
        assert "provider" not in anonymous["itemOffered"]

    async def test_unpublished_listings_have_no_json_ld(self, client: AsyncClient, arranged: Arranged) -> None:
        draft = await create_listing(client, arranged.owner)
        response = await client.get(f"/api/v1/offers/{draft['id']}.jsonld", headers=arranged.owner.headers)
        assert response.status_code == 404
