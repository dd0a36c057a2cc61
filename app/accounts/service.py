"""Rules on accounts: registration, sign-in, token rotation, members, invitations, API keys."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts import repository
from app.accounts.authorization import require_org_admin, require_person
from app.accounts.exceptions import (
    AccountNotFoundError,
    ApiKeyNotFoundError,
    EmailTakenError,
    InvalidApiKeyError,
    InvalidCredentialsError,
    InvalidTokenError,
    InvitationNotFoundError,
    RefreshTokenReusedError,
)
from app.accounts.permissions import Permission, Principal, Role
from app.accounts.schemas import (
    ApiKeyCreate,
    InvitationCreate,
    MemberUpdate,
    PasswordChange,
    RegisterRequest,
    TokenPair,
)
from app.accounts.security import (
    create_access_token,
    decode_access_token,
    hash_password,
    hash_secret,
    new_api_key,
    new_opaque_token,
    password_needs_rehash,
    password_problems,
    secrets_match,
    split_api_key,
    verify_password,
)
from app.accounts.throttle import LoginThrottle
from app.audit import service as audit
from app.audit.service import Actor, AuditAction
from app.config import Settings
from app.errors import FieldError, InvalidInputError, PermissionDeniedError
from app.models import Account, ApiKey, Invitation, Organization, RefreshToken
from app.models.base import utcnow
from app.organizations import repository as organization_repository
from app.organizations.schemas import OrganizationCreate, OrganizationKind
from app.organizations.service import organization_service
from app.pagination import PageParams

INVITATION_DAYS = 7
# last_used_at is written at most this often, so reads with a key stay reads.
API_KEY_TOUCH_INTERVAL = timedelta(minutes=1)


class WeakPasswordError(InvalidInputError):
    code = "WeakPassword"
    title = "The password does not meet the password policy"


class BrokerRoleNotAllowedError(InvalidInputError):
    code = "BrokerRoleNotAllowed"
    title = "Only members of intermediary organisations can be brokers"


def _check_password(password: str, email: str, field: str) -> None:
    problems = password_problems(password, email)
    if problems:
        raise WeakPasswordError(
            f"The password {'; '.join(problems)}.",
            errors=[FieldError(loc=["body", field], msg=f"password {p}", type="password_policy") for p in problems],
        )


def _default_role(organization: Organization) -> Role:
    return Role.BROKER if organization.kind == OrganizationKind.INTERMEDIARY else Role.MEMBER


@dataclass(frozen=True)
class RegisteredAccount:
    account: Account
    organization: Organization
    tokens: TokenPair


class AccountService:
    # --- registration and sign-in -------------------------------------------------

    async def register(self, session: AsyncSession, settings: Settings, payload: RegisterRequest) -> RegisteredAccount:
        _check_password(payload.password, payload.email, "password")
        if await repository.get_by_email(session, payload.email) is not None:
            raise EmailTakenError()
        if payload.organization is not None:
            organization = await organization_service.create_unchecked(session, Actor.system(), payload.organization)
            role, is_org_admin = _default_role(organization), True
        else:
            assert payload.invitation_token is not None
            invitation = await self._open_invitation(session, payload.invitation_token, payload.email)
            organization = await organization_service.get(session, invitation.organization_id)
            role, is_org_admin = Role(invitation.role), invitation.is_org_admin
            invitation.accepted_at = utcnow()
        account = Account(
            organization_id=organization.id,
            email=payload.email,
            password_hash=hash_password(payload.password),
            full_name=payload.full_name,
            role=role.value,
            is_org_admin=is_org_admin,
            is_active=True,
        )
        session.add(account)
        await session.flush()
        actor = Actor(self._principal(account))
        audit.record(
            session,
            actor,
            AuditAction.CREATE,
            "account",
            account.id,
            audit.snapshot({"email": account.email, "role": account.role, "organization_id": organization.id}),
        )
        tokens = await self._issue_tokens(session, settings, account)
        return RegisteredAccount(account=account, organization=organization, tokens=tokens)

    async def create_account(
        self,
        session: AsyncSession,
        *,
        email: str,
        password: str,
        full_name: str,
        role: Role,
        organization: OrganizationCreate,
    ) -> Account:
        """Operator bootstrap (`techex create-account`): any role, into an organisation found by name."""
        email = email.strip().lower()
        _check_password(password, email, "password")
        if await repository.get_by_email(session, email) is not None:
            raise EmailTakenError()
        existing = await organization_repository.get_by_name(session, organization.name, organization.country)
        org = existing or await organization_service.create_unchecked(session, Actor.system(), organization)
        account = Account(
            organization_id=org.id,
            email=email,
            password_hash=hash_password(password),
            full_name=full_name,
            role=role.value,
            is_org_admin=True,
            is_active=True,
        )
        session.add(account)
        await session.flush()
        audit.record(
            session,
            Actor.system(),
            AuditAction.CREATE,
            "account",
            account.id,
            audit.snapshot({"email": email, "role": role.value, "organization_id": org.id}),
        )
        return account

    async def login(
        self,
        session: AsyncSession,
        settings: Settings,
        throttle: LoginThrottle,
        email: str,
        password: str,
        address: str,
    ) -> TokenPair:
        email = email.strip().lower()
        await throttle.check(email, address)
        account = await repository.get_by_email(session, email)
        valid = verify_password(account.password_hash if account else None, password)
        if account is None or not valid or not account.is_active:
            await throttle.record_failure(email, address)
            raise InvalidCredentialsError()
        await throttle.record_success(email, address)
        if password_needs_rehash(account.password_hash):
            account.password_hash = hash_password(password)
        account.last_login_at = utcnow()
        return await self._issue_tokens(session, settings, account)

    async def refresh(self, session: AsyncSession, settings: Settings, refresh_token: str) -> TokenPair:
        """Rotate: the presented token is spent and a new pair issued in the same family.

        A spent token presented again means it leaked; the whole family is revoked — except
        within the rotation leeway: the token spent last in its family, presented again within
        `refresh_reuse_leeway_seconds` of its use, gets another valid pair. That is two tabs
        (or a retry after a lost answer) refreshing at once, not a thief: a thief's copy comes
        later, or after the successor was itself used, and still revokes the family.
        """
        now = utcnow()
        stored = await repository.get_refresh_token(session, hash_secret(refresh_token))
        if stored is None or stored.revoked_at is not None or stored.expires_at <= now:
            raise InvalidTokenError()
        if stored.used_at is not None and not await self._within_leeway(session, settings, stored, now):
            await repository.revoke_refresh_family(session, stored.family_id, now)
            raise RefreshTokenReusedError("The refresh token was already used; sign in again.")
        account = await repository.get(session, stored.account_id)
        if account is None or not account.is_active:
            raise InvalidTokenError()
        if stored.used_at is None:
            stored.used_at = now  # a reuse within the leeway keeps the first use, so the window does not slide
        return await self._issue_tokens(session, settings, account, family_id=stored.family_id)

    @staticmethod
    async def _within_leeway(session: AsyncSession, settings: Settings, stored: RefreshToken, now: datetime) -> bool:
        """Whether a spent token is the family's last spent one, presented again within the leeway."""
        assert stored.used_at is not None
        if now - stored.used_at > timedelta(seconds=settings.refresh_reuse_leeway_seconds):
            return False
        return not await repository.refresh_used_since(session, stored.family_id, stored.used_at)

    async def logout(self, session: AsyncSession, refresh_token: str) -> None:
        stored = await repository.get_refresh_token(session, hash_secret(refresh_token))
        if stored is not None:
            await repository.revoke_refresh_family(session, stored.family_id, utcnow())

    async def change_password(self, session: AsyncSession, principal: Principal, payload: PasswordChange) -> None:
        """New password; every refresh token of the account is revoked (sign out everywhere)."""
        account = await self.me(session, principal)
        if not verify_password(account.password_hash, payload.current_password):
            raise InvalidInputError.for_field(
                ["body", "current_password"], "current password is wrong", "invalid_password"
            )
        _check_password(payload.new_password, account.email, "new_password")
        account.password_hash = hash_password(payload.new_password)
        await repository.revoke_refresh_tokens_of(session, account.id, utcnow())
        audit.record(
            session,
            Actor(principal),
            AuditAction.UPDATE,
            "account",
            account.id,
            {"password_hash": [audit.REDACTED, audit.REDACTED]},
        )

    async def _issue_tokens(
        self,
        session: AsyncSession,
        settings: Settings,
        account: Account,
        family_id: uuid.UUID | None = None,
    ) -> TokenPair:
        access_token, expires_in = create_access_token(
            account.id,
            account.organization_id,
            account.role,
            secret=settings.secret_key,
            minutes=settings.access_token_minutes,
        )
        refresh_token = new_opaque_token()
        lifetime = timedelta(days=settings.refresh_token_days)
        session.add(
            RefreshToken(
                account_id=account.id,
                family_id=family_id or uuid.uuid4(),
                token_hash=hash_secret(refresh_token),
                expires_at=utcnow() + lifetime,
            )
        )
        await session.flush()
        return TokenPair(
            access_token=access_token,
            expires_in=expires_in,
            refresh_token=refresh_token,
            refresh_expires_in=int(lifetime.total_seconds()),
        )

    # --- who is calling ------------------------------------------------------------

    @staticmethod
    def _principal(account: Account) -> Principal:
        return Principal(
            organization_id=account.organization_id,
            role=Role(account.role),
            account_id=account.id,
            is_org_admin=account.is_org_admin,
        )

    async def principal_from_access_token(self, session: AsyncSession, settings: Settings, token: str) -> Principal:
        claims = decode_access_token(token, secret=settings.secret_key)
        if claims is None:
            raise InvalidTokenError()
        account = await repository.get(session, claims.account_id)
        if account is None or not account.is_active:
            raise InvalidTokenError()
        return self._principal(account)

    async def principal_from_api_key(self, session: AsyncSession, plaintext: str) -> tuple[Principal, bool]:
        """The key's principal, and whether its use is due to be recorded (`record_api_key_use`).

        Only reads: the use is recorded at most once a minute, in a write of its own, so that
        requests with a key that only read stay reads."""
        parts = split_api_key(plaintext)
        if parts is None:
            raise InvalidApiKeyError()
        prefix, full_key = parts
        key = await repository.get_api_key_by_prefix(session, prefix)
        if key is None or key.revoked_at is not None or not secrets_match(full_key, key.key_hash):
            raise InvalidApiKeyError()
        use_due = key.last_used_at is None or utcnow() - key.last_used_at > API_KEY_TOUCH_INTERVAL
        return Principal(organization_id=key.organization_id, role=Role.MEMBER, api_key_id=key.id), use_due

    async def record_api_key_use(self, session: AsyncSession, principal: Principal) -> None:
        assert principal.api_key_id is not None
        key = await repository.get_api_key(session, principal.api_key_id)
        if key is not None:
            key.last_used_at = utcnow()

    async def me(self, session: AsyncSession, principal: Principal) -> Account:
        require_person(principal)
        assert principal.account_id is not None
        account = await repository.get(session, principal.account_id)
        if account is None:
            raise AccountNotFoundError()
        return account

    # --- members ---------------------------------------------------------------------

    async def list_members(
        self,
        session: AsyncSession,
        principal: Principal,
        organization_id: uuid.UUID,
        page: PageParams,
    ) -> tuple[list[Account], int]:
        """Members are visible to the organisation itself and to staff."""
        if principal.organization_id != organization_id and not principal.is_staff:
            raise PermissionDeniedError("Only the organisation and moderators see its members.")
        await organization_service.get(session, organization_id)
        return await repository.list_members(session, organization_id, page)

    async def update_member(
        self,
        session: AsyncSession,
        principal: Principal,
        organization_id: uuid.UUID,
        account_id: uuid.UUID,
        payload: MemberUpdate,
    ) -> Account:
        actor = require_org_admin(principal, organization_id)
        account = await repository.get(session, account_id)
        if account is None or account.organization_id != organization_id:
            raise AccountNotFoundError()
        organization = await organization_service.get(session, organization_id)
        values = payload.model_dump(mode="json", exclude_unset=True, exclude_none=True)
        if values.get("role") == Role.BROKER and organization.kind != OrganizationKind.INTERMEDIARY:
            raise BrokerRoleNotAllowedError(
                errors=[
                    FieldError(
                        loc=["body", "role"],
                        msg=BrokerRoleNotAllowedError.title,
                        type="value_error",
                    )
                ]
            )
        if Role(account.role) in (Role.MODERATOR, Role.ADMIN) and "role" in values:
            raise PermissionDeniedError("Platform roles are changed by platform administrators.")
        before = {key: getattr(account, key) for key in values}
        for key, value in values.items():
            setattr(account, key, value)
        if values.get("is_active") is False:
            await repository.revoke_refresh_tokens_of(session, account.id, utcnow())
        changes = audit.diff(before, values)
        if changes:
            audit.record(session, actor, AuditAction.UPDATE, "account", account.id, changes)
        await session.flush()
        return account

    async def set_role(self, session: AsyncSession, principal: Principal, account_id: uuid.UUID, role: Role) -> Account:
        if not principal.has(Permission.MANAGE_ROLES):
            raise PermissionDeniedError("Only platform administrators change platform roles.")
        account = await repository.get(session, account_id)
        if account is None:
            raise AccountNotFoundError()
        if account.role != role.value:
            changes = audit.diff({"role": account.role}, {"role": role.value})
            account.role = role.value
            audit.record(session, Actor(principal), AuditAction.UPDATE, "account", account.id, changes)
            await session.flush()
        return account

    # --- invitations -------------------------------------------------------------------

    async def invite(
        self,
        session: AsyncSession,
        principal: Principal,
        organization_id: uuid.UUID,
        payload: InvitationCreate,
    ) -> tuple[Invitation, str]:
        actor = require_org_admin(principal, organization_id)
        organization = await organization_service.get(session, organization_id)
        if payload.role == Role.BROKER and organization.kind != OrganizationKind.INTERMEDIARY:
            raise BrokerRoleNotAllowedError(
                errors=[
                    FieldError(
                        loc=["body", "role"],
                        msg=BrokerRoleNotAllowedError.title,
                        type="value_error",
                    )
                ]
            )
        if await repository.get_by_email(session, payload.email) is not None:
            raise EmailTakenError()
        token = new_opaque_token()
        invitation = Invitation(
            organization_id=organization_id,
            email=payload.email,
            role=payload.role.value,
            is_org_admin=payload.is_org_admin,
            token_hash=hash_secret(token),
            invited_by_account_id=principal.account_id,
            expires_at=utcnow() + timedelta(days=INVITATION_DAYS),
        )
        session.add(invitation)
        await session.flush()
        audit.record(
            session,
            actor,
            AuditAction.CREATE,
            "invitation",
            invitation.id,
            audit.snapshot(
                {
                    "email": payload.email,
                    "role": payload.role.value,
                    "organization_id": organization_id,
                }
            ),
        )
        return invitation, token

    async def _open_invitation(self, session: AsyncSession, token: str, email: str) -> Invitation:
        invitation = await repository.get_invitation_by_token(session, hash_secret(token))
        if (
            invitation is None
            or invitation.accepted_at is not None
            or invitation.revoked_at is not None
            or invitation.expires_at <= utcnow()
            or invitation.email != email
        ):
            raise InvitationNotFoundError()
        return invitation

    async def list_invitations(
        self,
        session: AsyncSession,
        principal: Principal,
        organization_id: uuid.UUID,
        page: PageParams,
    ) -> tuple[list[Invitation], int]:
        require_org_admin(principal, organization_id)
        return await repository.list_invitations(session, organization_id, page)

    async def revoke_invitation(
        self,
        session: AsyncSession,
        principal: Principal,
        organization_id: uuid.UUID,
        invitation_id: uuid.UUID,
    ) -> None:
        actor = require_org_admin(principal, organization_id)
        invitation = await repository.get_invitation(session, invitation_id)
        if invitation is None or invitation.organization_id != organization_id:
            raise InvitationNotFoundError()
        if invitation.revoked_at is None and invitation.accepted_at is None:
            invitation.revoked_at = utcnow()
            audit.record(
                session,
                actor,
                AuditAction.STATE,
                "invitation",
                invitation.id,
                {"revoked": [False, True]},
            )

    # --- API keys ------------------------------------------------------------------------

    async def create_api_key(
        self,
        session: AsyncSession,
        principal: Principal,
        organization_id: uuid.UUID,
        payload: ApiKeyCreate,
    ) -> tuple[ApiKey, str]:
        actor = require_org_admin(principal, organization_id)
        await organization_service.get(session, organization_id)
        generated = new_api_key()
        key = ApiKey(
            organization_id=organization_id,
            created_by_account_id=principal.account_id,
            name=payload.name,
            prefix=generated.prefix,
            key_hash=hash_secret(generated.plaintext),
        )
        session.add(key)
        await session.flush()
        audit.record(
            session,
            actor,
            AuditAction.CREATE,
            "api_key",
            key.id,
            audit.snapshot({"name": key.name}),
        )
        return key, generated.plaintext

    async def list_api_keys(
        self,
        session: AsyncSession,
        principal: Principal,
        organization_id: uuid.UUID,
        page: PageParams,
    ) -> tuple[list[ApiKey], int]:
        require_org_admin(principal, organization_id)
        return await repository.list_api_keys(session, organization_id, page)

    async def revoke_api_key(
        self,
        session: AsyncSession,
        principal: Principal,
        organization_id: uuid.UUID,
        api_key_id: uuid.UUID,
    ) -> None:
        actor = require_org_admin(principal, organization_id)
        key = await repository.get_api_key(session, api_key_id)
        if key is None or key.organization_id != organization_id:
            raise ApiKeyNotFoundError()
        if key.revoked_at is None:
            key.revoked_at = utcnow()
            audit.record(session, actor, AuditAction.STATE, "api_key", key.id, {"revoked": [False, True]})


account_service = AccountService()
