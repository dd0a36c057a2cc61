"""Bulk import of expert profiles (an organisation's staff list) through the API with real XLSX files:
template, dry run with per-row and per-field errors, commit, re-upload of the corrected file."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from httpx import AsyncClient
from openpyxl import load_workbook
from sqlalchemy.ext.asyncio import AsyncSession

from app.experts.orcid import is_valid_orcid
from tests.helpers import Registered, expect, make_staff
from tests.integration.test_imports import XLSX, upload, xlsx

HEADERS = [
    "Mã hồ sơ",
    "Đơn vị lập hồ sơ",
    "Họ và tên",
    "Quốc gia cư trú",
    "Kiều bào",
    "Ngôn ngữ làm việc",
    "Chuyên môn",
    "Hình thức hỗ trợ",
    "Chi phí",
    "Mã ORCID",
    "Số công bố",
    "Email",
    "Không công khai",
    "Ngày đồng ý",
    "Hình thức đồng ý",
]
VALID_ORCID = "0000-0002-1825-0097"
BAD_CHECK_DIGIT = "0000-0002-1825-0098"
INSTITUTE = "Viện Công nghệ Môi trường"


def expert_row(external_id: str, name: str, **cells: Any) -> list[Any]:
    values = {
        "Mã hồ sơ": external_id,
        "Đơn vị lập hồ sơ": INSTITUTE,
        "Họ và tên": name,
        "Quốc gia cư trú": "JP",
        "Kiều bào": "có",
        "Ngôn ngữ làm việc": "tiếng Việt, tiếng Nhật",
        "Chuyên môn": "xử lý nước thải, màng lọc MBR",
        "Hình thức hỗ trợ": "đánh giá công nghệ, tư vấn",
        "Chi phí": "thỏa thuận",
        "Mã ORCID": VALID_ORCID,
        "Số công bố": 42,
        "Email": f"{external_id.lower()}@example.jp",
        "Không công khai": "số công bố",
        "Ngày đồng ý": "02/11/2026",
        "Hình thức đồng ý": "Phiếu đồng ý có chữ ký",
        **cells,
    }
    return [values[h] for h in HEADERS]


@pytest.fixture
async def staff(client: AsyncClient, session: AsyncSession) -> Registered:
    return await make_staff(client, session, "moderator")


async def imported_experts(client: AsyncClient, staff: Registered) -> list[dict[str, Any]]:
    page = expect(await client.get("/api/v1/experts", params={"limit": 100}, headers=staff.headers), 200)
    return [e for e in page["items"] if e["source"] == "hai-phong-survey"]


def report_errors(report: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [(e["row"], e["column"], e["field"], e["code"]) for e in report["errors"]]


class TestTemplate:
    async def test_the_expert_template_asks_for_the_consent_of_each_person(self, client: AsyncClient) -> None:
        response = await client.get("/api/v1/imports/template", params={"kind": "expert"})
        assert response.status_code == 200
        assert response.headers["content-type"] == XLSX
        workbook = load_workbook(io.BytesIO(response.content))
        headers = [cell.value for cell in workbook.worksheets[0][1]]
        for column in ("Họ và tên", "Chuyên môn", "Hình thức hỗ trợ", "Mã ORCID", "Email", "Ngày đồng ý"):
            assert column in headers
        example = dict(zip(headers, [cell.value for cell in workbook.worksheets[0][2]], strict=True))
        assert is_valid_orcid(example["Mã ORCID"]), "the example row passes the check it documents"
        guide = {row[1]: row for row in workbook.worksheets[1].iter_rows(min_row=2, values_only=True)}
        assert guide["consent_date"][2] == "x", "consent is required"
        assert guide["consent_method"][2] == "x"

    async def test_a_file_without_the_consent_columns_is_refused_whole(
        self, client: AsyncClient, staff: Registered
    ) -> None:
        headers = HEADERS[:-2]
        content = xlsx(headers, [expert_row("K-1", "Trần Văn An")[:-2]])
        report = expect(await upload(client, staff, content, kind="expert", dry_run=False), 201)
        assert report["status"] == "failed"
        assert {(e["field"], e["code"]) for e in report["errors"]} == {
            ("consent_date", "missing_column"),
            ("consent_method", "missing_column"),
        }
        assert await imported_experts(client, staff) == []


class TestDryRun:
    async def test_reports_each_fault_by_row_and_column_and_writes_nothing(
        self, client: AsyncClient, staff: Registered
    ) -> None:
        content = xlsx(
            HEADERS,
            [
                expert_row("E-1", "Nguyễn Thị Minh Hạnh"),
                expert_row("E-2", "Trần Văn An", **{"Mã ORCID": BAD_CHECK_DIGIT}),
                expert_row("E-3", "Lê Thu Hà", **{"Hình thức hỗ trợ": "tư vấn, môi giới"}),
                expert_row("E-4", "Phạm Quốc Bảo", **{"Ngày đồng ý": None}),
                expert_row("E-5", "Võ Minh Châu", **{"Hình thức đồng ý": None, "Email": "not-an-email"}),
            ],
        )
        report = expect(await upload(client, staff, content, kind="expert"), 201)
        assert report["mode"] == "dry_run"
        assert report["counts"] == {
            "created": 1,
            "updated": 0,
            "unchanged": 0,
            "skipped": 0,
            "rejected": 4,
            "errors": 5,
        }
        assert report_errors(report) == [
            (3, "Mã ORCID", "orcid", "invalid_orcid"),
            (4, "Hình thức hỗ trợ", "offers", "invalid_choice"),
            (5, "Ngày đồng ý", "consent_date", "required"),
            (6, "Hình thức đồng ý", "consent_method", "required"),
            (6, "Email", "email", "value_error"),
        ]
        assert await imported_experts(client, staff) == []

        response = await client.get(report["error_file_url"], headers=staff.headers)
        assert response.status_code == 200
        rows = list(load_workbook(io.BytesIO(response.content)).worksheets[0].iter_rows(values_only=True))
        assert rows[0] == ("Dòng / Row", *HEADERS, "Lỗi / Errors")
        assert [(r[0], r[1]) for r in rows[1:]] == [(3, "E-2"), (4, "E-3"), (5, "E-4"), (6, "E-5")]
        assert "Mã ORCID" in rows[1][-1]
        assert "[invalid_orcid]" in rows[1][-1]
        assert "môi giới" in rows[2][-1]
        assert "[required]" in rows[3][-1]

    async def test_a_consent_dated_in_the_future_is_refused(self, client: AsyncClient, staff: Registered) -> None:
        later = (datetime.now(UTC) + timedelta(days=30)).strftime("%d/%m/%Y")
        content = xlsx(HEADERS, [expert_row("L-1", "Trần Văn An", **{"Ngày đồng ý": later})])
        report = expect(await upload(client, staff, content, kind="expert"), 201)
        assert report_errors(report) == [(2, "Ngày đồng ý", "consent_date", "future_date")]

    async def test_english_headers_are_matched(self, client: AsyncClient, staff: Registered) -> None:
        headers = ["External ID", "Listed by", "Full name", "Expertise", "Offers", "ORCID iD", "E-mail"]
        headers += ["Consent date", "Consent method"]
        row = ["EN-1", INSTITUTE, "Đỗ Hải Nam", "wastewater treatment", "assessment", VALID_ORCID, "nam@example.vn"]
        row += ["2026-11-02", "signed form"]
        report = expect(await upload(client, staff, xlsx(headers, [row]), kind="expert"), 201)
        assert {c["header"]: c["field"] for c in report["columns"]} == {
            "External ID": "external_id",
            "Listed by": "organization",
            "Full name": "name",
            "Expertise": "expertise",
            "Offers": "offers",
            "ORCID iD": "orcid",
            "E-mail": "email",
            "Consent date": "consent_date",
            "Consent method": "consent_method",
        }
        assert report["errors"] == []
        assert report["counts"]["created"] == 1


class TestCommit:
    async def test_commit_then_the_corrected_file_updates_instead_of_duplicating(
        self, client: AsyncClient, staff: Registered
    ) -> None:
        first = xlsx(
            HEADERS,
            [
                expert_row("F-1", "Nguyễn Thị Minh Hạnh"),
                expert_row("F-2", "Trần Văn An", **{"Mã ORCID": BAD_CHECK_DIGIT}),
            ],
        )
        dry = expect(await upload(client, staff, first, kind="expert"), 201)
        committed = expect(await client.post(f"/api/v1/imports/{dry['id']}/commit", headers=staff.headers), 200)
        assert (committed["counts"]["created"], committed["counts"]["rejected"]) == (1, 1)
        [hanh] = await imported_experts(client, staff)
        assert hanh["name"] == "Nguyễn Thị Minh Hạnh"
        assert hanh["listed_by"] == "organization"
        assert (hanh["country"], hanh["overseas_vietnamese"], hanh["languages"]) == ("JP", True, ["vi", "ja"])
        assert hanh["offers"] == ["assessment", "consulting"]
        assert hanh["orcid"] == VALID_ORCID
        assert "wastewater-treatment" in hanh["concepts"], "free-text expertise becomes concepts"
        assert hanh["keywords"] == ["xử lý nước thải", "màng lọc MBR"]
        assert hanh["publications_count"] is None, "private, as the row chose"
        assert "publications_count" in hanh["hidden"]
        assert hanh["contact"] is None, "contact details are never shown to others"

        owner = expect(await client.get(f"/api/v1/organizations/{hanh['organization_id']}"), 200)
        assert owner["name"] == INSTITUTE
        trail = expect(await client.get("/api/v1/audit", params={"record_id": hanh["id"]}, headers=staff.headers), 200)
        [created] = trail["items"]
        assert created["changes"]["source"] == [None, "hai-phong-survey"]
        assert created["changes"]["consent"][1] == {
            "given_at": "2026-11-02T00:00:00Z",
            "method": "Phiếu đồng ý có chữ ký",
        }
        assert created["actor_account_id"] == staff.account_id

        corrected = xlsx(
            HEADERS,
            [
                expert_row("F-1", "Nguyễn Thị Minh Hạnh", **{"Số công bố": 45, "Hình thức hỗ trợ": "đánh giá"}),
                expert_row("F-2", "Trần Văn An"),
            ],
        )
        report = expect(await upload(client, staff, corrected, kind="expert", dry_run=False), 201)
        assert report["errors"] == []
        assert (report["counts"]["created"], report["counts"]["updated"]) == (1, 1)
        again = expect(await upload(client, staff, corrected, kind="expert", dry_run=False), 201)
        assert (again["counts"]["created"], again["counts"]["unchanged"]) == (0, 2)

        experts = {e["name"]: e for e in await imported_experts(client, staff)}
        assert sorted(experts) == ["Nguyễn Thị Minh Hạnh", "Trần Văn An"]
        assert experts["Nguyễn Thị Minh Hạnh"]["id"] == hanh["id"], "updated in place"
        assert experts["Nguyễn Thị Minh Hạnh"]["offers"] == ["assessment"]
        assert experts["Nguyễn Thị Minh Hạnh"]["version"] == hanh["version"] + 1
        assert {e["organization_id"] for e in experts.values()} == {hanh["organization_id"]}, "one owner"
        trail = expect(await client.get("/api/v1/audit", params={"record_id": hanh["id"]}, headers=staff.headers), 200)
        update = next(e for e in trail["items"] if e["action"] == "update")
        assert update["changes"]["publications_count"] == [42, 45]
        assert update["changes"]["source"] == [None, "hai-phong-survey"]

    async def test_duplicate_policies(self, client: AsyncClient, staff: Registered) -> None:
        content = xlsx(HEADERS, [expert_row("G-1", "Nguyễn Thị Minh Hạnh")])
        expect(await upload(client, staff, content, kind="expert", dry_run=False), 201)
        changed = xlsx(HEADERS, [expert_row("G-1", "Nguyễn Thị Minh Hạnh", **{"Quốc gia cư trú": "KR"})])
        predicted = expect(await upload(client, staff, changed, kind="expert", on_duplicate="skip"), 201)
        assert predicted["counts"]["skipped"] == 1
        skipped = expect(await upload(client, staff, changed, kind="expert", dry_run=False, on_duplicate="skip"), 201)
        assert skipped["counts"]["skipped"] == 1
        assert [e["country"] for e in await imported_experts(client, staff)] == ["JP"]
        added = expect(await upload(client, staff, changed, kind="expert", dry_run=False, on_duplicate="new"), 201)
        assert added["counts"]["created"] == 1
        assert sorted(e["country"] for e in await imported_experts(client, staff)) == ["JP", "KR"]
