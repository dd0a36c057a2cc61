"""Statistics for the Department of Science and Technology: indicators, listings, funnel, deals by field."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.permissions import Permission, Principal
from app.errors import PermissionDeniedError
from app.experts import repository as experts_repository
from app.models import Deal
from app.models.base import utcnow
from app.stats import repository
from app.stats.indicators import Indicator, Period, compute, counted, deals_by_field, median_hours, total_value
from app.stats.schemas import (
    DealsByFieldResponse,
    ExpertsByCountryRow,
    ExpertsByFieldRow,
    ExpertStatsResponse,
    FunnelResponse,
    IndicatorRead,
    IndicatorsResponse,
    ListingStatsResponse,
    ListingStatsRow,
    TargetRead,
)
from app.taxonomy.data import get_taxonomy


def _met(value: Decimal | int | None, target: dict[str, object]) -> bool | None:
    if value is None:
        return None
    goal = Decimal(str(target["value"]))
    return value > goal if target["comparison"] == ">" else value >= goal


def _read(indicator: Indicator) -> IndicatorRead:
    return IndicatorRead.model_validate(
        {
            "code": indicator.code,
            "label_vi": indicator.label_vi,
            "label_en": indicator.label_en,
            "unit": indicator.unit,
            "value": indicator.value,
            "numerator": indicator.numerator,
            "denominator": indicator.denominator,
            "period": indicator.period,
            "targets": [
                TargetRead.model_validate({**t, "value": Decimal(str(t["value"])), "met": _met(indicator.value, t)})
                for t in indicator.targets
            ],
            "note": indicator.note,
        }
    )


class StatsService:
    async def indicators(self, session: AsyncSession, period: Period) -> IndicatorsResponse:
        facts = await repository.deal_facts(session, period.previous())
        intermediaries, networks = await repository.active_intermediaries(session, period)
        computed = compute(facts, period, intermediaries=intermediaries, networks=networks)
        return IndicatorsResponse(period=period.label, indicators=[_read(i) for i in computed])

    async def listings(self, session: AsyncSession, kind: str) -> ListingStatsResponse:
        table = await repository.listing_table(session, kind)
        owners = await repository.owners_by_field(session, kind)
        rows: dict[str, ListingStatsRow] = {}
        for field, status, count, _owners, proposed in table:
            domestic, foreign = owners.get(field, (0, 0))
            row = rows.setdefault(
                field,
                ListingStatsRow(
                    field=field, units=domestic, foreign_units=foreign, listings=0, proposed_for_city=0, by_status={}
                ),
            )
            row.listings += count
            row.proposed_for_city += proposed
            row.by_status[status] = count
        ordered = sorted(rows.values(), key=lambda r: r.field)
        totals = {
            "units": sum(r.units for r in ordered),
            "foreign_units": sum(r.foreign_units for r in ordered),
            "listings": sum(r.listings for r in ordered),
            "proposed_for_city": sum(r.proposed_for_city for r in ordered),
        }
        return ListingStatsResponse(kind=kind, rows=ordered, totals=totals)

    async def funnel(self, session: AsyncSession, period: Period, response_days: int) -> FunnelResponse:
        interests = await repository.interests_in(session, period)
        accepted = [i for i in interests if i.status == "accepted"]
        answered = [(i.decided_at - i.created_at).total_seconds() / 3600 for i in interests if i.decided_at]
        now = utcnow()
        unanswered = [
            i for i in interests if i.status == "pending" and now - i.created_at > timedelta(days=response_days)
        ]
        from_interests = await repository.deals_from_interests(session, [i.id for i in interests])
        signed = counted(await repository.deal_facts(session, period), period)
        return FunnelResponse(
            period=period.label,
            matches=await repository.match_alerts_in(session, period),
            interests=len(interests),
            interests_accepted=len(accepted),
            meetings=await repository.meetings_in(session, period),
            deals_from_interests=from_interests,
            deals_signed=len(signed),
            conversion={
                "interest_to_accepted": round(len(accepted) / len(interests), 4) if interests else None,
                "accepted_to_deal": round(from_interests / len(accepted), 4) if accepted else None,
            },
            median_response_hours=median_hours(answered),
            unanswered_interests=len(unanswered),
        )

    async def deals_by_field(self, session: AsyncSession, period: Period) -> DealsByFieldResponse:
        facts = await repository.deal_facts(session, period)
        rows = deals_by_field(facts, period)
        current = counted(facts, period)
        return DealsByFieldResponse(
            period=period.label,
            rows=rows,
            total_deals=len(current),
            total_value_vnd=total_value(current),
        )

    async def experts(self, session: AsyncSession, period: Period, stale_days: int) -> ExpertStatsResponse:
        """The expert network: profiles by country and field, the overseas share, and the period's requests."""
        profiles = await experts_repository.all_for_stats(session)
        concepts = get_taxonomy().concepts
        countries: dict[str, list[int]] = {}
        fields: Counter[str] = Counter()
        for country, overseas, concept_ids, _confirmed in profiles:
            row = countries.setdefault(country, [0, 0])
            row[0] += 1
            row[1] += overseas
            fields.update({concepts[c].field for c in concept_ids if c in concepts})
        overseas_total = sum(row[1] for row in countries.values())
        now = utcnow()
        stale = sum(1 for *_, confirmed in profiles if now - confirmed > timedelta(days=stale_days))
        start = datetime.combine(period.start, time(), tzinfo=UTC)
        end = datetime.combine(period.end, time(), tzinfo=UTC)
        counts = await experts_repository.request_counts(session, start, end)
        accepted, declined = counts.get("accepted", 0), counts.get("declined", 0)
        return ExpertStatsResponse(
            period=period.label,
            experts=len(profiles),
            overseas_vietnamese=overseas_total,
            overseas_share=round(overseas_total / len(profiles), 4) if profiles else None,
            stale=stale,
            by_country=[
                ExpertsByCountryRow(country=c, experts=n, overseas_vietnamese=o)
                for c, (n, o) in sorted(countries.items(), key=lambda item: (-item[1][0], item[0]))
            ],
            by_field=[ExpertsByFieldRow(field=f, experts=n) for f, n in sorted(fields.items())],
            requests=sum(counts.values()),
            requests_accepted=accepted,
            requests_declined=declined,
            requests_pending=counts.get("pending", 0),
            acceptance_rate=round(accepted / (accepted + declined), 4) if accepted + declined else None,
        )

    async def deals_detail(self, session: AsyncSession, principal: Principal, period: Period) -> list[Deal]:
        """Every deal of the period with its value, confidential ones included: moderators only."""
        if not principal.has(Permission.MODERATE_RECORDS):
            raise PermissionDeniedError("Deal-level figures are for moderators.")
        return await repository.deals_detail(session, period)


stats_service = StatsService()
