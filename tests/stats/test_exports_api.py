"""Statistics exports as spreadsheets open them: CSV for Excel on Windows, an XLSX with typed, formatted cells."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime

import pytest
from httpx import AsyncClient
from openpyxl import load_workbook
from sqlalchemy.ext.asyncio import AsyncSession

from tests.helpers import Registered, expect, make_staff, register

UTF8_BOM = b"\xef\xbb\xbf"


@pytest.fixture
async def year_2025(client: AsyncClient, session: AsyncSession) -> Registered:
    """Two confirmed deals signed in 2025 worth 22 110 000 000 VND together, one of them transferring IP."""
    moderator = await make_staff(client, session, "moderator")
    institute, company = await register(client, kind="institute"), await register(client)
    for value, ip in (("22000000000", True), ("110000000", False)):
        body = {
            "supplier_organization_id": institute.organization_id,
            "buyer_organization_id": company.organization_id,
            "deal_type": "licence",
            "origin": "domestic_institute_university",
            "field": "environment",
            "value": value,
            "stage": "signed",
            "signed_on": "2025-05-20",
            "ip_transferred": ip,
        }
        expect(await client.post("/api/v1/deals", json=body, headers=moderator.headers), 201)
    return moderator


def read_csv(content: bytes) -> list[dict[str, str]]:
    assert content.startswith(UTF8_BOM), "Excel on Windows needs the byte order mark to read UTF-8"
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))


class TestCsv:
    async def test_indicators_open_in_excel_with_vietnamese_and_whole_numbers(
        self, client: AsyncClient, year_2025: Registered
    ) -> None:
        response = await client.get("/api/v1/stats/indicators", params={"year": 2025, "format": "csv"})
        assert response.headers["content-type"].startswith("text/csv")
        rows = {row["code"]: row for row in read_csv(response.content)}
        value = rows["transaction_value"]
        assert value["label_vi"] == "Tổng giá trị giao dịch công nghệ"
        assert value["value"] == "22110000000"  # not 22110000000.0
        assert rows["ip_share"]["value"] == "0.5"
        assert rows["ip_share"]["numerator"] == "1"
        assert rows["ip_share"]["met_2025"] == "true"

    async def test_deals_by_field_and_deal_detail_print_no_floats(
        self, client: AsyncClient, year_2025: Registered
    ) -> None:
        by_field = read_csv(
            (await client.get("/api/v1/stats/deals-by-field", params={"year": 2025, "format": "csv"})).content
        )
        total = next(row for row in by_field if row["field"] == "TOTAL")
        assert total["value_vnd"] == "22110000000"
        assert total["deals"] == "2"
        detail = await client.get(
            "/api/v1/stats/deals", params={"year": 2025, "format": "csv"}, headers=year_2025.headers
        )
        for row in read_csv(detail.content):
            assert "e+" not in row["value_vnd"].lower()
            assert not row["value_vnd"].endswith(".0")


class TestWorkbook:
    async def test_cells_are_numbers_and_dates_with_their_formats(
        self, client: AsyncClient, year_2025: Registered
    ) -> None:
        response = await client.get("/api/v1/stats/report.xlsx", params={"year": 2025})
        workbook = load_workbook(io.BytesIO(expect_binary(response)))

        def cell(sheet: str, column: str, row: int = 2):  # type: ignore[no-untyped-def]
            rows = list(workbook[sheet].iter_rows())
            names = [c.value for c in rows[0]]
            return rows[row - 1][names.index(column)]

        value = cell("transaction_value", "value")
        assert value.value == 22_110_000_000
        assert value.number_format == "#,##0"  # VND with thousands separators
        share = cell("ip_share", "value")
        assert share.value == 0.5
        assert share.number_format == "0.00%"
        assert cell("ip_share", "target_2025").number_format == "0.00%"
        assert cell("ip_share", "numerator").number_format == "#,##0"
        by_field_total = cell("deals_by_field", "value_vnd", row=3)
        assert float(by_field_total.value) == 22_110_000_000
        assert by_field_total.number_format == "#,##0"
        assert cell("funnel", "deals_signed").number_format == "#,##0"
        assert cell("funnel", "conversion_interest_to_accepted").value is None or (
            cell("funnel", "conversion_interest_to_accepted").number_format == "0.00%"
        )

        about = {row[0].value: row[1] for row in workbook["report"].iter_rows(min_row=2)}
        assert about["period"].value == "2025"
        for name, day in (("from", date(2025, 1, 1)), ("to", date(2025, 12, 31))):
            assert about[name].is_date
            assert about[name].value == datetime(day.year, day.month, day.day)
            assert about[name].number_format == "yyyy-mm-dd"
        assert about["generated_at_utc"].is_date


def expect_binary(response) -> bytes:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.text
    return bytes(response.content)
