"""Dependencies shared by the routers: the unit of work and (later) the principal."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import get_session

# scope="function": the commit happens before the response is sent, so a client
# never sees 201 for a write that failed to commit.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
