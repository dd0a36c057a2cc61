"""Full-text search over offers, demands and organisations, with filters, facets and highlights."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import StringConstraints

from app.api.deps import SessionDep, SettingsDep
from app.api.idempotency import ExchangeRoute
from app.api.openapi import declare_problems
from app.errors import InvalidInputError, problem_responses
from app.experts.schemas import ExpertOffer
from app.listings.schemas import IpStatus, TransferType
from app.organizations.schemas import IntermediaryService, OrganizationKind
from app.pagination import ANY_OF, MAX_LIMIT, MAX_VALUES, Cursor, Links, LinksDep, Page, PageParams, page_params
from app.search.backend import SearchBackend, SearchResult
from app.search.documents import Fields
from app.search.index_config import DEMANDS, EXPERTS, OFFERS, ORGANIZATIONS
from app.search.schemas import (
    ExpertSearchResponse,
    ListingSearchResponse,
    OrganizationSearchResponse,
    SearchSort,
    SearchStatus,
)
from app.search.service import SearchParams, SearchUnavailableProblem, search_service
from app.validation import Timestamp
from app.vocabulary import FieldCode, Language

router = APIRouter(prefix="/search", tags=["search"], route_class=ExchangeRoute)
ERRORS = problem_responses(422, 503)


async def get_search_backend(request: Request) -> SearchBackend:
    """The search dependencies are async: FastAPI runs a plain function dependency in a worker thread,
    a hop per request that costs more than the work itself on a loaded machine."""
    backend: SearchBackend = request.app.state.search
    return backend


SearchDep = Annotated[SearchBackend, Depends(get_search_backend)]
Q = Annotated[
    str, Query(max_length=200, description="Words to find; diacritics optional, typos tolerated, last word a prefix.")
]
Facets = Annotated[str | None, Query(max_length=300, description="Comma-separated facet names, e.g. `field,trl`.")]
MAX_SEARCH_PAGE = 1000
PageQ = Annotated[int, Query(ge=1, le=MAX_SEARCH_PAGE)]
Values = Query(max_length=MAX_VALUES, description=ANY_OF)
Country = Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{2}$")]
Province = Annotated[str, StringConstraints(max_length=128)]
LimitQ = Annotated[int, Query(ge=1, le=MAX_LIMIT)]


def _facets(value: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (value or "").split(",") if part.strip())


def _terms(**values: object) -> tuple[tuple[str, tuple[str | bool, ...]], ...]:
    """Exact-value filters, by document field: a list matches any of its values; None means "not filtered"."""
    out = []
    for field, value in values.items():
        if value is None or value == []:
            continue
        plains = [v.value if hasattr(v, "value") else v for v in (value if isinstance(value, list) else [value])]
        out.append((field, tuple(dict.fromkeys(p if isinstance(p, bool) else str(p) for p in plains))))
    return tuple(out)


def _upper(values: list[str] | None) -> list[str] | None:
    return [v.upper() for v in values] if values else None


def _page(page: int, limit: int, cursor: str | None) -> PageParams:
    params = page_params(page, limit, cursor)
    if params.page > MAX_SEARCH_PAGE:
        raise RequestValidationError(
            [{"loc": ("query", "cursor"), "msg": f"search pages end at {MAX_SEARCH_PAGE}", "type": "less_than_equal"}]
        )
    return params


async def _listing_params(
    q: Q = "",
    field: Annotated[list[FieldCode] | None, Values] = None,
    concept: Annotated[list[Annotated[str, StringConstraints(max_length=64)]] | None, Values] = None,
    trl_min: Annotated[int | None, Query(ge=1, le=9)] = None,
    trl_max: Annotated[int | None, Query(ge=1, le=9)] = None,
    ip_status: Annotated[list[IpStatus] | None, Values] = None,
    transfer_type: Annotated[list[TransferType] | None, Values] = None,
    owner_kind: Annotated[list[OrganizationKind] | None, Values] = None,
    organization_id: Annotated[list[uuid.UUID] | None, Values] = None,
    country: Annotated[list[Country] | None, Values] = None,
    province: Annotated[list[Province] | None, Values] = None,
    language: Annotated[list[Language] | None, Values] = None,
    proposed_for_city: Annotated[bool | None, Query()] = None,
    source: Annotated[
        list[Annotated[str, StringConstraints(max_length=64)]] | None,
        Query(max_length=MAX_VALUES, description="Provenance: `local`, or an import or harvest source. Any of."),
    ] = None,
    created_from: Annotated[Timestamp | None, Query()] = None,
    created_to: Annotated[Timestamp | None, Query()] = None,
    updated_from: Annotated[Timestamp | None, Query()] = None,
    updated_to: Annotated[Timestamp | None, Query()] = None,
    facets: Facets = None,
    sort: Annotated[SearchSort, Query()] = SearchSort.RELEVANCE,
    page: PageQ = 1,
    limit: LimitQ = 20,
    cursor: Cursor = None,
    highlight: Annotated[bool, Query(description="Mark matched words in title and summary.")] = True,
) -> SearchParams:
    page = _page(page, limit, cursor).page
    return SearchParams(
        q=q,
        terms=_terms(
            **{
                Fields.FIELD: field,
                Fields.CONCEPTS: concept,
                Fields.IP_STATUS: ip_status,
                Fields.TRANSFER_TYPES: transfer_type,
                Fields.OWNER_KIND: owner_kind,
                Fields.OWNER_ID: organization_id,
                Fields.COUNTRY: _upper(country),
                Fields.PROVINCE: province,
                Fields.LANGUAGE: language,
                Fields.PROPOSED: proposed_for_city,
                Fields.SOURCE: source,
            }
        ),
        trl_min=trl_min,
        trl_max=trl_max,
        created_from=created_from,
        created_to=created_to,
        updated_from=updated_from,
        updated_to=updated_to,
        facets=_facets(facets),
        sort=sort,
        page=page,
        limit=limit,
        highlight=highlight,
    )


async def _organization_params(
    q: Q = "",
    kind: Annotated[list[OrganizationKind] | None, Values] = None,
    country: Annotated[list[Country] | None, Values] = None,
    province: Annotated[list[Province] | None, Values] = None,
    sector: Annotated[list[FieldCode] | None, Values] = None,
    service: Annotated[list[IntermediaryService] | None, Values] = None,
    verified: Annotated[bool | None, Query()] = None,
    facets: Facets = None,
    sort: Annotated[SearchSort, Query()] = SearchSort.RELEVANCE,
    page: PageQ = 1,
    limit: LimitQ = 20,
    cursor: Cursor = None,
    highlight: Annotated[bool, Query()] = True,
) -> SearchParams:
    page = _page(page, limit, cursor).page
    return SearchParams(
        q=q,
        terms=_terms(
            **{
                Fields.OWNER_KIND: kind,
                Fields.COUNTRY: _upper(country),
                Fields.PROVINCE: province,
                Fields.SECTORS: sector,
                Fields.SERVICES: service,
                Fields.VERIFIED: verified,
            }
        ),
        facets=_facets(facets),
        sort=sort,
        page=page,
        limit=limit,
        highlight=highlight,
    )


def _expert_params(
    q: Q = "",
    country: Annotated[list[Country] | None, Values] = None,
    overseas_vietnamese: Annotated[bool | None, Query(description="Only overseas Vietnamese (or only not).")] = None,
    concept: Annotated[list[Annotated[str, StringConstraints(max_length=64)]] | None, Values] = None,
    offer: Annotated[list[ExpertOffer] | None, Values] = None,
    language: Annotated[
        list[Annotated[str, StringConstraints(pattern=r"^[a-z]{2}$")]] | None,
        Query(max_length=MAX_VALUES, description=f"A working language the expert made public (ISO 639-1). {ANY_OF}"),
    ] = None,
    facets: Annotated[
        str | None,
        Query(
            max_length=300, description="Comma-separated: country, overseas_vietnamese, concepts, offers, languages."
        ),
    ] = None,
    sort: Annotated[SearchSort, Query(description="relevance, or by date (newest, recently updated).")] = (
        SearchSort.RELEVANCE
    ),
    page: PageQ = 1,
    limit: LimitQ = 20,
    cursor: Cursor = None,
    highlight: Annotated[bool, Query(description="Mark matched words in name, title and headline.")] = True,
) -> SearchParams:
    page = _page(page, limit, cursor).page
    return SearchParams(
        q=q,
        terms=_terms(
            **{
                Fields.COUNTRY: _upper(country),
                Fields.OVERSEAS: overseas_vietnamese,
                Fields.CONCEPTS: concept,
                Fields.OFFERS: offer,
                Fields.LANGUAGES: language,
            }
        ),
        facets=_facets(facets),
        sort=sort,
        page=page,
        limit=limit,
        highlight=highlight,
    )


def _response(result: SearchResult, params: SearchParams, links: Links) -> dict[str, object]:
    page = Page[object].of([], result.total, PageParams(page=params.page, limit=params.limit))
    if params.page >= MAX_SEARCH_PAGE:
        page.next_cursor = None
    links(page)
    return {
        "items": [
            {"id": h.id, "score": h.score, "document": h.document, "highlights": h.highlights} for h in result.hits
        ],
        "total": result.total,
        "page": params.page,
        "limit": params.limit,
        "next_cursor": page.next_cursor,
        "facets": result.facets,
        "processing_time_ms": result.processing_ms,
        "query": params.q,
    }


@router.get("/offers", summary="Search offers", response_model=ListingSearchResponse, responses=ERRORS)
async def search_offers(
    backend: SearchDep, params: Annotated[SearchParams, Depends(_listing_params)], links: LinksDep
) -> dict[str, object]:
    """Published, unexpired technology offers matching the words and filters, with facet counts."""
    return _response(await search_service.search(backend, OFFERS, params), params, links)


@router.get("/demands", summary="Search demands", response_model=ListingSearchResponse, responses=ERRORS)
async def search_demands(
    backend: SearchDep, params: Annotated[SearchParams, Depends(_listing_params)], links: LinksDep
) -> dict[str, object]:
    """Published, unexpired technology demands matching the words and filters, with facet counts."""
    return _response(await search_service.search(backend, DEMANDS, params), params, links)


@router.get(
    "/organizations", summary="Search organisations", response_model=OrganizationSearchResponse, responses=ERRORS
)
async def search_organizations(
    backend: SearchDep, params: Annotated[SearchParams, Depends(_organization_params)], links: LinksDep
) -> dict[str, object]:
    """Organisations by name and description, filtered by kind, place, sector, services."""
    return _response(await search_service.search(backend, ORGANIZATIONS, params), params, links)


@router.get("/experts", summary="Search experts", response_model=ExpertSearchResponse, responses=ERRORS)
async def search_experts(
    backend: SearchDep,
    params: Annotated[SearchParams, Depends(_expert_params)],
    links: LinksDep,
    settings: SettingsDep,
) -> dict[str, object]:
    """Experts by name, expertise (in any of vi, en, ja: concepts bridge the languages), headline and public
    profile words, filtered and faceted by country, overseas Vietnamese, concepts, offers and languages;
    profiles not confirmed for 12 months rank below comparable ones and are flagged `stale`."""
    result = await search_service.search(backend, EXPERTS, params, stale_days=settings.expert_stale_days)
    return _response(result, params, links)


@router.get("/status", summary="Search backend and index status", response_model=SearchStatus)
async def get_search_status(backend: SearchDep, session: SessionDep) -> SearchStatus:
    """Backend health, documents per index, and the outbox lag (changes not yet searchable)."""
    return await search_service.status(session, backend)


declare_problems(
    router,
    {
        "search_offers": [InvalidInputError, SearchUnavailableProblem],
        "search_demands": [InvalidInputError, SearchUnavailableProblem],
        "search_organizations": [InvalidInputError, SearchUnavailableProblem],
        "search_experts": [InvalidInputError, SearchUnavailableProblem],
    },
)
