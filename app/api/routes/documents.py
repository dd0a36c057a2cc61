"""Documents: files attached to listings, service requests and deals; signed download links that expire."""

from __future__ import annotations

import uuid
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request, Response, status

from app.accounts.authorization import NotYourOrganizationError
from app.api.deps import CurrentPrincipal, SessionDep, SettingsDep
from app.api.idempotency import ExchangeRoute
from app.api.openapi import declare_headers, declare_problems
from app.deals.service import DealNotFoundError
from app.documents.schemas import AttachedTo, DocumentLink, DocumentRead, DocumentUpload
from app.documents.service import (
    ALLOWED_TYPES,
    DocumentInfectedError,
    DocumentNotFoundError,
    DocumentTooLargeError,
    DownloadLinkExpiredError,
    DownloadLinkInvalidError,
    UnsupportedDocumentTypeError,
    document_service,
    to_read,
)
from app.engagements.service import ServiceRequestNotFoundError
from app.errors import InvalidInputError, PermissionDeniedError, problem_responses
from app.pagination import LinksDep, Page, PageDep

router = APIRouter(prefix="/documents", tags=["documents"], route_class=ExchangeRoute)


@router.post(
    "",
    summary="Upload a document",
    status_code=status.HTTP_201_CREATED,
    response_model=DocumentRead,
    responses=problem_responses(401, 403, 404, 413, 415, 422),
)
async def upload_document(
    request: Request,
    principal: CurrentPrincipal,
    session: SessionDep,
    settings: SettingsDep,
    form: Annotated[DocumentUpload, Form(media_type="multipart/form-data")],
) -> DocumentRead:
    """Attach a file (multipart/form-data) to a record you may change; its size and type are checked from its
    content, and it passes the virus-scanning hook before it is stored."""
    data = await form.file.read(settings.document_max_bytes + 1)
    document = await document_service.upload(
        session,
        principal,
        request.app.state.document_storage,
        request.app.state.document_scanner,
        attached_to=form.attached_to,
        attached_id=form.attached_id,
        kind=form.kind,
        visibility=form.visibility,
        filename=form.file.filename,
        data=data,
        max_bytes=settings.document_max_bytes,
    )
    return to_read(document)


@router.get(
    "", summary="List a record's documents", response_model=Page[DocumentRead], responses=problem_responses(401, 422)
)
async def list_documents(
    principal: CurrentPrincipal,
    session: SessionDep,
    page: PageDep,
    links: LinksDep,
    attached_to: Annotated[AttachedTo | None, Query(description="With `attached_id`: one record's documents.")] = None,
    attached_id: Annotated[uuid.UUID | None, Query()] = None,
) -> Page[DocumentRead]:
    """The documents of one record that you may read, oldest first; without a record, those your organisation
    attached (moderators: all)."""
    items, total = await document_service.list_page(session, principal, attached_to, attached_id, page)
    return links(Page.of([to_read(d) for d in items], total, page))


@router.get(
    "/{document_id}",
    summary="Get a document's details",
    response_model=DocumentRead,
    responses=problem_responses(401, 404, 422),
)
async def get_document(document_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep) -> DocumentRead:
    """Name, type, size, checksum and scan status of a document you may read."""
    return to_read(await document_service.get(session, principal, document_id))


@router.post(
    "/{document_id}/link",
    summary="Get a download link",
    response_model=DocumentLink,
    responses=problem_responses(401, 404, 422),
)
async def create_download_link(
    document_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep, settings: SettingsDep
) -> DocumentLink:
    """A signed link that downloads the document without credentials until it expires (DOCUMENT_LINK_SECONDS)."""
    document = await document_service.get(session, principal, document_id)
    return document_service.link(document, settings.secret_key, settings.document_link_seconds)


@router.get(
    "/download/{token}",
    summary="Download a document",
    response_class=Response,
    responses={
        200: {"content": {t: {"schema": {"type": "string", "format": "binary"}} for t in sorted(ALLOWED_TYPES)}},
        **problem_responses(404, 410, 422),
    },
)
async def download_document(token: str, request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    """The file behind a signed link, with its checked content type."""
    document = await document_service.by_link(session, token, settings.secret_key, settings.document_link_seconds)
    data = await request.app.state.document_storage.get(document.storage_key)
    return Response(
        data,
        media_type=document.content_type,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(document.filename)}"},
    )


@router.delete(
    "/{document_id}",
    summary="Delete a document",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=problem_responses(401, 403, 404, 422),
)
async def delete_document(
    document_id: uuid.UUID, request: Request, principal: CurrentPrincipal, session: SessionDep
) -> Response:
    """The organisation that attached it (itself, its mandated broker, a moderator) removes it."""
    await document_service.delete(session, principal, request.app.state.document_storage, document_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


declare_problems(
    router,
    {
        "upload_document": [
            InvalidInputError,
            DocumentInfectedError,
            DocumentTooLargeError,
            UnsupportedDocumentTypeError,
            PermissionDeniedError,
            NotYourOrganizationError,
            ServiceRequestNotFoundError,
            DealNotFoundError,
        ],
        "list_documents": [InvalidInputError],
        "get_document": [DocumentNotFoundError],
        "create_download_link": [DocumentNotFoundError],
        "download_document": [DownloadLinkInvalidError, DownloadLinkExpiredError],
        "delete_document": [DocumentNotFoundError, NotYourOrganizationError],
    },
)
declare_headers(router, {"download_document": ["Content-Disposition"]})
