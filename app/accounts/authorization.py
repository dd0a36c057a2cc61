"""Record-level authorisation: may this principal change what belongs to that organisation?

The one rule every domain uses: members of the owning organisation may; a
moderator or admin may; a broker may only under an active mandate the owner
granted to the broker's organisation. Everyone else is refused.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.exceptions import AccountRequiredError, OrgAdminRequiredError
from app.accounts.permissions import Permission, Principal
from app.audit.service import Actor
from app.errors import PermissionDeniedError
from app.mandates import repository as mandates
from app.models.base import utcnow


class NotYourOrganizationError(PermissionDeniedError):
    code = "NotYourOrganization"
    title = "Only the organisation, its mandated broker or a moderator may do this"


async def actor_for_organization(session: AsyncSession, principal: Principal, organization_id: uuid.UUID) -> Actor:
    """The actor that may change records of `organization_id`, or PermissionDenied."""
    if principal.organization_id == organization_id or principal.is_staff:
        return Actor(principal)
    if principal.has(Permission.ACT_UNDER_MANDATE):
        mandate = await mandates.find_active(session, organization_id, principal.organization_id, utcnow())
        if mandate is not None:
            return Actor(principal, via_mandate_id=mandate.id)
    raise NotYourOrganizationError()


def require_person(principal: Principal) -> None:
    """Some acts (managing keys, members) need a signed-in person, not an integration."""
    if not principal.is_person:
        raise AccountRequiredError()


def require_org_admin(principal: Principal, organization_id: uuid.UUID) -> Actor:
    """Administrators of the organisation (and platform admins) manage its people and keys."""
    require_person(principal)
    if principal.has(Permission.MANAGE_ROLES):
        return Actor(principal)
    if principal.organization_id != organization_id:
        raise NotYourOrganizationError()
    if not principal.is_org_admin:
        raise OrgAdminRequiredError()
    return Actor(principal)
