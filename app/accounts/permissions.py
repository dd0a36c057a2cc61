"""Roles, permissions and the principal a request acts as.

Deny by default: a permission not listed for a role is refused. Record-level
rules (own organisation, broker mandate) live in `authorization.py`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    MEMBER = "member"
    BROKER = "broker"
    MODERATOR = "moderator"
    ADMIN = "admin"


class Permission(StrEnum):
    ACT_UNDER_MANDATE = "mandates:act"
    VERIFY_ORGANIZATIONS = "organizations:verify"
    CREATE_ORGANIZATIONS = "organizations:create"
    DELETE_ORGANIZATIONS = "organizations:delete"
    MODERATE_RECORDS = "records:moderate"
    READ_AUDIT = "audit:read"
    MANAGE_ROLES = "accounts:roles"


_STAFF = {
    Permission.VERIFY_ORGANIZATIONS,
    Permission.CREATE_ORGANIZATIONS,
    Permission.MODERATE_RECORDS,
    Permission.READ_AUDIT,
}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.MEMBER: frozenset(),
    Role.BROKER: frozenset({Permission.ACT_UNDER_MANDATE}),
    Role.MODERATOR: frozenset(_STAFF),
    Role.ADMIN: frozenset(_STAFF | {Permission.DELETE_ORGANIZATIONS, Permission.MANAGE_ROLES}),
}


@dataclass(frozen=True)
class Principal:
    """Who is calling: an account (signed in with a token) or an organisation's API key."""

    organization_id: uuid.UUID
    role: Role
    account_id: uuid.UUID | None = None
    is_org_admin: bool = False
    api_key_id: uuid.UUID | None = None

    def has(self, permission: Permission) -> bool:
        return permission in ROLE_PERMISSIONS[self.role]

    @property
    def is_staff(self) -> bool:
        return self.has(Permission.MODERATE_RECORDS)

    @property
    def is_person(self) -> bool:
        return self.account_id is not None and self.api_key_id is None
