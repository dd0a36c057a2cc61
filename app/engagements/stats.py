"""Statistics of intermediary services and of the follow-up after transfer, for a period.

Requests count in the period they were made; deliveries (and the days from acceptance to delivery) in the
period they were delivered; a deal counts when it is confirmed and signed in the period, and has a service
when a request not cancelled or expired is attached to it; check-ins count in the period they fall due.
Amounts are summed from reports in VND only.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from statistics import median
from typing import Any

from pydantic import ConfigDict, Field
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.engagements.schemas import AdoptionStatus, ServiceType
from app.models import CheckInReport, Deal, DealCheckIn, Organization, ServiceQuote, ServiceRequest
from app.money import DecimalString, VndAmount
from app.schema_base import ResponseModel
from app.stats.indicators import TARGETS, Period
from app.stats.repository import COUNTED, active_intermediaries

DAY = Decimal(86400)
TENTH = Decimal("0.1")
RATIO = Decimal("0.0001")


class ServiceTypeRow(ResponseModel):
    service_type: ServiceType
    requested: int = Field(description="Requests made in the period.")
    delivered: int = Field(description="Requests delivered in the period.")
    median_days_to_deliver: DecimalString | None = Field(description="From acceptance to delivery, of those delivered.")


class ProviderRow(ResponseModel):
    organization_id: str
    name: str
    quotes: int = Field(description="Quotes made in the period.")
    delivered: int = Field(description="Services delivered in the period.")
    average_rating: DecimalString | None = Field(description="Requesters' ratings (1–5) of the services delivered.")


class DealsWithService(ResponseModel):
    deals: int = Field(description="Confirmed deals signed in the period.")
    with_service: int = Field(description="Of those, deals with a service request not cancelled or expired.")
    share: DecimalString | None


class FollowUpOutcomes(ResponseModel):
    check_ins_due: int
    reports: int
    by_status: dict[AdoptionStatus, int]
    jobs: int
    revenue_vnd: VndAmount
    cost_saved_vnd: VndAmount


class IntermediaryTarget(ResponseModel):
    code: str
    numerator: int = Field(
        description="Organisations counted (brokered a deal, held a mandate or delivered a service)."
    )
    targets: list[dict[str, Any]]


class ServiceStatsResponse(ResponseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "period": "2026",
                    "by_type": [
                        {"service_type": "valuation", "requested": 4, "delivered": 2, "median_days_to_deliver": "12.5"}
                    ],
                    "by_provider": [
                        {
                            "organization_id": "7c6b5a49-3827-4f16-9e5d-4c3b2a190807",
                            "name": "Công ty Thẩm định giá Hải Phòng",
                            "quotes": 5,
                            "delivered": 2,
                            "average_rating": "4.5",
                        }
                    ],
                    "deals": {"deals": 10, "with_service": 3, "share": "0.3"},
                    "follow_up": {
                        "check_ins_due": 6,
                        "reports": 9,
                        "by_status": {"in_use": 6, "scaled_up": 2, "problems": 1, "abandoned": 0},
                        "jobs": 14,
                        "revenue_vnd": "1250000000",
                        "cost_saved_vnd": "300000000",
                    },
                    "intermediaries": [
                        {
                            "code": "active_intermediaries",
                            "numerator": 4,
                            "targets": [
                                {"year": 2025, "value": 3, "comparison": ">="},
                                {"year": 2030, "value": 6, "comparison": ">"},
                            ],
                        }
                    ],
                }
            ]
        }
    )

    period: str
    by_type: list[ServiceTypeRow]
    by_provider: list[ProviderRow]
    deals: DealsWithService
    follow_up: FollowUpOutcomes
    intermediaries: list[IntermediaryTarget] = Field(
        description="The programme's targets for intermediaries (3 + 1 networks by 2025, > 6 + 2 by 2030) with "
        "the counts they are met against."
    )


def _bounds(period: Period) -> tuple[datetime, datetime]:
    start = datetime(period.start.year, period.start.month, period.start.day, tzinfo=UTC)
    end = datetime(period.end.year, period.end.month, period.end.day, tzinfo=UTC)
    return start, end


def _days(seconds: list[Decimal]) -> Decimal | None:
    return (median(seconds) / DAY).quantize(TENTH) if seconds else None


async def service_stats(session: AsyncSession, period: Period) -> ServiceStatsResponse:
    start, end = _bounds(period)
    requests = (
        await session.scalars(
            select(ServiceRequest).where(
                ((ServiceRequest.created_at >= start) & (ServiceRequest.created_at < end))
                | ((ServiceRequest.delivered_at >= start) & (ServiceRequest.delivered_at < end))
            )
        )
    ).all()
    made = [r for r in requests if start <= r.created_at < end]
    delivered = [r for r in requests if r.delivered_at is not None and start <= r.delivered_at < end]

    def seconds(r: ServiceRequest) -> Decimal:
        assert r.delivered_at is not None
        assert r.accepted_at is not None
        return Decimal(int((r.delivered_at - r.accepted_at).total_seconds()))

    by_type = [
        ServiceTypeRow(
            service_type=kind,
            requested=sum(1 for r in made if r.service_type == kind.value),
            delivered=sum(1 for r in delivered if r.service_type == kind.value),
            median_days_to_deliver=_days([seconds(r) for r in delivered if r.service_type == kind.value]),
        )
        for kind in ServiceType
    ]
    by_type = [row for row in by_type if row.requested or row.delivered]

    quotes = (
        await session.execute(
            select(ServiceQuote.provider_organization_id, func.count())
            .where(ServiceQuote.created_at >= start, ServiceQuote.created_at < end)
            .group_by(ServiceQuote.provider_organization_id)
        )
    ).all()
    quote_counts = {str(org): int(n) for org, n in quotes if org is not None}
    providers = set(quote_counts) | {str(r.provider_organization_id) for r in delivered if r.provider_organization_id}
    names = dict(
        (str(i), n)
        for i, n in (
            await session.execute(
                select(Organization.id, Organization.name).where(
                    Organization.id.in_([r.provider_organization_id for r in delivered if r.provider_organization_id])
                    | Organization.id.in_([q[0] for q in quotes])
                )
            )
        ).all()
    )
    by_provider = []
    for provider in sorted(providers, key=lambda p: names.get(p, "")):
        theirs = [r for r in delivered if str(r.provider_organization_id) == provider]
        ratings = [Decimal(r.requester_rating) for r in theirs if r.requester_rating is not None]
        by_provider.append(
            ProviderRow(
                organization_id=provider,
                name=names.get(provider, ""),
                quotes=quote_counts.get(provider, 0),
                delivered=len(theirs),
                average_rating=(sum(ratings, Decimal(0)) / len(ratings)).quantize(TENTH) if ratings else None,
            )
        )

    deal_ids = (
        await session.scalars(
            select(Deal.id).where(
                COUNTED, Deal.stage != "cancelled", Deal.signed_on >= period.start, Deal.signed_on < period.end
            )
        )
    ).all()
    served = set(
        (
            await session.scalars(
                select(ServiceRequest.deal_id).where(
                    ServiceRequest.deal_id.in_(deal_ids), ServiceRequest.status.not_in(("cancelled", "expired"))
                )
            )
        ).all()
    )
    with_service = sum(1 for d in deal_ids if d in served)

    check_ins = (
        await session.scalars(
            select(DealCheckIn.id).where(DealCheckIn.due_on >= period.start, DealCheckIn.due_on < period.end)
        )
    ).all()
    reports = (
        (await session.scalars(select(CheckInReport).where(CheckInReport.check_in_id.in_(check_ins)))).all()
        if check_ins
        else []
    )
    vnd = [r for r in reports if r.currency == "VND"]
    active, networks = await active_intermediaries(session, period)
    return ServiceStatsResponse(
        period=period.label,
        by_type=by_type,
        by_provider=by_provider,
        deals=DealsWithService(
            deals=len(deal_ids),
            with_service=with_service,
            share=(Decimal(with_service) / len(deal_ids)).quantize(RATIO) if deal_ids else None,
        ),
        follow_up=FollowUpOutcomes(
            check_ins_due=len(check_ins),
            reports=len(reports),
            by_status={s: sum(1 for r in reports if r.status == s.value) for s in AdoptionStatus},
            jobs=sum(r.jobs or 0 for r in reports),
            revenue_vnd=sum((r.revenue or Decimal(0) for r in vnd), Decimal(0)),
            cost_saved_vnd=sum((r.cost_saved or Decimal(0) for r in vnd), Decimal(0)),
        ),
        intermediaries=[
            IntermediaryTarget(
                code="active_intermediaries", numerator=active, targets=TARGETS["active_intermediaries"]
            ),
            IntermediaryTarget(
                code="intermediary_networks", numerator=networks, targets=TARGETS["intermediary_networks"]
            ),
        ],
    )
