"""Follow-up after transfer: a signed deal's milestones and its check-ins at 3, 6 and 12 months."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path

from app.accounts.authorization import NotYourOrganizationError
from app.api.deps import CurrentPrincipal, SessionDep
from app.api.idempotency import ExchangeRoute
from app.api.openapi import declare_problems
from app.engagements.follow_up import CheckInNotFoundError, follow_up_service
from app.engagements.schemas import CheckInReportWrite, FollowUpRead, MilestoneKind, MilestoneWrite, Side
from app.errors import InvalidInputError, problem_responses
from app.listings.exceptions import InvalidTransitionError

router = APIRouter(prefix="/deals/{deal_id}", tags=["follow-up"], route_class=ExchangeRoute)
WRITE_ERRORS = problem_responses(401, 403, 404, 409, 422)


@router.get(
    "/follow-up",
    summary="Follow-up of a deal",
    response_model=FollowUpRead,
    responses=problem_responses(401, 404, 422),
)
async def get_follow_up(deal_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep) -> FollowUpRead:
    """Milestones and check-ins with both parties' reports, for those who see the deal."""
    return await follow_up_service.get(session, principal, deal_id)


@router.put(
    "/milestones/{kind}",
    summary="Set a milestone",
    response_model=FollowUpRead,
    responses=WRITE_ERRORS,
)
async def set_milestone(
    deal_id: uuid.UUID,
    kind: MilestoneKind,
    payload: MilestoneWrite,
    principal: CurrentPrincipal,
    session: SessionDep,
) -> FollowUpRead:
    """A party (or its mandated broker, or a moderator) sets the milestone's due date, completion date and note."""
    return await follow_up_service.set_milestone(session, principal, deal_id, kind, payload)


@router.put(
    "/check-ins/{month}/{side}",
    summary="Report at a check-in",
    response_model=FollowUpRead,
    responses=WRITE_ERRORS,
)
async def report_check_in(
    deal_id: uuid.UUID,
    month: Annotated[int, Path(ge=1, le=120, description="Months after signature: 3, 6 or 12.")],
    side: Side,
    payload: CheckInReportWrite,
    principal: CurrentPrincipal,
    session: SessionDep,
) -> FollowUpRead:
    """The supplier or the buyer (itself, its mandated broker or a moderator) reports how the technology fares
    and what it brought; from 30 days before the due date; a new report replaces the side's last."""
    return await follow_up_service.report(session, principal, deal_id, month, side, payload)


declare_problems(
    router,
    {
        "get_follow_up": [NotYourOrganizationError],
        "set_milestone": [NotYourOrganizationError, InvalidTransitionError, InvalidInputError],
        "report_check_in": [NotYourOrganizationError, InvalidTransitionError, CheckInNotFoundError],
    },
)
