"""Demo data of intermediary services and of the follow-up after transfer, across the demo deals.

About a quarter of the signed deals had a service (valuation, appraisal, legal …) from one of the demo
intermediaries, at every stage from open to closed and rated; every signed deal has its follow-up plan,
with the milestones done and the check-ins due so far reported by most parties.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.engagements.plan import CHECK_IN_MONTHS, MILESTONES, add_months
from app.engagements.schemas import AdoptionStatus, ServiceType
from app.models import (
    CheckInReport,
    Deal,
    DealCheckIn,
    DealMilestone,
    Organization,
    ServiceQuote,
    ServiceRequest,
)

RANDOM_SEED = 2025
TITLES = {
    "appraisal": "Thẩm định công nghệ trước chuyển giao",
    "valuation": "Định giá công nghệ để đàm phán giá chuyển giao",
    "legal": "Tư vấn pháp lý hợp đồng chuyển giao công nghệ",
    "ip": "Tư vấn sở hữu trí tuệ: tra cứu và đăng ký",
    "finance": "Tư vấn tài chính, tiếp cận quỹ đổi mới công nghệ",
    "negotiation": "Hỗ trợ đàm phán điều khoản chuyển giao",
    "contract_drafting": "Soạn thảo hợp đồng chuyển giao công nghệ",
    "technology_assessment": "Đánh giá trình độ và mức độ sẵn sàng công nghệ (TRL)",
}
STAGES = ["closed", "closed", "closed", "delivered", "accepted", "quoted", "open", "cancelled"]
OUTCOMES = [
    AdoptionStatus.IN_USE,
    AdoptionStatus.IN_USE,
    AdoptionStatus.IN_USE,
    AdoptionStatus.SCALED_UP,
    AdoptionStatus.PROBLEMS,
    AdoptionStatus.ABANDONED,
]


def _at(day: date, hour: int = 9) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


async def load_engagements(session: AsyncSession, now: datetime) -> int:
    """Service requests and follow-ups of the demo deals; returns how many service requests were made."""
    if (await session.scalars(select(ServiceRequest.id).limit(1))).first() is not None:
        return 0
    rng = random.Random(RANDOM_SEED)  # noqa: S311 - reproducible demo data
    today = now.date()
    providers = list(
        (
            await session.scalars(
                select(Organization).where(Organization.kind == "intermediary").order_by(Organization.name)
            )
        ).all()
    )
    deals = list(
        (
            await session.scalars(
                select(Deal).where(Deal.signed_on.is_not(None), Deal.stage != "cancelled").order_by(Deal.reference)
            )
        ).all()
    )
    made = 0
    later: list[object] = []  # rows that refer to rows added here: added once those are flushed
    for deal in deals:
        assert deal.signed_on is not None
        later += _follow_up(session, rng, deal, today)
        if not providers or rng.random() > 0.25:
            continue
        made += 1
        later += _service(session, rng, deal, providers, now)
    await session.flush()
    session.add_all(later)
    await session.flush()
    return made


def _follow_up(session: AsyncSession, rng: random.Random, deal: Deal, today: date) -> list[CheckInReport]:
    assert deal.signed_on is not None
    reports = []
    for position, kind in enumerate(MILESTONES):
        due = deal.signed_on + timedelta(days=30 * (position + 1))
        done = due + timedelta(days=rng.randint(-10, 20)) if due < today and rng.random() < 0.85 else None
        session.add(
            DealMilestone(
                deal_id=deal.id,
                kind=kind,
                position=position,
                due_on=due,
                done_on=done if done is not None and done < today else None,
            )
        )
    outcome = rng.choice(OUTCOMES)
    for month in CHECK_IN_MONTHS:
        due_on = add_months(deal.signed_on, month)
        check_in = DealCheckIn(id=uuid.uuid4(), deal_id=deal.id, month=month, due_on=due_on)
        session.add(check_in)
        if due_on > today - timedelta(days=14):
            continue
        # the overdue ones the sweep would have notified: mark them, so the first sweep does not flood
        check_in.overdue_notified_at = _at(due_on + timedelta(days=15))
        for side, organization_id in (
            ("supplier", deal.supplier_organization_id),
            ("buyer", deal.buyer_organization_id),
        ):
            if rng.random() < 0.15:
                continue  # this party never reported
            buyer = side == "buyer"
            scale = month / 12
            reports.append(
                CheckInReport(
                    check_in_id=check_in.id,
                    side=side,
                    organization_id=organization_id,
                    status=outcome.value,
                    jobs=rng.randint(0, 12) if buyer and outcome is not AdoptionStatus.ABANDONED else None,
                    revenue=(
                        Decimal(rng.choice([50, 120, 300, 800])) * Decimal(1_000_000) * Decimal(str(scale))
                    ).quantize(Decimal(1))
                    if buyer and outcome in (AdoptionStatus.IN_USE, AdoptionStatus.SCALED_UP)
                    else None,
                    cost_saved=Decimal(rng.choice([10, 30, 60])) * Decimal(1_000_000) if buyer else None,
                    currency="VND",
                    reported_at=_at(due_on + timedelta(days=rng.randint(-5, 10))),
                )
            )
    return reports


def _service(
    session: AsyncSession, rng: random.Random, deal: Deal, providers: list[Organization], now: datetime
) -> list[ServiceQuote]:
    assert deal.signed_on is not None
    service_type = rng.choice(list(ServiceType))
    stage = rng.choice(STAGES)
    requester = rng.choice([deal.supplier_organization_id, deal.buyer_organization_id])
    asked = _at(deal.signed_on - timedelta(days=rng.randint(15, 60)))
    request = ServiceRequest(
        id=uuid.uuid4(),
        service_type=service_type.value,
        subject_type="deal",
        deal_id=deal.id,
        requester_organization_id=requester,
        title=f"{TITLES[service_type.value]}: {deal.title}"[:256],
        quotes_until=max(asked + timedelta(days=30), now + timedelta(days=20))
        if stage in ("open", "quoted")
        else asked + timedelta(days=30),
        status=stage,
        created_at=asked,
        updated_at=asked,
    )
    session.add(request)
    if stage == "open":
        return []
    chosen = rng.sample(providers, k=min(len(providers), rng.randint(1, 3)))
    quotes = [
        ServiceQuote(
            service_request_id=request.id,
            provider_organization_id=provider.id,
            fee=Decimal(rng.choice([8, 15, 25, 40, 60])) * Decimal(1_000_000),
            currency="VND",
            days=rng.choice([7, 10, 15, 20, 30]),
            status="submitted",
            created_at=asked + timedelta(days=rng.randint(1, 7)),
        )
        for provider in chosen
    ]
    if stage in ("quoted", "cancelled"):
        if stage == "cancelled":
            request.cancelled_at = asked + timedelta(days=12)
        return quotes
    accepted = quotes[0]
    accepted.status = "accepted"
    for other in quotes[1:]:
        other.status = "rejected"
    request.provider_kind = "organization"
    request.provider_organization_id = accepted.provider_organization_id
    request.accepted_at = asked + timedelta(days=10)
    if stage == "accepted":
        return quotes
    request.delivered_at = request.accepted_at + timedelta(days=accepted.days + rng.randint(-3, 6))
    value = deal.value_vnd or Decimal(500_000_000)
    request.result = {
        "summary": "Báo cáo đã giao cho bên yêu cầu.",
        "value_low": str((value * Decimal("0.8")).quantize(Decimal(1))) if service_type.value == "valuation" else None,
        "value_high": str((value * Decimal("1.2")).quantize(Decimal(1))) if service_type.value == "valuation" else None,
        "currency": "VND" if service_type.value == "valuation" else None,
        "method": rng.choice(["income", "market", "cost"]) if service_type.value == "valuation" else None,
        "valuation_id": None,
    }
    if stage == "closed":
        request.closed_at = request.delivered_at + timedelta(days=3)
        request.requester_rating = rng.choice([3, 4, 4, 5, 5])
        request.provider_rating = rng.choice([4, 5])
    return quotes
