"""Queries on accounts and their credentials."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Account, ApiKey, Invitation, RefreshToken
from app.pagination import PageParams, paginate


async def get(session: AsyncSession, account_id: uuid.UUID) -> Account | None:
    return await session.get(Account, account_id)


async def get_by_email(session: AsyncSession, email: str) -> Account | None:
    return (await session.scalars(select(Account).where(Account.email == email))).first()


async def list_members(
    session: AsyncSession, organization_id: uuid.UUID, page: PageParams
) -> tuple[list[Account], int]:
    statement = (
        select(Account).where(Account.organization_id == organization_id).order_by(Account.created_at, Account.id)
    )
    return await paginate(session, statement, page)


async def get_refresh_token(session: AsyncSession, token_hash: str) -> RefreshToken | None:
    statement = select(RefreshToken).where(RefreshToken.token_hash == token_hash)
    return (await session.scalars(statement)).first()


async def refresh_used_since(session: AsyncSession, family_id: uuid.UUID, since: datetime) -> bool:
    """Whether a token of the family was spent after `since`."""
    statement = select(RefreshToken.id).where(RefreshToken.family_id == family_id, RefreshToken.used_at > since)
    return (await session.scalars(statement.limit(1))).first() is not None


async def revoke_refresh_family(session: AsyncSession, family_id: uuid.UUID, now: datetime) -> None:
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


async def revoke_refresh_tokens_of(session: AsyncSession, account_id: uuid.UUID, now: datetime) -> None:
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.account_id == account_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


async def get_api_key_by_prefix(session: AsyncSession, prefix: str) -> ApiKey | None:
    return (await session.scalars(select(ApiKey).where(ApiKey.prefix == prefix))).first()


async def get_api_key(session: AsyncSession, api_key_id: uuid.UUID) -> ApiKey | None:
    return await session.get(ApiKey, api_key_id)


async def list_api_keys(
    session: AsyncSession, organization_id: uuid.UUID, page: PageParams
) -> tuple[list[ApiKey], int]:
    statement = (
        select(ApiKey).where(ApiKey.organization_id == organization_id).order_by(ApiKey.created_at.desc(), ApiKey.id)
    )
    return await paginate(session, statement, page)


async def get_invitation(session: AsyncSession, invitation_id: uuid.UUID) -> Invitation | None:
    return await session.get(Invitation, invitation_id)


async def get_invitation_by_token(session: AsyncSession, token_hash: str) -> Invitation | None:
    return (await session.scalars(select(Invitation).where(Invitation.token_hash == token_hash))).first()


async def list_invitations(
    session: AsyncSession, organization_id: uuid.UUID, page: PageParams
) -> tuple[list[Invitation], int]:
    statement = (
        select(Invitation)
        .where(Invitation.organization_id == organization_id)
        .order_by(Invitation.created_at.desc(), Invitation.id)
    )
    return await paginate(session, statement, page)
