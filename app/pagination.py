"""One list envelope for every list: `Page[T]{items, total, page, limit, next_cursor}` and `Link` headers.

Every list takes `limit` (1–100) and either `page` (1–10,000) or the opaque `cursor` of the page
before (`next_cursor`, or the `Link: <…>; rel="next"` header, RFC 8288). Lists that only grow while
being read — messages, notifications, the audit trail — hand out *keyset* cursors: the next page
starts after the last item seen, so nothing is skipped or repeated when items arrive in between.
Elsewhere a cursor simply names the next page number.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar
from urllib.parse import urlencode

from fastapi import Depends, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import Field
from sqlalchemy import Select, bindparam, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from app.schema_base import NamedGeneric, ResponseModel

T = TypeVar("T")
PageT = TypeVar("PageT", bound="Page[Any]")
MAX_LIMIT = 100
# Deep offsets cost a scan of every row before them, and an unbounded page overflows the 64-bit
# OFFSET of the database: page × limit stays within 1,000,000. Narrow the filters to reach further.
MAX_PAGE = 10_000
MAX_CURSOR = 200
MAX_VALUES = 20  # values one multi-value filter takes
ANY_OF = "Repeat the parameter to accept any of several values (`?status=a&status=b`)."


Keyset = tuple[datetime, uuid.UUID]
"""A position in a list ordered by (time, id)."""


@dataclass(frozen=True)
class PageParams:
    page: int = 1
    limit: int = 20
    after: Keyset | None = None  # keyset position: the last item of the page before

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.limit


def encode_cursor(value: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value, separators=(",", ":")).encode()).decode().rstrip("=")


def _invalid_cursor(reason: str) -> RequestValidationError:
    return RequestValidationError([{"loc": ("query", "cursor"), "msg": reason, "type": "cursor_invalid"}])


def _decode_cursor(cursor: str, keyset: bool) -> PageParams | Keyset:
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if isinstance(data, dict) and "p" in data and isinstance(data["p"], int) and 1 <= data["p"] <= MAX_PAGE:
            return PageParams(page=data["p"])
        if keyset and isinstance(data, dict) and isinstance(data.get("a"), list) and len(data["a"]) == 2:
            at = datetime.fromisoformat(data["a"][0])
            if at.tzinfo is None:
                raise ValueError
            return at, uuid.UUID(data["a"][1])
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        pass
    raise _invalid_cursor("not a cursor of this list; use the `next_cursor` of its previous page")


def _params(page: int, limit: int, cursor: str | None, keyset: bool) -> PageParams:
    if cursor is None:
        return PageParams(page=page, limit=limit)
    if page != 1:
        raise RequestValidationError(
            [{"loc": ("query", "page"), "msg": "give either `page` or `cursor`", "type": "page_and_cursor"}]
        )
    decoded = _decode_cursor(cursor, keyset)
    if isinstance(decoded, PageParams):
        return PageParams(page=decoded.page, limit=limit)
    return PageParams(page=1, limit=limit, after=decoded)


PageNumber = Annotated[int, Query(ge=1, le=MAX_PAGE, description=f"Page number, from 1 to {MAX_PAGE}.")]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"Items per page, 1 to {MAX_LIMIT}.")]
Cursor = Annotated[
    str | None,
    Query(
        max_length=MAX_CURSOR,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="The `next_cursor` of the previous page (instead of `page`).",
    ),
]


def page_params(page: PageNumber = 1, limit: Limit = 20, cursor: Cursor = None) -> PageParams:
    return _params(page, limit, cursor, keyset=False)


def _keyset_params(page: PageNumber = 1, limit: Limit = 20, cursor: Cursor = None) -> PageParams:
    return _params(page, limit, cursor, keyset=True)


PageDep = Annotated[PageParams, Depends(page_params)]
KeysetPageDep = Annotated[PageParams, Depends(_keyset_params)]
"""For lists that grow while read: its cursors continue after the last item seen."""


def values(chosen: Sequence[Any] | None) -> list[str] | None:
    """The plain values of a multi-value filter; None when not filtered."""
    return [getattr(v, "value", v) for v in chosen] if chosen else None


class Page(ResponseModel, NamedGeneric, Generic[T]):
    items: list[T]
    total: int = Field(description="Items matching, over all pages.")
    page: int | None = Field(description="This page's number; null when reached by a keyset cursor.")
    limit: int
    next_cursor: str | None = Field(
        description='Pass as `cursor` for the next page (the `Link` header\'s `rel="next"` too); null on the last.'
    )

    @classmethod
    def model_parametrized_name(cls, params: tuple[Any, ...]) -> str:
        """`OfferPage` for `Page[OfferRead]`: the name clients see in the OpenAPI document."""
        return f"{params[0].__name__.removesuffix('Read')}Page"

    @classmethod
    def of(
        cls,
        items: Sequence[T],
        total: int,
        params: PageParams,
        *,
        last_key: Keyset | None = None,
    ) -> Page[T]:
        """`last_key`: the keyset position of the last item when the list continues after it."""
        if last_key is not None:
            cursor: str | None = encode_cursor({"a": [last_key[0].isoformat(), str(last_key[1])]})
        elif params.after is None and params.page * params.limit < total and params.page < MAX_PAGE:
            cursor = encode_cursor({"p": params.page + 1})
        else:
            cursor = None
        return cls(
            items=list(items),
            total=total,
            page=None if params.after is not None else params.page,
            limit=params.limit,
            next_cursor=cursor,
        )


def link_header(request: Request, response: Response, page: Page[Any]) -> None:
    """`Link` with `rel="next"` (and `rel="prev"` by page number), RFC 8288."""
    query = [(k, v) for k, v in request.query_params.multi_items() if k not in ("page", "cursor")]
    links = []
    if page.next_cursor is not None:
        links.append(f'<{request.url.replace(query=urlencode([*query, ("cursor", page.next_cursor)]))}>; rel="next"')
    if page.page is not None and page.page > 1:
        links.append(f'<{request.url.replace(query=urlencode([*query, ("page", page.page - 1)]))}>; rel="prev"')
    if links:
        response.headers["Link"] = ", ".join(links)


class Links:
    """A route's way to answer a page with its `Link` header: `return links(Page.of(...))`."""

    def __init__(self, request: Request, response: Response) -> None:
        self.request = request
        self.response = response

    def __call__(self, page: PageT) -> PageT:
        link_header(self.request, self.response, page)
        return page


async def links_for(request: Request, response: Response) -> Links:
    """`Links` as an async dependency: FastAPI runs a class or plain function dependency in a worker
    thread, a hop per request that costs more than the work on a loaded machine."""
    return Links(request, response)


LinksDep = Annotated[Links, Depends(links_for)]


def window(rows: Sequence[T], params: PageParams) -> tuple[list[T], int]:
    """One page of a list held in memory, and its length."""
    return list(rows[params.offset : params.offset + params.limit]), len(rows)


async def paginate(session: AsyncSession, statement: Select, params: PageParams) -> tuple[list, int]:
    """Rows of one page and the total count of the statement (for repositories)."""
    total = await session.scalar(select(func.count()).select_from(statement.order_by(None).subquery()))
    rows = (await session.scalars(statement.limit(params.limit).offset(params.offset))).all()
    return list(rows), int(total or 0)


async def paginate_keyset(
    session: AsyncSession,
    statement: Select,
    params: PageParams,
    key: tuple[Any, Any],
    *,
    descending: bool,
) -> tuple[list, int, Keyset | None]:
    """Rows after the cursor's position in (time, id) order, the total, and the next position when
    more follow. `statement` is unordered; this orders it."""
    total = await session.scalar(select(func.count()).select_from(statement.order_by(None).subquery()))
    if params.after is not None:
        position = tuple_(*key)
        bound = tuple_(
            *(bindparam(None, value, type_=column.type) for column, value in zip(key, params.after, strict=True))
        )
        statement = statement.where(position < bound if descending else position > bound)
    else:
        statement = statement.offset(params.offset)
    ordered = statement.order_by(*(column.desc() if descending else column.asc() for column in key))
    rows = list((await session.scalars(ordered.limit(params.limit + 1))).all())
    more = len(rows) > params.limit
    rows = rows[: params.limit]
    return rows, int(total or 0), _key(rows[-1], key) if more and rows else None


def _key(row: Any, key: tuple[Any, Any]) -> Keyset:
    return getattr(row, key[0].key), getattr(row, key[1].key)
