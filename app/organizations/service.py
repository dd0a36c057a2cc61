"""Rules on organisations: who may create, change, verify and delete them."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.authorization import actor_for_organization
from app.accounts.permissions import Permission, Principal
from app.audit import service as audit
from app.audit.service import Actor, AuditAction
from app.documents.cascade import remove_files_with
from app.documents.storage import DocumentStorage
from app.errors import PermissionDeniedError
from app.models import Organization
from app.models.base import utcnow
from app.organizations import repository
from app.organizations.exceptions import (
    OrganizationChangedError,
    OrganizationInUseError,
    OrganizationNotFoundError,
    ServicesNotAllowedError,
    VerificationPreconditionRequiredError,
)
from app.organizations.schemas import (
    OrganizationCreate,
    OrganizationFilters,
    OrganizationKind,
    OrganizationRead,
    OrganizationUpdate,
)
from app.pagination import PageParams
from app.search import outbox

RECORD_TYPE = "organization"
# What a moderator checked when verifying: changing any of it, other than by a moderator,
# sends the organisation back to verification (a verified badge must not pass to a new identity).
IDENTITY_FIELDS = ("name", "name_i18n", "kind", "country", "registration_code")


def etag(organization: Organization) -> str:
    """A strong ETag of the organisation's public representation (a digest: the table has no version)."""
    representation = OrganizationRead.model_validate(organization).model_dump_json()
    return f'"{hashlib.sha256(representation.encode()).hexdigest()[:24]}"'


def _column_values(payload: OrganizationCreate | OrganizationUpdate, *, partial: bool) -> dict[str, Any]:
    """Column values as JSON-safe types (URLs, enums); only the fields sent when `partial`."""
    return payload.model_dump(mode="json", exclude_unset=partial)


class OrganizationService:
    async def get(self, session: AsyncSession, organization_id: uuid.UUID, *, lock: bool = False) -> Organization:
        organization = await repository.get(session, organization_id, lock=lock)
        if organization is None:
            raise OrganizationNotFoundError()
        return organization

    async def list_page(
        self, session: AsyncSession, filters: OrganizationFilters, page: PageParams
    ) -> tuple[list[Organization], int]:
        return await repository.list_page(session, filters, page)

    async def create_unchecked(self, session: AsyncSession, actor: Actor, payload: OrganizationCreate) -> Organization:
        """Create without a permission check: for registration, which creates the caller's own."""
        values = _column_values(payload, partial=False)
        organization = Organization(**values)
        session.add(organization)
        await session.flush()
        audit.record(session, actor, AuditAction.CREATE, RECORD_TYPE, organization.id, audit.snapshot(values))
        outbox.organization_changed(session, organization.id)
        return organization

    async def create(self, session: AsyncSession, principal: Principal, payload: OrganizationCreate) -> Organization:
        """Staff register organisations directly (e.g. surveyed institutes without accounts yet)."""
        if not principal.has(Permission.CREATE_ORGANIZATIONS):
            raise PermissionDeniedError("Only moderators create organisations directly; register instead.")
        return await self.create_unchecked(session, Actor(principal), payload)

    async def update(
        self,
        session: AsyncSession,
        principal: Principal,
        organization_id: uuid.UUID,
        payload: OrganizationUpdate,
    ) -> Organization:
        organization = await self.get(session, organization_id, lock=True)
        actor = await actor_for_organization(session, principal, organization_id)
        values = _column_values(payload, partial=True)
        kind = values.get("kind", organization.kind)
        services = values.get("services", organization.services)
        is_network = values.get("is_network", organization.is_network)
        if kind != OrganizationKind.INTERMEDIARY and (services or is_network):
            raise ServicesNotAllowedError.for_field(
                ["body", "services"],
                "services and is_network apply to intermediary organisations only",
                "value_error",
            )
        before = {key: getattr(organization, key) for key in values}
        for key, value in values.items():
            setattr(organization, key, value)
        changes = audit.diff(before, values)
        if (
            organization.verified
            and set(changes) & set(IDENTITY_FIELDS)
            and not principal.has(Permission.VERIFY_ORGANIZATIONS)
        ):
            changes |= audit.diff({"verified": True}, {"verified": False})
            organization.verified, organization.verified_at = False, None
        if changes:
            organization.updated_at = utcnow()
            audit.record(session, actor, AuditAction.UPDATE, RECORD_TYPE, organization.id, changes)
            outbox.organization_changed(session, organization.id)
        await session.flush()
        return organization

    async def set_verified(
        self,
        session: AsyncSession,
        principal: Principal,
        organization_id: uuid.UUID,
        verified: bool,
        if_match: str | None = None,
    ) -> Organization:
        """Verifying needs `If-Match` with the ETag of what the moderator read: the row is locked, and a
        rename committed since that read fails the check (412) instead of being verified unseen."""
        if not principal.has(Permission.VERIFY_ORGANIZATIONS):
            raise PermissionDeniedError("Only moderators verify organisations.")
        organization = await self.get(session, organization_id, lock=True)
        if verified:
            if if_match is None:
                raise VerificationPreconditionRequiredError(
                    "Send If-Match with the ETag of the organisation as you checked it."
                )
            candidates = {tag.strip().removeprefix("W/") for tag in if_match.split(",")}
            if "*" not in candidates and etag(organization) not in candidates:
                raise OrganizationChangedError("Read the organisation again and check it before verifying.")
        if organization.verified != verified:
            changes = audit.diff({"verified": organization.verified}, {"verified": verified})
            organization.verified = verified
            organization.verified_at = utcnow() if verified else None
            audit.record(session, Actor(principal), AuditAction.STATE, RECORD_TYPE, organization.id, changes)
            outbox.organization_changed(session, organization.id)
            await session.flush()
        return organization

    async def delete(
        self, session: AsyncSession, principal: Principal, storage: DocumentStorage, organization_id: uuid.UUID
    ) -> None:
        """Its documents (and its service requests') go with it; their files once the deletion is committed.
        The row is locked while its accounts are counted, so a change to it waits for the deletion to end."""
        if not principal.has(Permission.DELETE_ORGANIZATIONS):
            raise PermissionDeniedError("Only administrators delete organisations.")
        organization = await self.get(session, organization_id, lock=True)
        if await repository.count_accounts(session, organization_id):
            raise OrganizationInUseError("Deactivate or move its accounts first.")
        await remove_files_with(session, storage, organization)
        await session.delete(organization)
        outbox.organization_changed(session, organization_id)
        audit.record(session, Actor(principal), AuditAction.DELETE, RECORD_TYPE, organization_id)
        await session.flush()


organization_service = OrganizationService()
