"""Rules on documents: who attaches a file to what, what is accepted, who reads it, and signed links."""

from __future__ import annotations

import hashlib
import re
import uuid
from datetime import timedelta
from functools import partial

import filetype
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.authorization import actor_for_organization
from app.accounts.permissions import Principal
from app.audit import service as audit
from app.audit.service import Actor, AuditAction
from app.db import on_commit, on_rollback
from app.deals import repository as deal_repository
from app.deals.service import deal_service
from app.documents.scanning import Scanner
from app.documents.schemas import AttachedTo, DocumentKind, DocumentLink, DocumentRead, DocumentVisibility
from app.documents.storage import DocumentStorage
from app.engagements.service import _acts_for, service_request_service
from app.errors import AppError, InvalidInputError, NotFoundError, PermissionDeniedError
from app.listings.schemas import ListingStatus
from app.listings.service import effective_status
from app.models import Document
from app.models.base import utcnow
from app.pagination import PageParams, paginate

RECORD_TYPE = "document"
# What the content may be, read from its first bytes (never from the name or the claimed type).
ALLOWED_TYPES = {
    "application/pdf",
    "image/png",
    "image/jpeg",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}
_UNSAFE_NAME = re.compile(r'[\x00-\x1f\x7f/\\"]')


class DocumentNotFoundError(NotFoundError):
    code = "DocumentNotFound"
    title = "Document not found"


class UnsupportedDocumentTypeError(AppError):
    status = 415
    code = "UnsupportedDocumentType"
    title = "Documents are PDF, PNG, JPEG or Office Open XML (docx, xlsx, pptx) files"


class DocumentTooLargeError(AppError):
    status = 413
    code = "DocumentTooLarge"
    title = "The document exceeds the size limit"


class DocumentInfectedError(InvalidInputError):
    code = "DocumentInfected"
    title = "The virus scanner refused the document"


class DownloadLinkInvalidError(NotFoundError):
    code = "DownloadLinkInvalid"
    title = "No document at this link"


class DownloadLinkExpiredError(AppError):
    status = 410
    code = "DownloadLinkExpired"
    title = "The download link has expired; ask for a new one"


def clean_filename(name: str | None) -> str:
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    return _UNSAFE_NAME.sub("_", base).strip()[:200] or "document"


def _signer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt="document-download")


class DocumentService:
    async def _attach_target(
        self, session: AsyncSession, principal: Principal, attached_to: AttachedTo, attached_id: uuid.UUID
    ) -> tuple[Actor, uuid.UUID, dict[str, uuid.UUID]]:
        """Who attaches (the actor and the organisation it acts for) and to what; for listings the same
        refusal whether the listing exists or not."""
        missing = InvalidInputError.for_field(
            ["body", "attached_id"], f"no such {attached_to.value} of yours", "not_found"
        )
        if attached_to in (AttachedTo.OFFER, AttachedTo.DEMAND):
            listing = await deal_repository.get_listing(session, attached_id)
            if listing is None or listing.kind != attached_to.value:
                raise missing
            actor = await _acts_for(session, principal, listing.organization_id)
            if actor is None:
                raise missing
            return actor, listing.organization_id, {"listing_id": listing.id}
        if attached_to is AttachedTo.SERVICE_REQUEST:
            request = await service_request_service.get(session, principal, attached_id)
            for party in (request.requester_organization_id, request.provider_organization_id):
                actor = await _acts_for(session, principal, party)
                if actor is not None and party is not None:
                    return actor, party, {"service_request_id": request.id}
            raise PermissionDeniedError("Documents of a request come from its requester side and its provider.")
        deal, _ = await deal_service.get(session, principal, attached_id)
        for party in (deal.supplier_organization_id, deal.buyer_organization_id, deal.broker_organization_id):
            actor = await _acts_for(session, principal, party)
            if actor is not None and party is not None and not (actor.via_mandate_id is None and principal.is_staff):
                return actor, party, {"deal_id": deal.id}
        return Actor(principal), principal.organization_id, {"deal_id": deal.id}

    async def upload(
        self,
        session: AsyncSession,
        principal: Principal,
        storage: DocumentStorage,
        scanner: Scanner,
        *,
        attached_to: AttachedTo,
        attached_id: uuid.UUID,
        kind: DocumentKind,
        visibility: DocumentVisibility,
        filename: str | None,
        data: bytes,
        max_bytes: int,
    ) -> Document:
        actor, owner_id, link = await self._attach_target(session, principal, attached_to, attached_id)
        if visibility is DocumentVisibility.PUBLIC and attached_to is AttachedTo.DEAL:
            raise InvalidInputError.for_field(
                ["body", "visibility"], "a deal's documents are for its parties", "value_error"
            )
        if not data:
            raise InvalidInputError.for_field(["body", "file"], "the file is empty", "value_error")
        if len(data) > max_bytes:
            raise DocumentTooLargeError(f"The document is {len(data)} bytes; the limit is {max_bytes}.")
        guessed = filetype.guess(data)
        if guessed is None or guessed.mime not in ALLOWED_TYPES:
            found = guessed.mime if guessed else "unknown"
            raise UnsupportedDocumentTypeError(f"The content is {found}.")
        threat = await scanner.scan(data)
        if threat is not None:
            raise DocumentInfectedError.for_field(["body", "file"], f"refused by the scanner: {threat}", "infected")
        document = Document(
            attached_to=attached_to.value,
            organization_id=owner_id,
            uploaded_by_account_id=principal.account_id,
            kind=kind.value,
            visibility=visibility.value,
            filename=clean_filename(filename),
            content_type=guessed.mime,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            scan_status="not_scanned" if scanner.name == "none" else "clean",
            **link,
        )
        document.id = uuid.uuid4()
        document.storage_key = f"documents/{document.id}"
        # registered first: a put that fails (a timeout) may still have stored the file
        on_rollback(session, partial(storage.delete, document.storage_key))
        await storage.put(document.storage_key, data, guessed.mime)
        session.add(document)
        await session.flush()
        audit.record(
            session,
            actor,
            AuditAction.CREATE,
            RECORD_TYPE,
            document.id,
            audit.snapshot({"attached_to": document.attached_to, "filename": document.filename, "size": document.size}),
        )
        return document

    async def may_read(self, session: AsyncSession, principal: Principal | None, document: Document) -> bool:
        public = document.visibility == DocumentVisibility.PUBLIC.value
        if document.listing_id is not None:
            listing = await deal_repository.get_listing(session, document.listing_id)
            if listing is None:
                return False
            if principal is not None and await _acts_for(session, principal, listing.organization_id):
                return True
            return public and effective_status(listing) is ListingStatus.PUBLISHED
        if principal is None:
            return False
        if document.service_request_id is not None:
            try:
                request = await service_request_service.get(session, principal, document.service_request_id)
            except NotFoundError:
                return False
            if public or principal.is_staff:
                return True
            parties = (request.requester_organization_id, request.provider_organization_id)
            return any([await _acts_for(session, principal, p) is not None for p in parties])
        if document.deal_id is not None:
            try:
                await deal_service.get(session, principal, document.deal_id)
            except NotFoundError:
                return False
            return True
        return False

    async def get(self, session: AsyncSession, principal: Principal | None, document_id: uuid.UUID) -> Document:
        document = await session.get(Document, document_id)
        if document is None or not await self.may_read(session, principal, document):
            raise DocumentNotFoundError()
        return document

    async def list_page(
        self,
        session: AsyncSession,
        principal: Principal,
        attached_to: AttachedTo | None,
        attached_id: uuid.UUID | None,
        page: PageParams,
    ) -> tuple[list[Document], int]:
        if (attached_to is None) != (attached_id is None):
            raise InvalidInputError.for_field(
                ["query", "attached_id"], "give attached_to and attached_id together", "value_error"
            )
        statement = select(Document).order_by(Document.created_at, Document.id)
        if attached_to is None or attached_id is None:
            if not principal.is_staff:
                statement = statement.where(Document.organization_id == principal.organization_id)
            return await paginate(session, statement, page)
        column = {
            AttachedTo.OFFER: Document.listing_id,
            AttachedTo.DEMAND: Document.listing_id,
            AttachedTo.SERVICE_REQUEST: Document.service_request_id,
            AttachedTo.DEAL: Document.deal_id,
        }[attached_to]
        documents = (await session.scalars(statement.where(column == attached_id))).all()
        # a record's documents are few: filtered by the reading rule in memory, then windowed
        readable = [d for d in documents if await self.may_read(session, principal, d)]
        start = page.offset
        return readable[start : start + page.limit], len(readable)

    def link(self, document: Document, secret: str, seconds: int) -> DocumentLink:
        token = _signer(secret).dumps(str(document.id))
        return DocumentLink(url=f"/api/v1/documents/download/{token}", expires_at=utcnow() + timedelta(seconds=seconds))

    async def by_link(self, session: AsyncSession, token: str, secret: str, seconds: int) -> Document:
        try:
            document_id = _signer(secret).loads(token, max_age=seconds)
        except SignatureExpired:
            raise DownloadLinkExpiredError() from None
        except BadSignature:
            raise DownloadLinkInvalidError() from None
        document = await session.get(Document, uuid.UUID(document_id))
        if document is None:
            raise DownloadLinkInvalidError()
        return document

    async def delete(
        self, session: AsyncSession, principal: Principal, storage: DocumentStorage, document_id: uuid.UUID
    ) -> None:
        """The organisation that attached it (itself, its mandated broker, a moderator) removes a document; its
        file goes once the deletion is committed."""
        document = await self.get(session, principal, document_id)
        actor = await actor_for_organization(session, principal, document.organization_id)
        await session.delete(document)
        await session.flush()
        audit.record(
            session, actor, AuditAction.DELETE, RECORD_TYPE, document.id, {"filename": [document.filename, None]}
        )
        on_commit(session, partial(storage.delete, document.storage_key))


document_service = DocumentService()


def to_read(document: Document) -> DocumentRead:
    return DocumentRead(
        id=document.id,
        attached_to=AttachedTo(document.attached_to),
        attached_id=document.listing_id or document.service_request_id or document.deal_id,
        kind=DocumentKind(document.kind),
        visibility=DocumentVisibility(document.visibility),
        filename=document.filename,
        content_type=document.content_type,
        size=document.size,
        sha256=document.sha256,
        scan_status=document.scan_status,
        created_at=document.created_at,
    )
