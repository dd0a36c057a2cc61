"""Rules on mandates: a client grants, either side may end it, brokers act under it."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.authorization import NotYourOrganizationError, require_person
from app.accounts.permissions import Principal
from app.audit import service as audit
from app.audit.service import Actor, AuditAction
from app.errors import InvalidInputError, NotFoundError
from app.mandates import repository
from app.mandates.schemas import MandateCreate, MandateRead
from app.models import Mandate
from app.models.base import utcnow
from app.organizations.schemas import OrganizationKind
from app.organizations.service import organization_service
from app.pagination import PageParams

RECORD_TYPE = "mandate"


class MandateNotFoundError(NotFoundError):
    code = "MandateNotFound"
    title = "Mandate not found"


class NotAnIntermediaryError(InvalidInputError):
    code = "NotAnIntermediary"
    title = "Mandates are granted to intermediary organisations"


def to_read(mandate: Mandate) -> MandateRead:
    now = utcnow()
    active = mandate.revoked_at is None and (mandate.valid_until is None or mandate.valid_until > now)
    return MandateRead(
        id=mandate.id,
        client_organization_id=mandate.client_organization_id,
        broker_organization_id=mandate.broker_organization_id,
        granted_by_account_id=mandate.granted_by_account_id,
        note=mandate.note,
        created_at=mandate.created_at,
        valid_until=mandate.valid_until,
        revoked_at=mandate.revoked_at,
        active=active,
    )


class MandateService:
    async def grant(self, session: AsyncSession, principal: Principal, payload: MandateCreate) -> Mandate:
        """Only the client organisation itself grants a mandate (not a broker, not an API key)."""
        require_person(principal)
        client_id = payload.client_organization_id or principal.organization_id
        if client_id != principal.organization_id:
            raise NotYourOrganizationError("A mandate is granted by the client organisation itself.")
        await organization_service.get(session, client_id)
        broker = await organization_service.get(session, payload.broker_organization_id)
        if broker.kind != OrganizationKind.INTERMEDIARY or broker.id == client_id:
            raise NotAnIntermediaryError.for_field(
                ["body", "broker_organization_id"],
                "the broker must be another organisation of kind intermediary",
                "value_error",
            )
        if payload.valid_until is not None and payload.valid_until <= utcnow():
            raise InvalidInputError.for_field(["body", "valid_until"], "must be in the future", "value_error")
        mandate = Mandate(
            client_organization_id=client_id,
            broker_organization_id=broker.id,
            granted_by_account_id=principal.account_id,
            note=payload.note,
            valid_until=payload.valid_until,
        )
        session.add(mandate)
        await session.flush()
        audit.record(
            session,
            Actor(principal),
            AuditAction.CREATE,
            RECORD_TYPE,
            mandate.id,
            audit.snapshot(
                {
                    "client_organization_id": client_id,
                    "broker_organization_id": broker.id,
                    "valid_until": payload.valid_until,
                }
            ),
        )
        return mandate

    async def list_page(
        self, session: AsyncSession, principal: Principal, page: PageParams
    ) -> tuple[list[Mandate], int]:
        """The caller's organisation's mandates, given or received; staff see all."""
        return await repository.list_for_organization(
            session, None if principal.is_staff else principal.organization_id, page
        )

    async def get(
        self, session: AsyncSession, principal: Principal, mandate_id: uuid.UUID, *, lock: bool = False
    ) -> Mandate:
        mandate = await repository.get(session, mandate_id, lock=lock)
        parties = (mandate.client_organization_id, mandate.broker_organization_id) if mandate else ()
        if mandate is None or (principal.organization_id not in parties and not principal.is_staff):
            raise MandateNotFoundError()  # a stranger learns nothing, not even that it exists
        return mandate

    async def revoke(self, session: AsyncSession, principal: Principal, mandate_id: uuid.UUID) -> Mandate:
        """Either party (or staff) ends a mandate; it cannot be revived, only granted anew."""
        require_person(principal)
        mandate = await self.get(session, principal, mandate_id, lock=True)
        if mandate.revoked_at is None:
            mandate.revoked_at = utcnow()
            audit.record(
                session,
                Actor(principal),
                AuditAction.STATE,
                RECORD_TYPE,
                mandate.id,
                {"revoked": [False, True]},
            )
            await session.flush()
        return mandate


mandate_service = MandateService()
