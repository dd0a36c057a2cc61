"""The imports API contract."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import UploadFile
from pydantic import ConfigDict, Field, StringConstraints

from app.integration.external import DuplicatePolicy
from app.integration.imports.kinds import ImportKindName
from app.schema_base import RequestModel, ResponseModel

SourceName = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$")]


class ImportUpload(RequestModel):
    """The multipart form of `POST /imports`."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "file": "khao-sat-nhu-cau-can-tho.xlsx",
                    "kind": "demand",
                    "source": "can-tho-survey-2025",
                    "dry_run": True,
                    "on_duplicate": "update",
                    "publish": False,
                    "mapping": '{"Tên doanh nghiệp": "organization"}',
                }
            ]
        }
    )

    file: UploadFile = Field(description="An XLSX workbook (first sheet) or a UTF-8 CSV file with a header row.")
    kind: ImportKindName = Field(description="What each row is.")
    source: SourceName = Field(default="import", description="The file's origin; with each row's id, the external key.")
    dry_run: bool = Field(default=True, description="Validate and report only, writing nothing.")
    on_duplicate: DuplicatePolicy = Field(
        default=DuplicatePolicy.UPDATE,
        description="A row whose external key exists: `update` it, `skip` it, or add a `new` one.",
    )
    publish: bool = Field(
        default=False, description="Publish imported listings at once (else drafts); expert profiles are live at once."
    )
    mapping: Annotated[str, StringConstraints(max_length=20_000)] | None = Field(
        default=None, description='JSON `{"header": "field" | null}` overriding the suggested mapping.'
    )


class ColumnMatchRead(ResponseModel):
    header: str = Field(description="The column's header in the file.")
    field: str | None = Field(description="The field it fills; null when left out.")
    score: float = Field(description="100 for a known header name, less for a fuzzy match, 0 when unmatched.")


class RowErrorRead(ResponseModel):
    row: int = Field(description="The spreadsheet row (the header is row 1; row 1 errors concern the columns).")
    column: str | None = Field(description="The file's header of the cell at fault.")
    field: str | None
    code: str = Field(
        description="Stable code: required, invalid_number, invalid_amount, invalid_date, "
        "invalid_choice, invalid_orcid, future_date, duplicate_in_file, missing_column, or a validation type such as "
        "string_too_short, less_than_equal."
    )
    message: str


class ImportRead(ResponseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "5f0c7a4e-9d3b-4c1a-8e2f-6b7d8c9e0a11",
                    "kind": "demand",
                    "source": "can-tho-survey-2025",
                    "filename": "khao-sat-nhu-cau.xlsx",
                    "mode": "dry_run",
                    "on_duplicate": "update",
                    "publish": False,
                    "status": "finished",
                    "columns": [{"header": "Doanh nghiệp", "field": "organization", "score": 100.0}],
                    "total_rows": 120,
                    "processed_rows": 120,
                    "counts": {"created": 110, "updated": 8, "unchanged": 0, "skipped": 0, "rejected": 2, "errors": 3},
                    "errors": [
                        {
                            "row": 14,
                            "column": "Kinh phí dự kiến",
                            "field": "budget",
                            "code": "invalid_amount",
                            "message": "'ba tỷ' is not an amount",
                        }
                    ],
                    "errors_truncated": False,
                    "error_file_url": "/api/v1/imports/5f0c7a4e-9d3b-4c1a-8e2f-6b7d8c9e0a11/errors.xlsx",
                    "failure": None,
                    "created_at": "2026-11-30T08:00:00Z",
                    "finished_at": "2026-11-30T08:00:03Z",
                }
            ]
        }
    )

    id: uuid.UUID
    kind: ImportKindName
    source: str = Field(description="With each row's external id, the key that makes re-uploads update.")
    filename: str
    mode: str = Field(description="`dry_run` (nothing written) or `commit`.")
    on_duplicate: DuplicatePolicy
    publish: bool
    status: str = Field(description="`finished`, or `failed` when the columns do not fit (see `failure`).")
    columns: list[ColumnMatchRead] = Field(description="How the file's columns were mapped.")
    total_rows: int
    processed_rows: int
    counts: dict[str, int] = Field(
        description="Rows created, updated, unchanged, skipped and rejected (a dry run predicts them), and errors."
    )
    errors: list[RowErrorRead] = Field(description="Per row and field, the first 1,000.")
    errors_truncated: bool
    error_file_url: str | None = Field(description="The rejected rows as XLSX, with an error column.")
    failure: str | None
    created_at: datetime
    finished_at: datetime | None


def present_import(job: Any) -> ImportRead:
    errors = job.errors or []
    return ImportRead(
        id=job.id,
        kind=job.kind,
        source=job.source,
        filename=job.filename,
        mode=job.mode,
        on_duplicate=job.on_duplicate,
        publish=job.publish,
        status=job.status,
        columns=[ColumnMatchRead(**c) for c in (job.mapping or {}).get("columns", [])],
        total_rows=job.total_rows,
        processed_rows=job.processed_rows,
        counts=job.counts or {},
        errors=[RowErrorRead(**e) for e in errors],
        errors_truncated=(job.counts or {}).get("errors", 0) > len(errors),
        error_file_url=f"/api/v1/imports/{job.id}/errors.xlsx" if job.error_file else None,
        failure=job.failure,
        created_at=job.created_at,
        finished_at=job.finished_at,
    )
