"""The files of documents deleted with the record they belong to.

Deleting a listing or an organisation deletes its documents' rows in the database (`ondelete="CASCADE"`),
without the documents service ever seeing them; their files would stay in the document storage forever. So
the deletion calls `remove_files_with` first. (Deals and service requests are never deleted on their own.)

A module of its own: the documents service depends on the listings and organisations services that call this.
"""

from __future__ import annotations

from functools import partial

from sqlalchemy.ext.asyncio import AsyncSession

from app.db import on_commit
from app.documents import repository
from app.documents.storage import DocumentStorage
from app.models import Listing, Organization


async def remove_files_with(session: AsyncSession, storage: DocumentStorage, owner: Listing | Organization) -> None:
    """Remove the files of `owner`'s documents once its deletion commits (never if it rolls back).

    Call it before the deletion is flushed: the rows it reads are gone after."""
    for key in await repository.storage_keys_deleted_with(session, owner):
        on_commit(session, partial(storage.delete, key))
