"""The accounts API contract: registration, tokens, members, invitations, API keys."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    model_validator,
)

from app.accounts.permissions import Role
from app.organizations.schemas import OrganizationCreate, OrganizationRead
from app.schema_base import InputModel, RequestModel, ResponseModel


def normalize_email(value: str) -> str:
    """Emails compare case-insensitively here: one account per address, whatever its case."""
    return value.strip().lower()


Email = Annotated[EmailStr, AfterValidator(normalize_email)]
Password = Annotated[str, Field(min_length=1, max_length=1024, description="See the password policy.")]
FullName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class RegisterRequest(RequestModel):
    """Either `organization` (a new organisation) or `invitation_token` (join an existing one)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "email": "an.nguyen@rimf.example.vn",
                    "password": "nuoc-sach-cho-nong-thon-2026",
                    "full_name": "Nguyễn Văn An",
                    "organization": {
                        "name": "Viện Nghiên cứu Hải sản",
                        "kind": "institute",
                        "country": "VN",
                        "province": "Hải Phòng",
                    },
                }
            ]
        }
    )

    email: Email
    password: Password
    full_name: FullName
    organization: OrganizationCreate | None = None
    invitation_token: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None

    @model_validator(mode="after")
    def _one_way_in(self) -> Self:
        if (self.organization is None) == (self.invitation_token is None):
            raise ValueError("give exactly one of organization or invitation_token")
        return self


class TokenRequest(InputModel):
    """The OAuth2 password grant (RFC 6749 §4.3), sent as a form; other form fields are ignored."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"username": "an.nguyen@rimf.example.vn", "password": "nuoc-sach-cho-nong-thon-2026"}]
        }
    )

    grant_type: Literal["password"] | None = Field(default=None, description="`password` when sent.")
    username: str = Field(description="The account's email.")
    password: str
    scope: str = Field(default="", description="Unused: an account's roles decide what it may do.")
    client_id: str | None = None
    client_secret: str | None = None


class TokenPair(ResponseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "access_token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIuLi4ifQ.c2lnbmF0dXJl",
                    "token_type": "bearer",
                    "expires_in": 900,
                    "refresh_token": "Vh2m7bq2S9tT0a1cZ4nYk3xQe8fJr6pLw5uDg0sHcA",
                    "refresh_expires_in": 2592000,
                }
            ]
        }
    )

    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105
    expires_in: int = Field(description="Seconds until the access token expires.")
    refresh_token: str = Field(description="Single use: each refresh returns a new one.")
    refresh_expires_in: int


class RefreshRequest(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"refresh_token": "Vh2m7bq2S9tT0a1cZ4nYk3xQe8fJr6pLw5uDg0sHcA"}]}
    )

    refresh_token: Annotated[str, StringConstraints(min_length=1, max_length=200)]


_ACCOUNT_EXAMPLE: dict[str, Any] = {
    "id": "6a1c0f4e-2b7d-4c36-9f58-1d2e3f4a5b6c",
    "organization_id": "0b7d3f38-4f53-4c9f-9d2e-4f1f0f6b8c11",
    "email": "an.nguyen@rimf.example.vn",
    "full_name": "Nguyễn Văn An",
    "role": "member",
    "is_org_admin": True,
    "is_active": True,
    "created_at": "2026-11-19T02:00:00Z",
    "last_login_at": "2026-11-23T01:15:00Z",
}


class AccountRead(ResponseModel):
    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [_ACCOUNT_EXAMPLE]})

    id: uuid.UUID
    organization_id: uuid.UUID
    email: str
    full_name: str
    role: Role
    is_org_admin: bool
    is_active: bool
    created_at: datetime
    last_login_at: datetime | None


class Registration(ResponseModel):
    account: AccountRead
    organization: OrganizationRead
    tokens: TokenPair


class Me(ResponseModel):
    account: AccountRead
    organization: OrganizationRead


class PasswordChange(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "current_password": "nuoc-sach-cho-nong-thon-2026",
                    "new_password": "loc-asen-bang-mangan-2027",
                }
            ]
        }
    )

    current_password: Password
    new_password: Password


class MemberUpdate(RequestModel):
    """An organisation admin's changes to a member."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"is_org_admin": True}]})

    role: Literal[Role.MEMBER, Role.BROKER] | None = Field(
        default=None, description="`broker` only in intermediary organisations."
    )
    is_org_admin: bool | None = None
    is_active: bool | None = Field(default=None, description="False removes the member's access.")


class RoleUpdate(RequestModel):
    """A platform admin's change of an account's platform role."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"role": "moderator"}]})

    role: Role


class InvitationCreate(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"email": "binh.tran@rimf.example.vn", "role": "member", "is_org_admin": False}]
        }
    )

    email: Email
    role: Literal[Role.MEMBER, Role.BROKER] = Role.MEMBER
    is_org_admin: bool = False


class InvitationRead(ResponseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "2f9e8d7c-6b5a-4f3e-8d2c-1b0a9f8e7d6c",
                    "organization_id": "0b7d3f38-4f53-4c9f-9d2e-4f1f0f6b8c11",
                    "email": "binh.tran@rimf.example.vn",
                    "role": "member",
                    "is_org_admin": False,
                    "created_at": "2026-11-23T01:20:00Z",
                    "expires_at": "2026-11-30T01:20:00Z",
                    "accepted_at": None,
                    "revoked_at": None,
                }
            ]
        },
    )

    id: uuid.UUID
    organization_id: uuid.UUID
    email: str
    role: Role
    is_org_admin: bool
    created_at: datetime
    expires_at: datetime
    accepted_at: datetime | None
    revoked_at: datetime | None


class InvitationCreated(InvitationRead):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "2f9e8d7c-6b5a-4f3e-8d2c-1b0a9f8e7d6c",
                    "organization_id": "0b7d3f38-4f53-4c9f-9d2e-4f1f0f6b8c11",
                    "email": "binh.tran@rimf.example.vn",
                    "role": "member",
                    "is_org_admin": False,
                    "created_at": "2026-11-23T01:20:00Z",
                    "expires_at": "2026-11-30T01:20:00Z",
                    "accepted_at": None,
                    "revoked_at": None,
                    "token": "q8Zr3mT1vB6yN0cK5hW2pL9sD4fG7jXa",
                }
            ]
        }
    )

    token: str = Field(description="Shown once: send it to the invitee, who registers with it.")


class ApiKeyCreate(RequestModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"name": "ERP integration"}]})

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class ApiKeyRead(ResponseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a",
                    "organization_id": "0b7d3f38-4f53-4c9f-9d2e-4f1f0f6b8c11",
                    "name": "ERP integration",
                    "prefix": "3fa94c1b7e20",
                    "created_at": "2026-11-23T01:30:00Z",
                    "last_used_at": None,
                    "revoked_at": None,
                }
            ]
        },
    )

    id: uuid.UUID
    organization_id: uuid.UUID
    name: str
    prefix: str = Field(description="Public part of the key, to tell keys apart.")
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyRead):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a",
                    "organization_id": "0b7d3f38-4f53-4c9f-9d2e-4f1f0f6b8c11",
                    "name": "ERP integration",
                    "prefix": "3fa94c1b7e20",
                    "created_at": "2026-11-23T01:30:00Z",
                    "last_used_at": None,
                    "revoked_at": None,
                    "key": "3fa94c1b7e20.Xk2v9QeR4tYb7NmP1sLw8CzH5dJg0FaU",
                }
            ]
        }
    )

    key: str = Field(description="Shown once; send it as the `X-API-Key` header.")
