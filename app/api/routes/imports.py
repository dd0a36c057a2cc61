"""Bulk import of offers, demands, organisations and experts from XLSX or CSV: dry run, errors, commit."""

from __future__ import annotations

import json
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request, status
from fastapi.responses import Response

from app.accounts.permissions import Principal
from app.api.deps import CurrentPrincipal, SessionDep, SettingsDep
from app.api.idempotency import ExchangeRoute
from app.api.openapi import declare_headers, declare_problems
from app.api.routes.stats import XLSX, XlsxResponse
from app.audit.service import Actor
from app.errors import PermissionDeniedError, problem_responses
from app.integration.exceptions import (
    ImportAlreadyCommittedError,
    ImportErrorFileNotFoundError,
    ImportNotFoundError,
    ImportTooLargeError,
    InvalidMappingError,
    UnreadableImportFileError,
)
from app.integration.imports import service
from app.integration.imports.engine import template_workbook
from app.integration.imports.kinds import KINDS, ImportKindName
from app.integration.imports.schemas import ImportRead, ImportUpload, present_import

router = APIRouter(prefix="/imports", tags=["imports"], route_class=ExchangeRoute)
XLSX_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {XLSX: {"schema": {"type": "string", "format": "binary"}}}}
}


def _importer(principal: CurrentPrincipal) -> Principal:
    """Staff only, checked before the upload is read (a dependency: it answers 403 before any 422)."""
    service.require_importer(principal)
    return principal


Importer = Annotated[Principal, Depends(_importer)]


def _mapping(raw: str | None) -> dict[str, str | None] | None:
    if raw is None or not raw.strip():
        return None
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        raise InvalidMappingError("`mapping` must be a JSON object.") from None
    if not isinstance(value, dict) or not all(isinstance(v, str | None) for v in value.values()):
        raise InvalidMappingError(
            '`mapping` must map headers to field names or null: {"Doanh nghiệp": "organization"}.'
        )
    return value


@router.get("/template", summary="Download an import template", response_class=XlsxResponse, responses=XLSX_RESPONSE)
async def get_import_template(
    kind: Annotated[ImportKindName, Query(description="The kind of record the form is for.")] = ImportKindName.OFFER,
) -> Response:
    """An XLSX form with the columns of `kind` (Vietnamese headers), an example row and a guide sheet;
    `demand` is the demand-survey form of the Can Tho programme; `expert` an organisation's staff list, with
    each person's consent."""
    return XlsxResponse(
        template_workbook(KINDS[kind.value]),
        headers={"Content-Disposition": f'attachment; filename="techex-import-{kind.value}.xlsx"'},
    )


@router.post(
    "",
    summary="Import a file",
    status_code=status.HTTP_201_CREATED,
    response_model=ImportRead,
    responses=problem_responses(401, 403, 413, 422),
)
async def create_import(
    request: Request,
    response: Response,
    principal: Importer,
    session: SessionDep,
    settings: SettingsDep,
    form: Annotated[ImportUpload, Form(media_type="multipart/form-data")],
) -> ImportRead:
    """Map the columns (suggested from header names in vi/en, fuzzy), validate every row, and — unless a dry run —
    create or update the records; the report lists errors per row and field."""
    job = await service.create_job(
        session,
        principal,
        kind=form.kind.value,
        source=form.source,
        filename=form.file.filename or "upload",
        content=await form.file.read(),
        dry_run=form.dry_run,
        on_duplicate=form.on_duplicate,
        publish=form.publish,
        mapping=_mapping(form.mapping),
        organization_id=principal.organization_id,
    )
    await service.run_job(session, job, Actor(principal), max_rows=settings.max_import_rows)
    response.headers["Location"] = f"{request.url.path}/{job.id}"
    return present_import(job)


@router.get(
    "/{import_id}", summary="Get an import", response_model=ImportRead, responses=problem_responses(401, 403, 404)
)
async def get_import(import_id: uuid.UUID, principal: Importer, session: SessionDep) -> ImportRead:
    """The import's mapping, counts and per-row errors."""
    return present_import(await service.get_job(session, import_id))


@router.post(
    "/{import_id}/commit",
    summary="Commit a dry run",
    response_model=ImportRead,
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def commit_import(
    import_id: uuid.UUID, principal: Importer, session: SessionDep, settings: SettingsDep
) -> ImportRead:
    """Write the rows of a dry run (the stored file and mapping); rejected rows stay out."""
    job = await service.get_job(session, import_id)
    await service.commit_job(session, job, Actor(principal), max_rows=settings.max_import_rows)
    return present_import(job)


@router.get(
    "/{import_id}/errors.xlsx",
    summary="Download the rejected rows",
    response_class=XlsxResponse,
    responses={**XLSX_RESPONSE, **problem_responses(401, 403, 404)},
)
async def get_import_errors(import_id: uuid.UUID, principal: Importer, session: SessionDep) -> Response:
    """The rejected rows as uploaded, with a last column saying what to correct; fix them and upload again."""
    job = await service.get_job(session, import_id)
    if job.error_file is None:
        raise ImportErrorFileNotFoundError()
    return XlsxResponse(
        job.error_file, headers={"Content-Disposition": f'attachment; filename="import-{job.id}-errors.xlsx"'}
    )


_STAFF = [PermissionDeniedError]
declare_problems(
    router,
    {
        "create_import": [*_STAFF, UnreadableImportFileError, ImportTooLargeError, InvalidMappingError],
        "get_import": [*_STAFF, ImportNotFoundError],
        "commit_import": [*_STAFF, ImportNotFoundError, ImportAlreadyCommittedError, ImportTooLargeError],
        "get_import_errors": [*_STAFF, ImportNotFoundError, ImportErrorFileNotFoundError],
    },
)
declare_headers(
    router,
    {
        "create_import": ["Location"],
        "get_import_template": ["Content-Disposition"],
        "get_import_errors": ["Content-Disposition"],
    },
)
