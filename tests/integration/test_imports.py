"""Bulk import through the API with real XLSX and CSV files: mapping, dry run, error file, commit, re-upload."""

from __future__ import annotations

import io
from typing import Any

import pytest
from httpx import AsyncClient
from openpyxl import Workbook, load_workbook
from sqlalchemy.ext.asyncio import AsyncSession

from tests.helpers import Registered, expect, make_staff, register

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
OFFER_HEADERS = ["Mã hồ sơ", "Tổ chức", "Tên công nghệ", "Tóm tắt", "Lĩnh vực", "TRL", "Giá từ", "Từ khóa"]


def xlsx(headers: list[str], rows: list[list[Any]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def offer_row(external_id: str, title: str, **cells: Any) -> list[Any]:
    values = {
        "Mã hồ sơ": external_id,
        "Tổ chức": "Viện Công nghệ Môi trường",
        "Tên công nghệ": title,
        "Tóm tắt": "Công nghệ đã thử nghiệm tại ba trạm cấp nước ở Hải Phòng.",
        "Lĩnh vực": "Công nghệ môi trường",
        "TRL": 7,
        "Giá từ": "150.000.000",
        "Từ khóa": "xử lý asen, vật liệu lọc",
        **cells,
    }
    return [values[h] for h in OFFER_HEADERS]


async def upload(
    client: AsyncClient, staff: Registered, content: bytes, kind: str = "offer", name: str = "survey.xlsx", **form: Any
) -> Any:
    data = {
        "kind": kind,
        "source": "hai-phong-survey",
        **{k: str(v).lower() if isinstance(v, bool) else v for k, v in form.items()},
    }
    return await client.post("/api/v1/imports", files={"file": (name, content, XLSX)}, data=data, headers=staff.headers)


@pytest.fixture
async def staff(client: AsyncClient, session: AsyncSession) -> Registered:
    return await make_staff(client, session, "moderator")


async def imported_offers(client: AsyncClient, staff: Registered) -> list[dict[str, Any]]:
    page = expect(
        await client.get(
            "/api/v1/offers", params={"limit": 100, "status": ["draft", "published"]}, headers=staff.headers
        ),
        200,
    )
    return [o for o in page["items"] if o["source"] == "hai-phong-survey"]


class TestTemplate:
    async def test_the_demand_template_is_the_can_tho_survey_form(self, client: AsyncClient) -> None:
        response = await client.get("/api/v1/imports/template", params={"kind": "demand"})
        assert response.status_code == 200
        assert response.headers["content-type"] == XLSX
        sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
        headers = [cell.value for cell in sheet[1]]
        for survey_column in ("Doanh nghiệp", "Lĩnh vực", "Nhu cầu công nghệ", "Kinh phí dự kiến", "Thời gian cần"):
            assert survey_column in headers

    async def test_a_filled_template_imports_without_errors(self, client: AsyncClient, staff: Registered) -> None:
        for kind in ("offer", "demand", "organization", "expert"):
            template = (await client.get("/api/v1/imports/template", params={"kind": kind})).content
            report = expect(await upload(client, staff, template, kind=kind), 201)
            assert report["errors"] == [], kind
            assert report["counts"]["created"] == 1, kind


class TestDryRun:
    async def test_reports_every_error_by_row_and_column_and_writes_nothing(
        self, client: AsyncClient, staff: Registered
    ) -> None:
        content = xlsx(
            OFFER_HEADERS,
            [
                offer_row("A-1", "Vật liệu lọc nano mangan oxit xử lý asen"),
                offer_row("A-2", "Chế phẩm vi sinh xử lý nước thải", TRL="mười"),
                offer_row("A-3", "Máy sấy nông sản năng lượng mặt trời", TRL=12, **{"Giá từ": "ba tỷ"}),
                offer_row("A-4", None),
                offer_row("A-1", "Vật liệu lọc nano mangan oxit xử lý asen"),
            ],
        )
        report = expect(await upload(client, staff, content), 201)
        assert report["mode"] == "dry_run"
        assert report["counts"] == {
            "created": 1,
            "updated": 0,
            "unchanged": 0,
            "skipped": 0,
            "rejected": 4,
            "errors": 5,
        }
        assert [(e["row"], e["column"], e["field"], e["code"]) for e in report["errors"]] == [
            (3, "TRL", "trl", "invalid_number"),
            (4, "Giá từ", "price_min", "invalid_amount"),
            (4, "TRL", "trl", "less_than_equal"),
            (5, "Tên công nghệ", "title", "required"),
            (6, None, "external_id", "duplicate_in_file"),
        ]
        assert await imported_offers(client, staff) == []

    async def test_an_out_of_range_value_is_reported_with_the_schema_code(
        self, client: AsyncClient, staff: Registered
    ) -> None:
        content = xlsx(OFFER_HEADERS, [offer_row("B-1", "Máy sấy nông sản năng lượng mặt trời", TRL=12)])
        report = expect(await upload(client, staff, content), 201)
        assert [(e["row"], e["column"], e["field"], e["code"]) for e in report["errors"]] == [
            (2, "TRL", "trl", "less_than_equal")
        ]

    async def test_the_error_file_holds_the_rejected_rows_with_what_to_fix(
        self, client: AsyncClient, staff: Registered
    ) -> None:
        content = xlsx(
            OFFER_HEADERS,
            [
                offer_row("C-1", "Vật liệu lọc nano mangan oxit xử lý asen"),
                offer_row("C-2", "Chế phẩm vi sinh", TRL="x"),
            ],
        )
        report = expect(await upload(client, staff, content), 201)
        response = await client.get(report["error_file_url"], headers=staff.headers)
        assert response.status_code == 200
        rows = list(load_workbook(io.BytesIO(response.content)).worksheets[0].iter_rows(values_only=True))
        assert rows[0] == ("Dòng / Row", *OFFER_HEADERS, "Lỗi / Errors")
        assert len(rows) == 2
        assert rows[1][:3] == (3, "C-2", "Viện Công nghệ Môi trường")
        assert "TRL" in rows[1][-1]
        assert "[invalid_number]" in rows[1][-1]

    async def test_headers_in_english_or_without_marks_are_matched(
        self, client: AsyncClient, staff: Registered
    ) -> None:
        headers = ["External ID", "Organisation", "Technology", "Summary", "Linh vuc", "TRL level", "ip status"]
        row = [
            "D-1",
            "Viện Cơ khí",
            "Dây chuyền đúc kim loại",
            "Công nghệ đúc kim loại cho công nghiệp hỗ trợ.",
            "co khi",
            6,
            "bí quyết",
        ]
        report = expect(await upload(client, staff, xlsx(headers, [row])), 201)
        mapped = {c["header"]: c["field"] for c in report["columns"]}
        assert mapped == {
            "External ID": "external_id",
            "Organisation": "organization",
            "Technology": "title",
            "Summary": "summary",
            "Linh vuc": "field",
            "TRL level": "trl",
            "ip status": "ip_status",
        }
        assert report["errors"] == []

    async def test_a_mapping_overrides_the_suggestions(self, client: AsyncClient, staff: Registered) -> None:
        headers = ["Mã hồ sơ", "Cơ quan chủ trì", "Tên công nghệ", "Tóm tắt", "Lĩnh vực", "TRL"]
        row = [
            "E-1",
            "Viện Cơ khí",
            "Dây chuyền đúc kim loại",
            "Công nghệ đúc kim loại cho công nghiệp hỗ trợ.",
            "cơ khí",
            6,
        ]
        without = expect(await upload(client, staff, xlsx(headers, [row])), 201)
        assert without["status"] == "failed"
        assert ("organization", "missing_column") in {(e["field"], e["code"]) for e in without["errors"]}
        report = expect(
            await upload(client, staff, xlsx(headers, [row]), mapping='{"Cơ quan chủ trì": "organization"}'), 201
        )
        assert report["status"] == "finished"
        assert report["errors"] == []


class TestCommit:
    async def test_commit_after_dry_run_then_reupload_updates_instead_of_duplicating(
        self, client: AsyncClient, staff: Registered
    ) -> None:
        first = xlsx(
            OFFER_HEADERS,
            [
                offer_row("F-1", "Vật liệu lọc nano mangan oxit xử lý asen"),
                offer_row("F-2", "Chế phẩm vi sinh", TRL="x"),
            ],
        )
        dry = expect(await upload(client, staff, first), 201)
        committed = expect(await client.post(f"/api/v1/imports/{dry['id']}/commit", headers=staff.headers), 200)
        assert committed["mode"] == "commit"
        assert committed["counts"]["created"] == 1
        assert committed["counts"]["rejected"] == 1
        again = await client.post(f"/api/v1/imports/{dry['id']}/commit", headers=staff.headers)
        assert again.status_code == 409
        offers = await imported_offers(client, staff)
        assert [(o["title"], o["status"], o["trl"]) for o in offers] == [
            ("Vật liệu lọc nano mangan oxit xử lý asen", "draft", 7)
        ]
        assert "arsenic-removal" in offers[0]["concepts"], "free-text keywords become concepts"

        corrected = xlsx(
            OFFER_HEADERS,
            [
                offer_row("F-1", "Vật liệu lọc nano mangan oxit xử lý asen", TRL=8),
                offer_row("F-2", "Chế phẩm vi sinh xử lý nước thải thủy sản", TRL=6),
            ],
        )
        report = expect(await upload(client, staff, corrected, dry_run=False), 201)
        assert (report["counts"]["created"], report["counts"]["updated"]) == (1, 1)
        report = expect(await upload(client, staff, corrected, dry_run=False), 201)
        assert (report["counts"]["created"], report["counts"]["unchanged"]) == (0, 2)
        offers = await imported_offers(client, staff)
        assert sorted((o["title"], o["trl"]) for o in offers) == [
            ("Chế phẩm vi sinh xử lý nước thải thủy sản", 6),
            ("Vật liệu lọc nano mangan oxit xử lý asen", 8),
        ]
        owners = {o["organization"]["name"] for o in offers}
        assert owners == {"Viện Công nghệ Môi trường"}, "the owner is created once and found again"

    async def test_duplicate_policies(self, client: AsyncClient, staff: Registered) -> None:
        content = xlsx(OFFER_HEADERS, [offer_row("G-1", "Vật liệu lọc nano mangan oxit xử lý asen")])
        expect(await upload(client, staff, content, dry_run=False), 201)
        changed = xlsx(OFFER_HEADERS, [offer_row("G-1", "Vật liệu lọc nano mangan oxit xử lý asen", TRL=9)])
        skipped = expect(await upload(client, staff, changed, dry_run=False, on_duplicate="skip"), 201)
        assert skipped["counts"]["skipped"] == 1
        assert [o["trl"] for o in await imported_offers(client, staff)] == [7]
        added = expect(await upload(client, staff, changed, dry_run=False, on_duplicate="new"), 201)
        assert added["counts"]["created"] == 1
        assert sorted(o["trl"] for o in await imported_offers(client, staff)) == [7, 9]

    async def test_published_imports_are_public_with_their_source_and_audited(
        self, client: AsyncClient, staff: Registered
    ) -> None:
        content = xlsx(OFFER_HEADERS, [offer_row("H-1", "Vật liệu lọc nano mangan oxit xử lý asen")])
        expect(await upload(client, staff, content, dry_run=False, publish=True), 201)
        public = expect(await client.get("/api/v1/offers"), 200)["items"]
        assert [(o["title"], o["source"]) for o in public] == [
            ("Vật liệu lọc nano mangan oxit xử lý asen", "hai-phong-survey")
        ]
        trail = expect(
            await client.get("/api/v1/audit", params={"record_id": public[0]["id"]}, headers=staff.headers), 200
        )
        assert trail["items"][0]["changes"]["source"] == [None, "hai-phong-survey"]
        assert trail["items"][0]["actor_account_id"] == staff.account_id

    async def test_the_can_tho_demand_survey_as_csv(self, client: AsyncClient, staff: Registered) -> None:
        csv_text = (
            "Doanh nghiệp;Lĩnh vực;Nhu cầu công nghệ;Kinh phí dự kiến;Thời gian cần;Từ khóa\n"
            "Công ty TNHH Thủy sản Cần Thơ;Nông nghiệp;Công nghệ xử lý nước thải chế biến thủy sản đạt cột A. "
            "Công suất 500 m³/ngày.;3 tỷ;Q2/2027;xử lý nước thải\n"
        )
        report = expect(
            await upload(client, staff, csv_text.encode(), kind="demand", name="can-tho.csv", dry_run=False), 201
        )
        assert report["errors"] == []
        page = expect(await client.get("/api/v1/demands", params={"status": "draft"}, headers=staff.headers), 200)
        demand = page["items"][0]
        assert demand["title"] == "Công nghệ xử lý nước thải chế biến thủy sản đạt cột A"
        assert demand["budget_max"] == "3000000000"
        assert demand["wanted_by"] == "2027-06-30"
        assert demand["field"] == "agriculture_food"
        assert "wastewater-treatment" in demand["concepts"]


class TestRefusals:
    async def test_members_may_not_import(self, client: AsyncClient) -> None:
        member = await register(client)
        content = xlsx(OFFER_HEADERS, [offer_row("I-1", "Vật liệu lọc nano mangan oxit xử lý asen")])
        assert (await upload(client, member, content)).status_code == 403

    async def test_a_file_that_is_no_table(self, client: AsyncClient, staff: Registered) -> None:
        response = await upload(client, staff, b"\x00\x01binary", name="photo.xlsx")
        assert response.status_code == 422
        assert response.json()["code"] == "UnreadableImportFile"
