"""Open data: the DCAT catalogue, CSV with CSV on the Web metadata, JSON Lines, and schema.org JSON-LD of
each listing; public, and only what the public listing shows."""

# No `from __future__ import annotations`: the JSON-LD handlers are built in a closure, and FastAPI must
# resolve their annotations at runtime.

import json
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from app.api.deps import SessionDep, SettingsDep
from app.api.idempotency import ExchangeRoute
from app.api.openapi import declare_headers, declare_problems
from app.api.routes.feed import base_url
from app.errors import problem_responses
from app.integration import open_data, repository
from app.integration.public import listing_record, organization_record
from app.listings.exceptions import ListingNotFoundError
from app.listings.schemas import ListingKind
from app.listings.service import listing_service
from app.models.base import utcnow

router = APIRouter(prefix="/open-data", tags=["open-data"], route_class=ExchangeRoute)
listing_router = APIRouter(tags=["open-data"], route_class=ExchangeRoute)

Dataset = Annotated[Literal["offers", "demands", "organizations"], Path(description="The dataset.")]
BATCH = 500
JSONLD = "application/ld+json"
CSVM = "application/csvm+json"
JSONL = "application/jsonl"
CSV = "text/csv; charset=utf-8"


def _content(media_type: str, example: str | dict[str, Any]) -> dict[int | str, dict[str, Any]]:
    schema = {"type": "object"} if isinstance(example, dict) else {"type": "string"}
    return {200: {"content": {media_type: {"schema": schema, "example": example}}}}


async def _records(session: AsyncSession, dataset: str) -> AsyncIterator[dict[str, Any]]:
    """The dataset's public records, a batch at a time."""
    after: uuid.UUID | None = None
    now = utcnow()
    while True:
        if dataset == "organizations":
            organizations = await repository.organizations_batch(session, after, BATCH)
            for organization in organizations:
                yield organization_record(organization)
            if len(organizations) < BATCH:
                return
            after = organizations[-1].id
        else:
            rows = await repository.public_listings_batch(session, dataset.removesuffix("s"), now, after, BATCH)
            for listing, owner in rows:
                yield listing_record(listing, owner)
            if len(rows) < BATCH:
                return
            after = rows[-1][0].id


@router.get(
    "/catalog.jsonld",
    summary="DCAT catalogue of the open data",
    response_class=Response,
    responses=_content(JSONLD, {"@type": "dcat:Catalog", "dcat:dataset": []}),
)
async def get_open_data_catalog(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    """A DCAT 3 catalogue as JSON-LD: the datasets (offers, demands, organisations, market statistics), their
    licence, publisher, update frequency and distributions."""
    modified = await repository.last_change(session) or utcnow()
    document = open_data.catalog(base_url(request), settings, modified)
    return Response(json.dumps(document, ensure_ascii=False), media_type=JSONLD)


@router.get(
    "/{dataset}.csv",
    summary="Download a dataset as CSV",
    response_class=Response,
    responses={**_content("text/csv", "id,reference,title,…\r\n"), **problem_responses(422)},
)
async def get_open_data_csv(dataset: Dataset, session: SessionDep) -> Response:
    """The dataset as CSV (RFC 4180, UTF-8), described by `{dataset}.csv-metadata.json`."""
    parts = [open_data.csv_header(dataset)]
    batch: list[dict[str, Any]] = []
    async for record in _records(session, dataset):
        batch.append(record)
        if len(batch) == BATCH:
            parts.append(open_data.csv_rows(dataset, batch))
            batch = []
    parts.append(open_data.csv_rows(dataset, batch))
    return Response(
        "".join(parts),
        media_type=CSV,
        headers={
            "Content-Disposition": f'attachment; filename="{dataset}.csv"',
            "Link": f'<{dataset}.csv-metadata.json>; rel="describedby"; type="{CSVM}"',
        },
    )


@router.get(
    "/{dataset}.csv-metadata.json",
    summary="CSV on the Web metadata of a dataset",
    response_class=Response,
    responses={
        **_content(CSVM, {"@context": "http://www.w3.org/ns/csvw", "url": "offers.csv"}),
        **problem_responses(422),
    },
)
async def get_open_data_csv_metadata(dataset: Dataset, request: Request, settings: SettingsDep) -> Response:
    """The W3C CSVW metadata of `{dataset}.csv`: columns, datatypes, primary key, licence."""
    document = open_data.csvw_metadata(dataset, base_url(request), settings)
    return Response(json.dumps(document, ensure_ascii=False), media_type=CSVM)


@router.get(
    "/{dataset}.jsonl",
    summary="Download a dataset as JSON Lines",
    response_class=Response,
    responses={**_content(JSONL, '{"id": "…", "title": "…"}\n'), **problem_responses(422)},
)
async def get_open_data_jsonl(dataset: Dataset, session: SessionDep) -> Response:
    """The dataset's public records, one JSON object per line (the API's read model less personal data)."""
    records = [record async for record in _records(session, dataset)]
    return Response(
        open_data.json_lines(records),
        media_type=JSONL,
        headers={"Content-Disposition": f'attachment; filename="{dataset}.jsonl"'},
    )


def _listing_jsonld(kind: ListingKind) -> Any:
    noun = kind.value

    async def get_listing_jsonld(
        listing_id: Annotated[uuid.UUID, Path(alias=f"{noun}_id")],
        request: Request,
        session: SessionDep,
    ) -> Response:
        listing, owner = await listing_service.get_for_viewer(session, None, kind, listing_id)
        url = f"{base_url(request)}/api/v1/{noun}s/{listing.id}"
        document = open_data.schema_org(listing_record(listing, owner), url)
        return Response(json.dumps(document, ensure_ascii=False), media_type=JSONLD)

    return get_listing_jsonld


_SCHEMA_TYPE = {ListingKind.OFFER: "Offer", ListingKind.DEMAND: "Demand"}
for _kind in ListingKind:
    listing_router.add_api_route(
        f"/{_kind.value}s/{{{_kind.value}_id}}.jsonld",
        _listing_jsonld(_kind),
        methods=["GET"],
        name=f"get_{_kind.value}_jsonld",
        summary=f"Get {'an' if _kind is ListingKind.OFFER else 'a'} {_kind.value} as schema.org JSON-LD",
        description=f"The published {_kind.value} as a schema.org `{_SCHEMA_TYPE[_kind]}` with the technology as "
        "`itemOffered`; what the public sees, whoever asks.",
        response_class=Response,
        responses={
            **_content(JSONLD, {"@context": "https://schema.org", "@type": "Offer"}),
            **problem_responses(404, 422),
        },
    )

declare_problems(
    listing_router, {"get_offer_jsonld": [ListingNotFoundError], "get_demand_jsonld": [ListingNotFoundError]}
)
declare_headers(
    router, {"get_open_data_csv": ["Content-Disposition", "Link"], "get_open_data_jsonl": ["Content-Disposition"]}
)
