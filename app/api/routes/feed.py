"""The change feed other exchanges harvest, and an Atom feed of new listings for people."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from app.api.deps import SessionDep, SettingsDep
from app.api.idempotency import ExchangeRoute
from app.api.openapi import declare_problems
from app.errors import InvalidInputError, problem_responses
from app.integration import feed, repository
from app.integration.atom import listings_atom
from app.integration.schemas import FeedEntry
from app.listings.visibility import owner_visible
from app.models.base import utcnow
from app.pagination import MAX_CURSOR, Limit, LinksDep, Page
from app.validation import Timestamp

router = APIRouter(prefix="/feed", tags=["feed"], route_class=ExchangeRoute)
ATOM_MEDIA_TYPE = "application/atom+xml"
ATOM_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {ATOM_MEDIA_TYPE: {"schema": {"type": "string"}, "example": "<feed xmlns=…>…</feed>"}}}
}


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


@router.get(
    "/changes", summary="Read the change feed", response_model=Page[FeedEntry], responses=problem_responses(422)
)
async def list_changes(
    request: Request,
    session: SessionDep,
    links: LinksDep,
    since: Annotated[
        Timestamp | None, Query(alias="from", description="Only records whose latest change is at or after this time.")
    ] = None,
    until: Annotated[
        Timestamp | None, Query(description="Only records whose latest change is at or before this time.")
    ] = None,
    cursor: Annotated[
        str | None,
        Query(
            max_length=MAX_CURSOR,
            pattern=r"^[A-Za-z0-9_-]+$",
            description="Resume after the entry that carried this `cursor` (or the page's `next_cursor`).",
        ),
    ] = None,
    limit: Limit = 100,
) -> Page[FeedEntry]:
    """This exchange's public offers, demands and organisations, each once at its latest change, oldest change
    first; tombstones (`deleted`) for records withdrawn, expired or deleted; resumable from any entry's cursor."""
    page = await feed.changes(session, base_url(request), cursor=cursor, since=since, until=until, limit=limit)
    return links(page)


@router.get(
    "/listings.atom",
    summary="Atom feed of new listings",
    response_class=Response,
    responses={**ATOM_RESPONSE, **problem_responses(422)},
)
async def get_listings_atom(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    """The 50 most recently published offers and demands as an Atom feed; anonymous listings name no owner."""
    rows = await repository.newest_published(session, utcnow(), 50)
    named = [(listing, owner, owner.name if owner_visible(listing, None) else "") for listing, owner in rows]
    content = listings_atom(base_url(request), f"{settings.open_data_publisher}: new listings", named)
    return Response(content, media_type=ATOM_MEDIA_TYPE)


declare_problems(router, {"list_changes": [InvalidInputError]})
