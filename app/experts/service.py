"""Expert profiles, their freshness, ORCID proposals, matching to listings, and consultation requests."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.authorization import actor_for_organization, require_person
from app.accounts.permissions import Principal
from app.config import Settings
from app.deals.service import deal_service
from app.errors import AppError, ConflictError, InvalidInputError, NotFoundError, TooManyRequestsError
from app.experts import repository, vectors
from app.experts.orcid import OrcidClient
from app.experts.ranking import ExpertMatch, ExpertProfile, rank_experts
from app.experts.schemas import (
    ConsultationCreate,
    ConsultationOutcomeUpdate,
    ConsultationRead,
    ConsultationStatus,
    ExpertCreate,
    ExpertField,
    ExpertProposal,
    ExpertUpdate,
    ListedBy,
    SubjectKind,
)
from app.experts.visibility import (
    Reader,
    contact_of,
    is_stale,
    public_profile_text,
    public_texts,
    visible_fields,
)
from app.listings.schemas import ListingKind
from app.listings.service import check_if_match, listing_service, validate_concepts
from app.matching.concepts import infer_concepts, narrowest, with_broader
from app.matching.profiles import profile, subfields_of
from app.matching.service import candidate_query
from app.models import ConsultationRequest, Expert, Notification
from app.models.base import utcnow
from app.organizations import repository as organization_repository
from app.search import outbox
from app.search.backend import SearchBackend, SearchQuery, TermFilter
from app.search.documents import Fields
from app.search.index_config import EXPERTS
from app.taxonomy.data import get_taxonomy
from app.webhooks import events as webhooks

log = structlog.get_logger(__name__)
CANDIDATES = 200
# The experts most alike in meaning added to the candidates the index finds by words and concepts.
SEMANTIC_CANDIDATES = 50
EXPERT_TEXTS = (Fields.SEARCH_TITLE, Fields.SEARCH_SUMMARY, Fields.SEARCH_DESCRIPTION, Fields.KEYWORDS)


class ExpertNotFoundError(NotFoundError):
    code = "ExpertNotFound"
    title = "No such expert"


class ConsultationNotFoundError(NotFoundError):
    code = "ConsultationNotFound"
    title = "No such consultation request"


class OwnExpertError(ConflictError):
    """An organisation asks its own experts directly, not through a request."""

    code = "OwnExpert"
    title = "This expert belongs to your organisation"


class ExpertUnavailableError(ConflictError):
    code = "ExpertUnavailable"
    title = "The expert takes no requests at present"


class ConsultationStateError(ConflictError):
    code = "ConsultationState"
    title = "The request is not in a state that allows this"


class NotTheExpertError(AppError):
    status = 403
    code = "NotTheExpert"
    title = "Only the expert's side answers a consultation request"


class ConsultationCapReachedError(TooManyRequestsError):
    """The organisation has sent as many consultation requests this month as the exchange allows."""

    code = "ConsultationCapReached"
    title = "Monthly consultation request cap reached"


def month_start(now: datetime) -> datetime:
    return datetime(now.year, now.month, 1, tzinfo=UTC)


def next_month_start(now: datetime) -> datetime:
    return datetime(now.year + (now.month == 12), now.month % 12 + 1, 1, tzinfo=UTC)


def expert_inferred_concepts(expert: Expert) -> list[str]:
    """Concepts the public words of the profile mention, beyond those the owner gave: inferred from
    private words they would reveal them in search and matches."""
    texts = public_texts(expert)
    own = set(expert.concepts or [])
    found = infer_concepts(texts["headline"], texts["bio"], texts["keywords"], texts["title"])
    return [c for c in found if c not in own]


def profile_values(payload: ExpertCreate) -> dict[str, Any]:
    """A validated profile as column values: the one conversion for the API and the bulk import."""
    values = payload.model_dump(mode="json", exclude={"listed_by", "consent", "contact", "visibility"})
    values["affiliation_organization_id"] = payload.affiliation_organization_id
    values["concepts"] = list(dict.fromkeys(payload.concepts))
    return {
        **values,
        "listed_by": payload.listed_by.value,
        "consent": payload.consent.model_dump(mode="json") if payload.consent else {},
        "contact": payload.contact.model_dump(mode="json", exclude_none=True),
        "visibility": {k.value: v.value for k, v in payload.visibility.items()},
    }


def expert_profile(
    expert: Expert,
    helpful: int,
    now: datetime,
    stale_days: int,
    relevance: float = 0.0,
    meaning: float = 0.0,
    language: str | None = None,
) -> ExpertProfile:
    """The ranking's view: the public fields only, since matches and their reasons are shown to anyone."""
    shown = visible_fields(expert, Reader.PUBLIC)

    def public(field: ExpertField) -> Any:
        return getattr(expert, field.value) if field in shown else None

    concepts = with_broader([*(expert.concepts or []), *(expert.inferred_concepts or [])])
    return ExpertProfile(
        id=str(expert.id),
        concepts=frozenset(concepts),
        subfields=subfields_of(concepts),
        text=public_profile_text(expert),
        industry_years=public(ExpertField.INDUSTRY_YEARS),
        highest_trl=public(ExpertField.HIGHEST_TRL),
        patents_count=public(ExpertField.PATENTS_COUNT),
        publications_count=public(ExpertField.PUBLICATIONS_COUNT),
        helpful_consultations=helpful,
        offers=frozenset(expert.offers or []),
        languages=frozenset(public(ExpertField.LANGUAGES) or []),
        stale=is_stale(expert, now, stale_days),
        search_relevance=relevance,
        meaning=meaning,
        language=language,
    )


@dataclass(frozen=True)
class RankedExpert:
    match: ExpertMatch
    expert: Expert


class ExpertService:
    # --- profiles -----------------------------------------------------------------------

    async def reader(self, session: AsyncSession, principal: Principal | None, expert: Expert) -> Reader:
        """Owner: the owning organisation's people and keys, and the expert's own account. Member: signed-in
        people and keys of verified organisations, and moderators. Anyone else: the public."""
        if principal is None:
            return Reader.PUBLIC
        if principal.organization_id == expert.organization_id or (
            expert.account_id is not None and principal.account_id == expert.account_id
        ):
            return Reader.OWNER
        if principal.is_staff:
            return Reader.MEMBER
        organization = await organization_repository.get(session, principal.organization_id)
        return Reader.MEMBER if organization is not None and organization.verified else Reader.PUBLIC

    async def get(self, session: AsyncSession, expert_id: uuid.UUID, *, lock: bool = False) -> Expert:
        expert = await repository.get(session, expert_id, lock=lock)
        if expert is None:
            raise ExpertNotFoundError()
        return expert

    async def _check_affiliation(self, session: AsyncSession, organization_id: uuid.UUID | None) -> None:
        if organization_id is not None and await organization_repository.get(session, organization_id) is None:
            raise InvalidInputError.for_field(
                ["body", "affiliation_organization_id"], "no such organisation", "not_found"
            )

    async def create(self, session: AsyncSession, principal: Principal, payload: ExpertCreate) -> Expert:
        if payload.listed_by is ListedBy.SELF:
            require_person(principal)  # the expert, signed in as themself
        validate_concepts(payload.concepts)
        await self._check_affiliation(session, payload.affiliation_organization_id)
        expert = Expert(
            **profile_values(payload),
            organization_id=principal.organization_id,
            account_id=principal.account_id if payload.listed_by is ListedBy.SELF else None,
            created_by_account_id=principal.account_id,
            last_confirmed_at=utcnow(),
        )
        expert.inferred_concepts = expert_inferred_concepts(expert)
        session.add(expert)
        await session.flush()
        outbox.expert_changed(session, expert.id)
        return expert

    async def _owned(
        self, session: AsyncSession, principal: Principal, expert_id: uuid.UUID, *, lock: bool = True
    ) -> Expert:
        """The profile, for a change by its owner side (or a moderator, or a broker under mandate)."""
        expert = await self.get(session, expert_id, lock=lock)
        if expert.account_id is not None and principal.account_id == expert.account_id:
            return expert
        await actor_for_organization(session, principal, expert.organization_id)
        return expert

    async def update(
        self,
        session: AsyncSession,
        principal: Principal,
        expert_id: uuid.UUID,
        payload: ExpertUpdate,
        if_match: str | None,
    ) -> Expert:
        expert = await self._owned(session, principal, expert_id)
        check_if_match(expert, if_match)
        changes = payload.model_dump(exclude_unset=True)
        for required in ("name", "country", "headline", "bio", "overseas_vietnamese", "availability", "fee_basis"):
            if required in changes and changes[required] is None:
                raise InvalidInputError.for_field(["body", required], "may not be null", "missing")
        if "concepts" in changes:
            validate_concepts(changes["concepts"])
            changes["concepts"] = list(dict.fromkeys(changes["concepts"] or []))
        if "affiliation_organization_id" in changes:
            await self._check_affiliation(session, changes["affiliation_organization_id"])
        if "contact" in changes:
            if changes["contact"] is None:
                raise InvalidInputError.for_field(["body", "contact"], "may not be null", "missing")
            changes["contact"] = payload.contact.model_dump(mode="json", exclude_none=True)  # type: ignore[union-attr]
        if "visibility" in changes:
            merged = dict(expert.visibility or {}) | {k.value: v.value for k, v in (payload.visibility or {}).items()}
            changes["visibility"] = merged
        for name in ("languages", "keywords", "offers"):
            if name in changes and changes[name] is None:
                changes[name] = []
        for name in ("industry_years", "publications_count", "patents_count"):
            if name in changes and changes[name] is None:
                changes[name] = 0
        for name, value in changes.items():
            setattr(
                expert,
                name,
                [v.value if hasattr(v, "value") else v for v in value] if isinstance(value, list) else value,
            )
        expert.inferred_concepts = expert_inferred_concepts(expert)
        # Changing the profile is confirming it is current.
        expert.last_confirmed_at, expert.reminder_sent_at = utcnow(), None
        await session.flush()
        outbox.expert_changed(session, expert.id)
        return expert

    async def confirm(self, session: AsyncSession, principal: Principal, expert_id: uuid.UUID) -> Expert:
        """The owner says the profile is still current: it is fresh again for 12 months."""
        expert = await self._owned(session, principal, expert_id)
        expert.last_confirmed_at, expert.reminder_sent_at = utcnow(), None
        await session.flush()
        outbox.expert_changed(session, expert.id)
        return expert

    async def delete(
        self, session: AsyncSession, principal: Principal, expert_id: uuid.UUID, if_match: str | None
    ) -> None:
        expert = await self._owned(session, principal, expert_id)
        check_if_match(expert, if_match)
        await session.delete(expert)
        await session.flush()
        outbox.expert_changed(session, expert_id)

    async def retag_page(
        self, session: AsyncSession, after: uuid.UUID | None, limit: int
    ) -> tuple[uuid.UUID | None, int, int]:
        """Infer the concepts of up to `limit` profiles after the id `after` again — the taxonomy changed — and
        reindex those whose inferred concepts changed. Returns the last id seen, how many were seen and changed."""
        experts = await repository.in_id_order(session, after, limit)
        changed = 0
        for expert in experts:
            inferred = expert_inferred_concepts(expert)
            if inferred != list(expert.inferred_concepts or []):
                expert.inferred_concepts = inferred
                outbox.expert_changed(session, expert.id)
                changed += 1
        await session.flush()
        return (experts[-1].id if experts else None), len(experts), changed

    async def list_page(self, session: AsyncSession, params: Any, **filters: Any) -> tuple[list[Expert], int]:
        return await repository.page(session, params, **filters)

    async def remind_due(self, session: AsyncSession, settings: Settings, now: datetime | None = None) -> int:
        """Notify the owners of profiles that turn stale within `expert_reminder_days`, once per confirmation."""
        now = now or utcnow()
        threshold = now - timedelta(days=settings.expert_stale_days - settings.expert_reminder_days)
        due = await repository.due_for_reminder(session, threshold)
        for expert in due:
            stale_on = expert.last_confirmed_at + timedelta(days=settings.expert_stale_days)
            session.add(
                Notification(
                    organization_id=expert.organization_id,
                    kind="expert_confirmation_due",
                    payload={"expert_id": str(expert.id), "name": expert.name, "stale_on": stale_on.isoformat()},
                    created_at=now,
                )
            )
            expert.reminder_sent_at = now
        await session.flush()
        return len(due)

    async def propose_from_orcid(self, settings: Settings, orcid: str) -> ExpertProposal:
        record = await OrcidClient(settings.orcid_api_url, settings.orcid_timeout_seconds).record(orcid)
        concepts = infer_concepts(*record.keywords, *record.works)
        return ExpertProposal(
            orcid=record.orcid,
            name=record.name,
            title=record.title,
            affiliation=record.affiliation,
            country=record.country,
            city=record.city,
            bio=record.biography,
            keywords=record.keywords,
            concepts=concepts,
            publications_count=record.publications_count,
            patents_count=record.patents_count,
            affiliations=record.affiliations,
            works=record.works,
            links=record.links,
        )

    # --- matching -----------------------------------------------------------------------

    async def _candidates(
        self, session: AsyncSession, backend: SearchBackend, need: Any, owner: Any
    ) -> dict[uuid.UUID, float]:
        """Experts whose public words or concepts meet the listing's, from the search index; without it, the
        most recently confirmed profiles."""
        relevance: dict[uuid.UUID, float] = {}
        try:
            found = await backend.search(
                EXPERTS,
                SearchQuery(
                    q=candidate_query(need, owner),
                    limit=CANDIDATES,
                    highlight=False,
                    match_any=True,
                    fuzzy=False,
                    with_total=False,
                    fields=EXPERT_TEXTS,
                ),
            )
            best = max((h.score or 0.0 for h in found.hits), default=0.0) or 1.0
            relevance = {uuid.UUID(h.id): (h.score or 0.0) / best for h in found.hits}
            concepts = tuple(dict.fromkeys([*(need.concepts or []), *(need.inferred_concepts or [])]))
            if concepts:
                tagged = await backend.search(
                    EXPERTS,
                    SearchQuery(
                        filters=(TermFilter(Fields.CONCEPTS, concepts),),
                        limit=CANDIDATES,
                        highlight=False,
                        with_total=False,
                    ),
                )
                for hit in tagged.hits:
                    relevance.setdefault(uuid.UUID(hit.id), 0.0)
                # experts on neighbouring topics of the same sub-fields: where a need and an expert write in
                # different languages, often the only bridge the taxonomy offers
                subfields = get_taxonomy().subfields
                own_subfields = subfields_of(narrowest(concepts))
                neighbours = tuple(c.id for code in sorted(own_subfields) for c in subfields[code].concepts)
                nearby = await backend.search(
                    EXPERTS,
                    SearchQuery(
                        filters=(TermFilter(Fields.CONCEPTS, tuple(neighbours)),),
                        limit=CANDIDATES,
                        highlight=False,
                        with_total=False,
                    ),
                )
                for hit in nearby.hits:
                    relevance.setdefault(uuid.UUID(hit.id), 0.0)
        except Exception as error:  # search down: rank the latest profiles from the database
            log.warning("expert_matching_without_search", error=repr(error))
            return {expert.id: 0.0 for expert in await repository.latest(session, CANDIDATES)}
        return relevance

    async def for_listing(
        self,
        session: AsyncSession,
        backend: SearchBackend,
        principal: Principal | None,
        settings: Settings,
        kind: ListingKind,
        listing_id: uuid.UUID,
        *,
        limit: int,
        min_score: float,
    ) -> tuple[Any, list[RankedExpert]]:
        """Experts who can solve this need or assess and help adopt this offer, best first."""
        listing, owner = await listing_service.get_for_viewer(session, principal, kind, listing_id)
        relevance = await self._candidates(session, backend, listing, owner)
        need = profile(listing, owner)
        # experts alike in meaning: where the texts are in different languages and no concept links them
        alike = await vectors.likeness(session, need.text, sorted(need.all_concepts))
        if alike is not None:
            for expert_id in alike.nearest(SEMANTIC_CANDIDATES):
                relevance.setdefault(expert_id, 0.0)
        experts = await repository.by_ids(session, list(relevance))
        helpful = await repository.helpful_consultations(session, list(experts))
        now = utcnow()
        profiles = [
            expert_profile(
                e,
                helpful.get(e.id, 0),
                now,
                settings.expert_stale_days,
                relevance[e.id],
                alike.of(e.id) if alike is not None else 0.0,
                alike.language_of(e.id) if alike is not None else None,
            )
            for e in experts.values()
            if e.organization_id != listing.organization_id and e.availability != "unavailable"
        ]
        ranked = rank_experts(need, profiles, limit=limit, min_score=min_score)
        return listing, [RankedExpert(m, experts[uuid.UUID(m.expert_id)]) for m in ranked]

    # --- consultation requests ----------------------------------------------------------

    async def request(
        self,
        session: AsyncSession,
        principal: Principal,
        settings: Settings,
        expert_id: uuid.UUID,
        payload: ConsultationCreate,
    ) -> ConsultationRequest:
        """An organisation asks an expert; capped per organisation per calendar month (UTC) against fishing
        for free advice. The expert's side is notified."""
        expert = await self.get(session, expert_id)
        if expert.organization_id == principal.organization_id:
            raise OwnExpertError()
        if expert.availability == "unavailable":
            raise ExpertUnavailableError()
        if payload.subject_kind in (SubjectKind.DEMAND, SubjectKind.OFFER):
            await listing_service.get_for_viewer(
                session,
                principal,
                ListingKind(payload.subject_kind.value),
                payload.subject_id,  # type: ignore[arg-type]
            )
        elif payload.subject_kind is SubjectKind.DEAL:
            await deal_service.get(session, principal, payload.subject_id)  # type: ignore[arg-type]
        now = utcnow()
        # Lock the requesting organisation's row: concurrent requests of one organisation count one after another.
        await organization_repository.get(session, principal.organization_id, lock=True)
        sent = await repository.requests_since(session, principal.organization_id, month_start(now))
        cap = settings.expert_requests_per_org_per_month
        if sent >= cap:
            resets_at = next_month_start(now)
            raise ConsultationCapReachedError(
                f"Your organisation has sent {sent} of {cap} consultation requests this month; "
                f"the count starts again at {resets_at.isoformat()}.",
                retry_after=int((resets_at - now).total_seconds()) + 1,
                cap=cap,
                resets_at=resets_at.isoformat(),
            )
        request = ConsultationRequest(
            expert_id=expert.id,
            expert_organization_id=expert.organization_id,
            requester_organization_id=principal.organization_id,
            requester_account_id=principal.account_id,
            subject_kind=payload.subject_kind.value if payload.subject_kind else None,
            subject_id=payload.subject_id,
            message=payload.message,
            status=ConsultationStatus.PENDING.value,
            created_at=now,
            updated_at=now,
        )
        session.add(request)
        await session.flush()
        session.add(
            Notification(
                organization_id=expert.organization_id,
                kind="consultation_requested",
                payload={"consultation_id": str(request.id), "expert_id": str(expert.id), "status": "pending"},
                created_at=now,
            )
        )
        webhooks.emit(session, expert.organization_id, "expert.consultation_requested", request.id, expert_id=expert.id)
        return request

    def _is_expert_side(self, principal: Principal, request: ConsultationRequest, expert: Expert | None) -> bool:
        if principal.organization_id == request.expert_organization_id:
            return True
        return expert is not None and expert.account_id is not None and principal.account_id == expert.account_id

    async def get_request(
        self, session: AsyncSession, principal: Principal, request_id: uuid.UUID, *, lock: bool = False
    ) -> tuple[ConsultationRequest, Expert | None]:
        """The two sides and moderators see a request; others get 404."""
        request = await repository.get_request(session, request_id, lock=lock)
        if request is None:
            raise ConsultationNotFoundError()
        expert = await repository.get(session, request.expert_id)
        parties = principal.organization_id == request.requester_organization_id or self._is_expert_side(
            principal, request, expert
        )
        if not (parties or principal.is_staff):
            raise ConsultationNotFoundError()
        return request, expert

    async def answer(
        self,
        session: AsyncSession,
        principal: Principal,
        request_id: uuid.UUID,
        accept: bool,
        reason: str | None = None,
    ) -> ConsultationRequest:
        request, expert = await self.get_request(session, principal, request_id, lock=True)
        if not self._is_expert_side(principal, request, expert):
            raise NotTheExpertError()
        if request.status != ConsultationStatus.PENDING.value:
            raise ConsultationStateError(f"The request is already {request.status}.")
        now = utcnow()
        request.status = (ConsultationStatus.ACCEPTED if accept else ConsultationStatus.DECLINED).value
        request.decline_reason = None if accept else reason
        request.responded_at = now
        session.add(
            Notification(
                organization_id=request.requester_organization_id,
                kind="consultation_answered",
                payload={
                    "consultation_id": str(request.id),
                    "expert_id": str(request.expert_id),
                    "status": request.status,
                },
                created_at=now,
            )
        )
        await session.flush()
        return request

    async def record_outcome(
        self, session: AsyncSession, principal: Principal, request_id: uuid.UUID, payload: ConsultationOutcomeUpdate
    ) -> ConsultationRequest:
        """Either side records what came of an accepted request; the last word stands."""
        request, _expert = await self.get_request(session, principal, request_id, lock=True)
        if request.status != ConsultationStatus.ACCEPTED.value:
            raise ConsultationStateError("Only an accepted request has an outcome.")
        request.outcome, request.outcome_note, request.outcome_at = payload.outcome.value, payload.note, utcnow()
        await session.flush()
        return request

    async def requests(
        self, session: AsyncSession, principal: Principal, params: Any, role: str | None
    ) -> tuple[list[ConsultationRequest], int]:
        scope = None if principal.is_staff and role is None else principal.organization_id
        return await repository.requests_page(session, scope, params, role=role)

    async def present_requests(
        self, session: AsyncSession, principal: Principal, requests: list[ConsultationRequest]
    ) -> list[ConsultationRead]:
        """Contact details go to the requester (and the expert's side) only once the expert accepted."""
        names = await repository.names(session, {r.requester_organization_id for r in requests})
        experts = await repository.by_ids(session, list({r.expert_id for r in requests}))
        out = []
        for request in requests:
            expert = experts.get(request.expert_id)
            party = principal.organization_id == request.requester_organization_id or self._is_expert_side(
                principal, request, expert
            )
            revealed = request.status == ConsultationStatus.ACCEPTED.value and party and expert is not None
            out.append(
                ConsultationRead(
                    id=request.id,
                    expert_id=request.expert_id,
                    expert_name=expert.name if expert else "",
                    expert_organization_id=request.expert_organization_id,
                    requester_organization_id=request.requester_organization_id,
                    requester_organization_name=names.get(request.requester_organization_id, ""),
                    subject_kind=request.subject_kind,
                    subject_id=request.subject_id,
                    message=request.message,
                    status=request.status,
                    decline_reason=request.decline_reason,
                    expert_contact=contact_of(expert) if revealed else None,
                    outcome=request.outcome,
                    outcome_note=request.outcome_note,
                    created_at=request.created_at,
                    responded_at=request.responded_at,
                    outcome_at=request.outcome_at,
                )
            )
        return out


expert_service = ExpertService()
