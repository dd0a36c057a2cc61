"""Demo data loader (`techex seed --demo`, run by `make run` on an empty database).

Everything comes from data files in `app/seed_data/` expanded by templates
with a fixed random seed, so every load produces the same catalogue. Loading
is idempotent: organisations are matched by name and country, listings by
owner and title; what exists is left alone.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import Actor
from app.db import Database, unit_of_work
from app.deals.reference import developed_economies, vnd_rate
from app.listings import repository as listing_repository
from app.listings.schemas import IpStatus, ListingKind, ListingStatus, OriginKind, TransferType
from app.listings.service import inferred_concepts_of
from app.models import Deal, Interest, Listing, Mandate, Organization
from app.models.base import utcnow
from app.organizations import repository as organization_repository
from app.organizations.schemas import OrganizationCreate, OrganizationKind
from app.organizations.service import organization_service
from app.search import outbox
from app.seed_data import demo_accounts
from app.seed_data.engagements import load_engagements
from app.seed_data.experts import load_experts
from app.seed_queries import deal_count, organizations_of_kind, published_listings
from app.sql import next_counter_value
from app.taxonomy.data import get_taxonomy

SEED_DATA = Path(__file__).parent / "seed_data"
RANDOM_SEED = 2015
CAN_THO_PLACES = ("Cần Thơ", "Sóc Trăng", "Ninh Kiều", "Thốt Nốt", "Cái Răng")
FIELD_LABELS_VI = {
    "biotech": "công nghệ sinh học",
    "environment": "công nghệ môi trường",
    "new_energy": "năng lượng mới",
    "automation": "tự động hóa",
    "new_materials": "vật liệu mới",
}
DEALS_PER_YEAR = {2023: 14, 2024: 18, 2025: 24, 2026: 30}
DEAL_TYPES = ["licence", "technology_assignment", "technical_cooperation", "turnkey_equipment", "consulting_services"]
IP_STATUSES_TRANSFERRED = {"patent_granted", "utility_solution_granted", "patent_pending", "plant_variety"}
TRANSFER_CHOICES = [
    TransferType.LICENCE,
    TransferType.ASSIGNMENT,
    TransferType.TECHNICAL_COOPERATION,
    TransferType.TURNKEY_EQUIPMENT,
    TransferType.CONSULTING_SERVICES,
    TransferType.JOINT_VENTURE,
]


def _read(name: str) -> Any:
    return yaml.safe_load((SEED_DATA / name).read_text(encoding="utf-8"))


def _unit_kind(name: str) -> OrganizationKind:
    if name.startswith(("Trường", "Khoa")):
        return OrganizationKind.UNIVERSITY
    if name.startswith(("Công ty", "Hợp tác xã")):
        return OrganizationKind.ENTERPRISE
    return OrganizationKind.INSTITUTE


@dataclass
class Technology:
    """One offer of the demo catalogue, before it has an owner."""

    field_code: str
    title_vi: str
    title_en: str
    concepts: list[str]
    trl_range: tuple[int, int]
    ip_statuses: list[str]
    title_ja: str | None = None
    summary_ja: str | None = None
    summary_en: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _parse_line(line: str, field_code: str) -> Technology:
    vi, en, concepts, trl, ips = (part.strip() for part in line.split("|"))
    low, high = (int(x) for x in trl.split("-"))
    return Technology(field_code, vi, en, concepts.split(","), (low, high), ips.split(","))


def expand_technologies(field_code: str, spec: dict[str, Any]) -> Iterator[Technology]:
    """Explicit lines first, then each template with each value of its slot."""
    for line in spec.get("lines", []):
        yield _parse_line(line, field_code)
    for template in spec.get("templates", []):
        slot = next(key for key in template if key != "line")
        for value in template[slot].split(";"):
            vi, en = (part.strip() for part in value.split(" / ", 1))
            line = template["line"]
            vi_line, en_line, *rest = (part.strip() for part in line.split("|"))
            filled = " | ".join([vi_line.replace(f"{{{slot}}}", vi), en_line.replace(f"{{{slot}}}", en), *rest])
            tech = _parse_line(filled, field_code)
            tech.title_vi = tech.title_vi[0].upper() + tech.title_vi[1:]
            tech.title_en = tech.title_en[0].upper() + tech.title_en[1:]
            yield tech


def _japanese_title(concepts: list[str]) -> str:
    labels = [get_taxonomy().concepts[c].labels["ja"] for c in concepts[:2]]
    return "・".join(labels) + "の技術"


def _price_range(rng: random.Random) -> tuple[Decimal, Decimal]:
    low = Decimal(rng.choice([50, 80, 120, 150, 200, 300, 500, 800, 1200, 2000])) * Decimal(1_000_000)
    return low, low * Decimal(rng.choice([2, 3, 4]))


class DemoLoader:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.rng = random.Random(RANDOM_SEED)  # noqa: S311 - reproducible demo data, not secrets
        self.now = utcnow()
        self.created = {"organizations": 0, "offers": 0, "demands": 0, "deals": 0, "accounts": 0, "events": 0}
        self.existing_titles: set[tuple[Any, str]] = set()

    async def organization(self, payload: OrganizationCreate, *, verified: bool = True) -> Organization:
        found = await organization_repository.get_by_name(self.session, payload.name, payload.country)
        if found is not None:
            return found
        organization = await organization_service.create_unchecked(self.session, Actor.system(), payload)
        if verified:
            organization.verified, organization.verified_at = True, self.now  # indexed by the create's event
        self.created["organizations"] += 1
        return organization

    async def listing(self, kind: ListingKind, owner: Organization, **values: Any) -> None:
        if (owner.id, values["title"]) in self.existing_titles:
            return
        published_at = self.now - timedelta(days=self.rng.randint(1, 300), hours=self.rng.randint(0, 23))
        created_at = published_at - timedelta(days=self.rng.randint(1, 14))
        prefix = f"{'TO' if kind is ListingKind.OFFER else 'TD'}-{owner.country}-{created_at:%Y%m%d}"
        number = await listing_repository.next_reference_number(self.session, prefix)
        listing_id = uuid.uuid4()
        outbox.listing_changed(self.session, kind.value, listing_id)
        listing = Listing(
            id=listing_id,
            kind=kind.value,
            reference=f"{prefix}-{number:04d}",
            organization_id=owner.id,
            status=ListingStatus.PUBLISHED.value,
            country=owner.country,
            province=owner.province,
            created_at=created_at,
            updated_at=published_at,
            submitted_at=created_at + timedelta(hours=2),
            published_at=published_at,
            expires_at=published_at + timedelta(days=365),
            contact={"person": "Phòng Hợp tác và Chuyển giao công nghệ"},
            **values,
        )
        listing.inferred_concepts = inferred_concepts_of(listing, owner)
        self.session.add(listing)
        self.existing_titles.add((owner.id, values["title"]))
        self.created["offers" if kind is ListingKind.OFFER else "demands"] += 1

    def offer_values(self, tech: Technology, owner: Organization, proposed: bool) -> dict[str, Any]:
        rng = self.rng
        trl = rng.randint(*tech.trl_range)
        unit = owner.name
        field_vi = FIELD_LABELS_VI.get(tech.field_code, tech.field_code)
        summary_vi = rng.choice(
            [
                f"{tech.title_vi}: giải pháp {field_vi} do {unit} nghiên cứu, đạt mức sẵn sàng TRL {trl}.",
                f"{unit} chuyển giao {tech.title_vi.lower()}, đã thử nghiệm thực tế tại Hải Phòng.",
                f"{tech.title_vi} – công nghệ {field_vi} sẵn sàng chuyển giao cho doanh nghiệp trong nước.",
            ]
        )
        summary_en = tech.summary_en or f"{tech.title_en}: {tech.field_code.replace('_', ' ')} technology at TRL {trl}."
        translations: dict[str, Any] = {"en": {"title": tech.title_en, "summary": summary_en, "description": ""}}
        if tech.title_ja is None and rng.random() < 0.2:
            tech.title_ja = _japanese_title(tech.concepts)
            tech.summary_ja = f"{tech.title_ja}。ハイフォン市で実証済み、技術移転が可能です。"
        if tech.title_ja is not None and tech.extra.get("language") != "ja":
            translations["ja"] = {
                "title": tech.title_ja,
                "summary": tech.summary_ja or tech.title_ja,
                "description": "",
            }
        price_min, price_max = _price_range(rng)
        origin = (
            OriginKind.INSTITUTE_UNIVERSITY
            if owner.kind in (OrganizationKind.INSTITUTE, OrganizationKind.UNIVERSITY)
            else OriginKind.ENTERPRISE
        )
        return {
            "language": "vi",
            "title": tech.title_vi,
            "summary": summary_vi,
            "description": (
                f"{tech.title_vi}. Đơn vị sở hữu: {unit}. Công nghệ đã được hoàn thiện qua các đợt thử nghiệm "
                f"và có thể chuyển giao kèm đào tạo vận hành."
            ),
            "translations": translations,
            "field": tech.field_code,
            "concepts": tech.concepts,
            "transfer_types": [t.value for t in rng.sample(TRANSFER_CHOICES, rng.randint(1, 3))],
            "target_countries": ["VN"],
            "languages": ["vi", "en"],
            "visibility": "anonymous" if rng.random() < 0.05 else "public",
            "currency": "VND",
            "trl": trl,
            "ip_status": rng.choice(tech.ip_statuses),
            "patent_numbers": [],
            "advantages": "Chi phí thấp hơn giải pháp nhập khẩu; vật tư sẵn có trong nước.",
            "applications": f"Doanh nghiệp và địa phương có nhu cầu về {field_vi}.",
            "evidence": [
                {"kind": "pilot_site", "description": f"Ứng dụng thử nghiệm tại {owner.province or 'Hải Phòng'}"}
            ],
            "price_min": price_min,
            "price_max": price_max,
            "support_included": rng.random() < 0.7,
            "origin_country": owner.country,
            "origin_kind": origin.value,
            "proposed_for_city": proposed,
            **tech.extra,
        }

    async def load_survey(self, data: dict[str, Any], japanese_per_field: dict[str, list[Technology]]) -> None:
        for field_code, spec in data["survey"].items():
            units = [
                await self.organization(
                    OrganizationCreate(
                        name=name,
                        kind=_unit_kind(name),
                        country="VN",
                        province="Hải Phòng",
                        sectors=[field_code],
                        languages=["vi"],
                    )
                )
                for name in spec["units"]
            ]
            japanese = japanese_per_field.get(field_code, [])
            domestic = list(expand_technologies(field_code, spec))[: spec["count"] - len(japanese)]
            if len(domestic) + len(japanese) != spec["count"]:
                raise ValueError(f"demo data: {field_code} has too few technologies for {spec['count']}")
            proposed = set(self.rng.sample(range(spec["count"]), spec["proposed"]))
            for index, tech in enumerate(domestic):
                owner = units[index % len(units)]
                await self.listing(ListingKind.OFFER, owner, **self.offer_values(tech, owner, index in proposed))
            for offset, tech in enumerate(japanese, start=len(domestic)):
                owner = tech.extra.pop("owner")
                values = self.offer_values(tech, owner, offset in proposed)
                values |= {
                    "language": "ja",
                    "title": tech.title_ja,
                    "summary": tech.summary_ja,
                    "description": tech.summary_ja,
                    "translations": {"en": {"title": tech.title_en, "summary": tech.summary_en, "description": ""}},
                    "languages": ["ja", "en"],
                    "target_countries": ["VN", "JP"],
                    "origin_kind": OriginKind.IMPORTED.value,
                    "ip_status": IpStatus.PATENT_GRANTED.value,
                }
                await self.listing(ListingKind.OFFER, owner, **values)

    async def japanese_suppliers(self, data: dict[str, Any]) -> dict[str, list[Technology]]:
        per_field: dict[str, list[Technology]] = {}
        for supplier in data["japanese_suppliers"]:
            owner = await self.organization(
                OrganizationCreate(
                    name=supplier["name"],
                    name_i18n={"en": supplier["en"]},
                    kind=OrganizationKind.ENTERPRISE,
                    country="JP",
                    province="Fukuoka",
                    sectors=[supplier["field"]],
                    languages=["ja", "en"],
                )
            )
            tech = Technology(
                field_code=supplier["field"],
                title_vi=supplier["title"][1],
                title_en=supplier["title"][1],
                concepts=supplier["concepts"],
                trl_range=(8, 9),
                ip_statuses=[IpStatus.PATENT_GRANTED.value],
                title_ja=supplier["title"][0],
                summary_ja=supplier["summary"][0],
                summary_en=supplier["summary"][1],
                extra={"owner": owner, "language": "ja"},
            )
            per_field.setdefault(supplier["field"], []).append(tech)
        return per_field

    async def load_demands(self, data: dict[str, Any]) -> None:
        spec = data["enterprises"]
        enterprises = []
        for index, name in enumerate(spec["names"]):
            province = "Cần Thơ" if any(place in name for place in CAN_THO_PLACES) else "Hải Phòng"
            enterprises.append(
                await self.organization(
                    OrganizationCreate(
                        name=f"{spec['kinds'][index % len(spec['kinds'])]} {name}",
                        kind=OrganizationKind.ENTERPRISE,
                        country="VN",
                        province=province,
                        languages=["vi"],
                    ),
                    verified=index % 3 != 0,
                )
            )
        taxonomy = get_taxonomy()
        demands = data["demands"]
        combos = [(line, context) for context in demands["contexts"] for line in demands["lines"]]
        for index, (line, (context_vi, context_en)) in enumerate(combos[: demands["count"]]):
            title_vi, title_en, concepts, min_trl = (part.strip() for part in line.split("|"))
            concept_ids = concepts.split(",")
            owner = enterprises[(index * 7) % len(enterprises)]
            budget_min, budget_max = _price_range(self.rng)
            title = f"{title_vi} {context_vi}"
            await self.listing(
                ListingKind.DEMAND,
                owner,
                language="vi",
                title=title,
                summary=f"{owner.name} {title[0].lower()}{title[1:]}; ưu tiên giải pháp đã kiểm chứng trong nước.",
                description=f"{title}. Địa điểm triển khai: {owner.province}.",
                translations={"en": {"title": f"{title_en} {context_en}", "summary": f"{title_en} {context_en}."}},
                field=taxonomy.concepts[concept_ids[0]].field,
                concepts=concept_ids,
                transfer_types=[t.value for t in self.rng.sample(TRANSFER_CHOICES, 2)],
                target_countries=["VN"],
                languages=["vi"],
                visibility="public",
                currency="VND",
                problem_statement=f"{owner.name} {title[0].lower()}{title[1:]}.",
                requirements="Vận hành đơn giản, chi phí hợp lý, có hỗ trợ kỹ thuật sau chuyển giao.",
                min_trl=int(min_trl),
                budget_min=budget_min,
                budget_max=budget_max,
                wanted_by=(self.now + timedelta(days=self.rng.randint(90, 540))).date(),
                deployment_province=owner.province,
                co_development=self.rng.random() < 0.4,
            )

    async def load_deals(self) -> None:
        """Four years of deals (and the interests they came from) so the statistics say something."""
        if await deal_count(self.session):
            return
        rng = random.Random(RANDOM_SEED + 1)  # noqa: S311 - reproducible demo data
        offers = await published_listings(self.session, "offer")
        buyers = [o for o in await organizations_of_kind(self.session, "enterprise") if o.country == "VN"]
        brokers = await organizations_of_kind(self.session, "intermediary")
        today = self.now.date()
        mandates: set[tuple[uuid.UUID, uuid.UUID]] = set()
        for year, count in DEALS_PER_YEAR.items():
            for _ in range(count):
                listing, supplier = rng.choice(offers)
                buyer = rng.choice([b for b in buyers if b.id != supplier.id])
                last_day = min(date(year, 12, 28), today - timedelta(days=1))
                signed_on = date(year, 1, 5) + timedelta(days=rng.randint(0, (last_day - date(year, 1, 5)).days))
                asked = datetime.combine(signed_on - timedelta(days=rng.randint(20, 90)), time(9), tzinfo=UTC)
                interest = Interest(
                    id=uuid.uuid4(),
                    listing_id=listing.id,
                    listing_owner_id=supplier.id,
                    from_organization_id=buyer.id,
                    message="Chúng tôi quan tâm đến công nghệ này, xin trao đổi thêm.",
                    status="accepted",
                    decided_at=asked + timedelta(hours=rng.randint(2, 96)),
                    created_at=asked,
                    updated_at=asked,
                )
                self.session.add(interest)
                await self.session.flush()  # the deal refers to it
                imported = listing.origin_kind == "imported"
                currency = "JPY" if imported else "VND"
                value = Decimal(rng.choice([80, 150, 250, 400, 600, 900, 1500, 2500])) * Decimal(1_000_000)
                rate = vnd_rate(currency, year) or Decimal(1)
                if imported:
                    value = (value / rate).quantize(Decimal(1))
                number = await next_counter_value(self.session, f"GD-{year}")
                stage = "cancelled" if rng.random() < 0.06 else rng.choice(["signed", "in_progress", "completed"])
                broker = rng.choice(brokers) if brokers and rng.random() < 0.3 else None
                if broker is not None and (supplier.id, broker.id) not in mandates:
                    mandates.add((supplier.id, broker.id))
                    self.session.add(
                        Mandate(
                            client_organization_id=supplier.id,
                            broker_organization_id=broker.id,
                            note="Môi giới chuyển giao công nghệ",
                            created_at=asked - timedelta(days=30),
                        )
                    )
                origin = {"imported": "imported", "institute_university": "domestic_institute_university"}.get(
                    listing.origin_kind or "", "domestic_enterprise"
                )
                self.session.add(
                    Deal(
                        reference=f"GD-{year}-{number:04d}",
                        offer_id=listing.id,
                        interest_id=interest.id,
                        source="interest",
                        supplier_organization_id=supplier.id,
                        buyer_organization_id=buyer.id,
                        broker_organization_id=broker.id if broker else None,
                        title=listing.title,
                        deal_type=rng.choice(DEAL_TYPES),
                        field=listing.field,
                        value=value,
                        currency=currency,
                        vnd_rate=rate,
                        value_vnd=(value * rate).quantize(Decimal("0.01")),
                        stage=stage,
                        signed_on=signed_on,
                        cancelled_on=signed_on if stage == "cancelled" else None,
                        ip_transferred=listing.ip_status in IP_STATUSES_TRANSFERRED and rng.random() < 0.5,
                        origin=origin,
                        origin_country=listing.origin_country or supplier.country,
                        developed_economy=imported and (listing.origin_country or "") in developed_economies(),
                        confidential=rng.random() < 0.1,
                        # Both parties confirmed on signing, so the demo statistics count them.
                        confirmation="confirmed",
                        supplier_confirmed_at=datetime.combine(signed_on, time(9), tzinfo=UTC),
                        buyer_confirmed_at=datetime.combine(signed_on, time(10), tzinfo=UTC),
                    )
                )
                self.created["deals"] += 1
        for listing, supplier in rng.sample(offers, 25):
            asked = self.now - timedelta(days=rng.randint(1, 40))
            buyer = rng.choice([b for b in buyers if b.id != supplier.id])
            status = rng.choice(["pending", "declined", "accepted"])
            self.session.add(
                Interest(
                    listing_id=listing.id,
                    listing_owner_id=supplier.id,
                    from_organization_id=buyer.id,
                    message="Xin thông tin về giá và điều kiện chuyển giao.",
                    status=status,
                    decline_reason="not_relevant" if status == "declined" else None,
                    decided_at=None if status == "pending" else asked + timedelta(hours=rng.randint(1, 120)),
                    created_at=asked,
                    updated_at=asked,
                )
            )
        await self.session.flush()

    async def run(self) -> dict[str, int]:
        for record in _read("organizations.yaml"):
            verified = bool(record.pop("verified", False))
            await self.organization(OrganizationCreate.model_validate(record), verified=verified)
        self.existing_titles = await listing_repository.owner_titles(self.session)
        data = _read("demo_listings.yaml")
        japanese = await self.japanese_suppliers(data)
        await self.load_survey(data, japanese)
        await self.load_demands(data)
        await self.session.flush()
        await self.load_deals()
        self.created["accounts"], self.created["events"] = await demo_accounts.load(self.session)
        self.created["experts"] = await load_experts(self.session, self.rng, self.now)
        self.created["service_requests"] = await load_engagements(self.session, self.now)
        return self.created


async def load_demo_data(database: Database, *, only_if_empty: bool = False) -> str:
    """Load the demonstration data set; returns what was done, in one line."""
    async with unit_of_work(database.writer) as session:
        if only_if_empty and await organization_repository.count(session):
            return "demo data: database not empty, nothing loaded"
        created = await DemoLoader(session).run()
    return (
        f"demo data: {created['organizations']} organisations, {created['offers']} offers "
        f"and {created['demands']} demands loaded, {created['deals']} deals, "
        f"{created['accounts']} demo accounts, {created['events']} events, {created['experts']} experts, "
        f"{created['service_requests']} service requests"
    )
