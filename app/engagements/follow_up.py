"""Follow-up after transfer (theo dõi sau chuyển giao): milestones and check-ins of a signed deal.

A deal gets its plan when it is signed: four milestones (delivery, installation, training, acceptance)
whose dates the parties set, and check-ins 3, 6 and 12 months after signature where each party reports
how the technology fares and what it brought. A check-in a party has not reported on `GRACE_DAYS`
after its due date is overdue: the periodic sweep tells the deal's broker once (the parties yet to
report when the deal has no broker).
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.authorization import actor_for_organization
from app.accounts.permissions import Principal
from app.audit import service as audit
from app.audit.service import AuditAction
from app.deals.service import deal_service
from app.engagements import repository
from app.engagements.schemas import (
    CheckInRead,
    CheckInReportRead,
    CheckInReportWrite,
    FollowUpRead,
    MilestoneKind,
    MilestoneRead,
    MilestoneWrite,
    Side,
)
from app.engagements.service import service_request_service
from app.errors import InvalidInputError, NotFoundError
from app.listings.exceptions import InvalidTransitionError
from app.models import CheckInReport, Deal, DealCheckIn, Notification
from app.models.base import utcnow

OPENS_DAYS_BEFORE = 30
GRACE_DAYS = 14
CHECK_IN_OVERDUE = "check_in_overdue"
RECORD_TYPE = "deal_follow_up"


class CheckInNotFoundError(NotFoundError):
    code = "CheckInNotFound"
    title = "No check-in at this month of the deal"


class FollowUpService:
    async def get(self, session: AsyncSession, principal: Principal, deal_id: uuid.UUID) -> FollowUpRead:
        deal, _actor = await deal_service.get(session, principal, deal_id)
        return await self._read(session, deal)

    async def set_milestone(
        self,
        session: AsyncSession,
        principal: Principal,
        deal_id: uuid.UUID,
        kind: MilestoneKind,
        payload: MilestoneWrite,
    ) -> FollowUpRead:
        """Either party (or its mandated broker, or a moderator) sets a milestone's dates and note."""
        deal, actor = await deal_service.get(session, principal, deal_id)
        milestone = next((m for m in await repository.milestones(session, deal.id) if m.kind == kind.value), None)
        if milestone is None:
            raise InvalidTransitionError("The deal is not signed yet: it has no milestones.")
        if payload.done_on is not None and payload.done_on > utcnow().date():
            raise InvalidInputError.for_field(["body", "done_on"], "cannot be in the future", "value_error")
        before = {"due_on": milestone.due_on, "done_on": milestone.done_on, "note": milestone.note}
        after = {"due_on": payload.due_on, "done_on": payload.done_on, "note": payload.note}
        milestone.due_on, milestone.done_on, milestone.note = payload.due_on, payload.done_on, payload.note
        changes = audit.diff(
            {f"{kind.value}.{k}": v for k, v in before.items()}, {f"{kind.value}.{k}": v for k, v in after.items()}
        )
        if changes:
            audit.record(session, actor or audit.Actor(principal), AuditAction.UPDATE, RECORD_TYPE, deal.id, changes)
        await session.flush()
        return await self._read(session, deal)

    async def report(
        self,
        session: AsyncSession,
        principal: Principal,
        deal_id: uuid.UUID,
        month: int,
        side: Side,
        payload: CheckInReportWrite,
    ) -> FollowUpRead:
        """A party (itself, through its mandated broker, or a moderator) reports at a check-in; a second
        report of the same side replaces the first."""
        deal, _ = await deal_service.get(session, principal, deal_id)
        organization_id = deal.supplier_organization_id if side is Side.SUPPLIER else deal.buyer_organization_id
        actor = await actor_for_organization(session, principal, organization_id)
        check_in = next((c for c in await repository.check_ins(session, deal.id) if c.month == month), None)
        if check_in is None:
            if not await repository.check_ins(session, deal.id):
                raise InvalidTransitionError("The deal is not signed yet: it has no check-ins.")
            raise CheckInNotFoundError()
        opens_on = check_in.due_on - timedelta(days=OPENS_DAYS_BEFORE)
        if utcnow().date() < opens_on:
            raise InvalidTransitionError(f"The {month}-month check-in opens on {opens_on.isoformat()}.")
        existing = [r for r in await repository.reports(session, [check_in.id]) if r.side == side.value]
        report = existing[0] if existing else CheckInReport(check_in_id=check_in.id, side=side.value)
        previous = report.status if existing else None
        report.organization_id = organization_id
        report.account_id = principal.account_id
        report.status = payload.status.value
        report.jobs = payload.jobs
        report.revenue = payload.revenue
        report.cost_saved = payload.cost_saved
        report.currency = payload.currency
        report.note = payload.note
        report.reported_at = utcnow()
        session.add(report)
        audit.record(
            session,
            actor,
            AuditAction.UPDATE,
            RECORD_TYPE,
            deal.id,
            {f"check_in_{month}.{side.value}": [previous, payload.status.value]},
        )
        await session.flush()
        return await self._read(session, deal)

    async def _read(self, session: AsyncSession, deal: Deal) -> FollowUpRead:
        today = utcnow().date()
        milestones = await repository.milestones(session, deal.id)
        check_ins = await repository.check_ins(session, deal.id)
        reports = await repository.reports(session, [c.id for c in check_ins])
        by_check_in: dict[tuple[uuid.UUID, str], CheckInReport] = {(r.check_in_id, r.side): r for r in reports}

        def report_of(check_in: DealCheckIn, side: Side) -> CheckInReportRead | None:
            found = by_check_in.get((check_in.id, side.value))
            return CheckInReportRead.model_validate(found) if found else None

        return FollowUpRead(
            deal_id=deal.id,
            signed_on=deal.signed_on,
            milestones=[
                MilestoneRead(
                    kind=MilestoneKind(m.kind),
                    due_on=m.due_on,
                    done_on=m.done_on,
                    note=m.note,
                    overdue=m.due_on is not None and m.done_on is None and m.due_on < today,
                )
                for m in milestones
            ],
            check_ins=[
                CheckInRead(
                    month=c.month,
                    due_on=c.due_on,
                    opens_on=c.due_on - timedelta(days=OPENS_DAYS_BEFORE),
                    overdue=is_overdue(c.due_on, today) and any((c.id, side.value) not in by_check_in for side in Side),
                    supplier=report_of(c, Side.SUPPLIER),
                    buyer=report_of(c, Side.BUYER),
                )
                for c in check_ins
            ],
        )

    async def notify_overdue(self, session: AsyncSession) -> int:
        """Periodic: tell the broker (or, without one, the silent parties) of each newly overdue check-in."""
        today = utcnow().date()
        notified = 0
        for check_in, deal, reported_sides in await repository.overdue_check_ins(
            session, today - timedelta(days=GRACE_DAYS)
        ):
            missing = [s for s in Side if s.value not in reported_sides]
            if deal.broker_organization_id is not None:
                recipients = [deal.broker_organization_id]
            else:
                recipients = [getattr(deal, f"{s.value}_organization_id") for s in missing]
            for organization_id in recipients:
                session.add(
                    Notification(
                        organization_id=organization_id,
                        kind=CHECK_IN_OVERDUE,
                        payload={
                            "deal_id": str(deal.id),
                            "reference": deal.reference,
                            "title": deal.title,
                            "month": check_in.month,
                            "due_on": check_in.due_on.isoformat(),
                            "missing_sides": [s.value for s in missing],
                        },
                    )
                )
            check_in.overdue_notified_at = utcnow()
            notified += 1
        await session.flush()
        return notified


def is_overdue(due_on: date, today: date) -> bool:
    return today > due_on + timedelta(days=GRACE_DAYS)


follow_up_service = FollowUpService()


async def sweep(session: AsyncSession) -> int:
    """The periodic job of this part: service requests past their quote deadline expire, and newly
    overdue check-ins are notified."""
    return await service_request_service.expire_due(session) + await follow_up_service.notify_overdue(session)
