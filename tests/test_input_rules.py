"""Input rules at the edge: bounded pages, dates and amounts; no control characters; aware times; literal LIKE."""

from __future__ import annotations

from decimal import Decimal, localcontext

import pytest
from httpx import AsyncClient

from app.pagination import MAX_PAGE
from tests.helpers import Registered, create_listing, expect, register

HUGE_PAGE = 2**62  # page × limit overflows a 64-bit OFFSET

PAGINATED = [
    "/api/v1/organizations",
    "/api/v1/organizations/{org}/members",
    "/api/v1/organizations/{org}/invitations",
    "/api/v1/organizations/{org}/api-keys",
    "/api/v1/offers",
    "/api/v1/demands",
    "/api/v1/deals",
    "/api/v1/events",
    "/api/v1/interests",
    "/api/v1/mandates",
    "/api/v1/notifications",
    "/api/v1/audit",
]


def _refused(response, loc: list) -> dict:
    body = expect(response, 422)
    assert body["code"] == "RequestValidationFailed"
    assert loc in [e["loc"] for e in body["errors"]], body["errors"]
    return body


@pytest.fixture
async def member(client: AsyncClient) -> Registered:
    return await register(client)


class TestPageBounds:
    @pytest.mark.parametrize("path", PAGINATED)
    async def test_a_page_beyond_the_maximum_is_refused(self, client: AsyncClient, member: Registered, path) -> None:
        url = path.format(org=member.organization_id)
        _refused(await client.get(url, params={"page": HUGE_PAGE}, headers=member.headers), ["query", "page"])
        _refused(await client.get(url, params={"page": MAX_PAGE + 1}, headers=member.headers), ["query", "page"])

    async def test_the_last_allowed_page_answers_empty(self, client: AsyncClient, member: Registered) -> None:
        page = expect(await client.get("/api/v1/organizations", params={"page": MAX_PAGE, "limit": 100}), 200)
        assert page["items"] == []
        assert page["total"] >= 1


class TestControlCharacters:
    async def test_nul_in_a_query_parameter_is_refused_naming_it(self, client: AsyncClient) -> None:
        _refused(await client.get("/api/v1/organizations", params={"q": "Viện\x00"}), ["query", "q"])
        _refused(await client.get("/api/v1/search/offers", params={"q": "asen\x01"}), ["query", "q"])

    async def test_nul_in_the_path_is_refused(self, client: AsyncClient) -> None:
        _refused(await client.get("/api/v1/organizations/abc%00def"), ["path"])

    async def test_nul_in_an_unauthenticated_registration_is_refused(self, client: AsyncClient) -> None:
        body = {
            "email": "nul@example.vn",
            "password": "loc-nuoc-nhiem-asen-2026",
            "full_name": "Nguyễn\x00 Văn An",
            "organization": {"name": "Công ty\x1b Nul", "kind": "enterprise", "country": "VN"},
        }
        refused = _refused(await client.post("/api/v1/auth/register", json=body), ["body", "full_name"])
        assert ["body", "organization", "name"] in [e["loc"] for e in refused["errors"]]
        assert all(e["type"] == "control_character" for e in refused["errors"])
        assert (await client.post("/api/v1/auth/token", data={"username": "nul@example.vn"})).status_code != 200

    async def test_control_characters_in_keys_and_nested_values_are_refused(
        self, client: AsyncClient, member: Registered
    ) -> None:
        translations = {"en\x00": {"title": "Arsenic filter media"}}
        response = await client.post(
            "/api/v1/offers", json={"title": "Vật liệu lọc", "translations": translations}, headers=member.headers
        )
        _refused(response, ["body", "translations", "en\x00"])
        response = await client.patch(
            f"/api/v1/organizations/{member.organization_id}",
            json={"contact": {"person": "An\u0007"}},
            headers=member.headers,
        )
        _refused(response, ["body", "contact", "person"])

    async def test_nul_in_a_form_field_is_refused(self, client: AsyncClient) -> None:
        response = await client.post("/api/v1/auth/token", data={"username": "an@example.vn", "password": "a\x00b"})
        _refused(response, ["body", "password"])

    async def test_tab_line_feed_and_carriage_return_are_kept(self, client: AsyncClient, member: Registered) -> None:
        description = "Dòng một\r\nDòng hai\tcột"
        listing = await create_listing(client, member, description=description)
        assert listing["description"] == description


class TestDatetimes:
    @pytest.mark.parametrize("path", ["/api/v1/offers", "/api/v1/search/offers", "/api/v1/audit"])
    async def test_naive_or_numeric_times_are_refused(self, client: AsyncClient, member: Registered, path) -> None:
        name = "since" if path.endswith("audit") else "created_from"
        for value in ("2026-01-01T00:00:00", "1700000000", "0001-01-01T00:00:00+01:00"):
            _refused(await client.get(path, params={name: value}, headers=member.headers), ["query", name])

    async def test_an_aware_time_filters(self, client: AsyncClient, member: Registered) -> None:
        await create_listing(client, member)
        mine = {"organization_id": member.organization_id, "status": "draft"}
        before = {**mine, "created_from": "2000-01-01T00:00:00+07:00"}
        after = {**mine, "created_from": "2199-01-01T00:00:00Z"}
        assert expect(await client.get("/api/v1/offers", params=before, headers=member.headers), 200)["total"] == 1
        assert expect(await client.get("/api/v1/offers", params=after, headers=member.headers), 200)["total"] == 0

    async def test_a_naive_expiry_in_a_body_is_refused(self, client: AsyncClient, member: Registered) -> None:
        response = await client.post(
            "/api/v1/offers", json={"title": "x", "expires_at": "2027-01-01T00:00:00"}, headers=member.headers
        )
        _refused(response, ["body", "expires_at"])


class TestStatsDates:
    @pytest.mark.parametrize("to", ["9999-12-31", "4795-01-12"])
    async def test_a_range_beyond_the_supported_years_is_refused(
        self, client: AsyncClient, member: Registered, to
    ) -> None:
        for path in ("/api/v1/stats/indicators", "/api/v1/stats/deals", "/api/v1/stats/funnel"):
            response = await client.get(path, params={"from": "2026-01-01", "to": to}, headers=member.headers)
            _refused(response, ["query", "to"])

    async def test_a_range_within_them_answers(self, client: AsyncClient, member: Registered) -> None:
        params = {"from": "2000-01-01", "to": "2101-01-01"}
        expect(await client.get("/api/v1/stats/indicators", params=params, headers=member.headers), 200)


class TestAmounts:
    async def test_a_huge_rate_or_value_is_refused(self, client: AsyncClient) -> None:
        supplier, buyer = await register(client, kind="institute"), await register(client)
        deal = {
            "supplier_organization_id": supplier.organization_id,
            "buyer_organization_id": buyer.organization_id,
            "deal_type": "licence",
            "origin": "domestic_institute_university",
            "field": "environment",
            "currency": "USD",
        }
        huge_rate = {**deal, "value": "9999999999999999.99", "vnd_rate": "99999999999999.999999"}
        _refused(await client.post("/api/v1/deals", json=huge_rate, headers=buyer.headers), ["body", "vnd_rate"])
        huge_value = {**deal, "value": "1e30", "vnd_rate": "25000"}
        _refused(await client.post("/api/v1/deals", json=huge_value, headers=buyer.headers), ["body", "value"])
        largest = {**deal, "value": "9999999999999999.99", "vnd_rate": "999999.999999"}
        created = expect(await client.post("/api/v1/deals", json=largest, headers=buyer.headers), 201)
        with localcontext(prec=60):
            exact = Decimal("9999999999999999.99") * Decimal("999999.999999")
        assert Decimal(created["value_vnd"]) == exact.quantize(Decimal("0.01")), "the largest deal converts to the cent"

    async def test_a_date_beyond_the_supported_years_is_refused(self, client: AsyncClient) -> None:
        supplier, buyer = await register(client, kind="institute"), await register(client)
        deal = {
            "supplier_organization_id": supplier.organization_id,
            "buyer_organization_id": buyer.organization_id,
            "deal_type": "licence",
            "signed_on": "9999-12-31",
        }
        _refused(await client.post("/api/v1/deals", json=deal, headers=buyer.headers), ["body", "signed_on"])


class TestPatchNull:
    @pytest.mark.parametrize("name", ["name_i18n", "description_i18n", "sectors", "name", "contact"])
    async def test_null_on_a_field_that_cannot_be_empty_is_refused(
        self, client: AsyncClient, member: Registered, name
    ) -> None:
        path = f"/api/v1/organizations/{member.organization_id}"
        _refused(await client.patch(path, json={name: None}, headers=member.headers), ["body", name])

    async def test_null_clears_an_optional_field(self, client: AsyncClient, member: Registered) -> None:
        path = f"/api/v1/organizations/{member.organization_id}"
        expect(await client.patch(path, json={"province": "Hà Nội"}, headers=member.headers), 200)
        assert (
            expect(await client.patch(path, json={"province": None}, headers=member.headers), 200)["province"] is None
        )


class TestLikePatterns:
    async def test_wildcards_in_a_name_search_are_literal(self, client: AsyncClient) -> None:
        await register(client, organization="Công ty Cổ phần 100% vốn Việt")
        await register(client, organization="Công ty TNHH Sao Mai")
        for q, expected in (("%", ["Công ty Cổ phần 100% vốn Việt"]), ("_", []), ("sao mai", ["Công ty TNHH Sao Mai"])):
            page = expect(await client.get("/api/v1/organizations", params={"q": q, "limit": 100}), 200)
            assert [o["name"] for o in page["items"]] == expected, q
