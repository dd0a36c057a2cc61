"""Page-number pagination: `PageParams` in, `Page[T]` out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import Field
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.schema_base import NamedGeneric, ResponseModel

T = TypeVar("T")
MAX_LIMIT = 100
# Deep offsets cost a scan of every row before them, and an unbounded page overflows the 64-bit
# OFFSET of the database: page × limit stays within 1,000,000. Narrow the filters to reach further.
MAX_PAGE = 10_000


@dataclass(frozen=True)
class PageParams:
    page: int = 1
    limit: int = 20

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.limit


def _page_params(
    page: Annotated[int, Query(ge=1, le=MAX_PAGE, description=f"Page number, from 1 to {MAX_PAGE}.")] = 1,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page.")] = 20,
) -> PageParams:
    return PageParams(page=page, limit=limit)


PageDep = Annotated[PageParams, Depends(_page_params)]


class Page(ResponseModel, NamedGeneric, Generic[T]):
    items: list[T]
    total: int = Field(description="Items matching, over all pages.")
    page: int
    limit: int

    @classmethod
    def model_parametrized_name(cls, params: tuple[Any, ...]) -> str:
        """`OfferPage` for `Page[OfferRead]`: the name clients see in the OpenAPI document."""
        return f"{params[0].__name__.removesuffix('Read')}Page"

    @classmethod
    def of(cls, items: list[T], total: int, params: PageParams) -> Page[T]:
        return cls(items=items, total=total, page=params.page, limit=params.limit)


async def paginate(session: AsyncSession, statement: Select, params: PageParams) -> tuple[list, int]:
    """Rows of one page and the total count of the statement (for repositories)."""
    total = await session.scalar(select(func.count()).select_from(statement.order_by(None).subquery()))
    rows = (await session.scalars(statement.limit(params.limit).offset(params.offset))).all()
    return list(rows), int(total or 0)
