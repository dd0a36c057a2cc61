"""Platform administration of accounts."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from app.accounts.schemas import AccountRead, RoleUpdate
from app.accounts.service import account_service
from app.api.deps import CurrentPrincipal, SessionDep
from app.api.idempotency import ExchangeRoute
from app.errors import problem_responses

router = APIRouter(prefix="/accounts", tags=["accounts"], route_class=ExchangeRoute)


@router.put(
    "/{account_id}/role",
    summary="Set a platform role",
    response_model=AccountRead,
    responses=problem_responses(401, 403, 404, 422),
)
async def set_account_role(
    account_id: uuid.UUID, payload: RoleUpdate, principal: CurrentPrincipal, session: SessionDep
) -> AccountRead:
    """Platform administrators make an account a member, broker, moderator or admin."""
    return AccountRead.model_validate(await account_service.set_role(session, principal, account_id, payload.role))
