"""Where documents' bytes live: one interface over the local filesystem and S3-compatible object storage.

Both backends are obstore stores (`LocalStore`, `S3Store`), so the code that reads and writes is the same
whichever is configured; keys are opaque (the document's id), never the uploaded file name.
"""

from __future__ import annotations

import contextlib
from typing import Protocol

import obstore
from obstore.store import LocalStore, S3Store

from app.config import DocumentStorageKind, Settings


class DocumentStorage(Protocol):
    async def put(self, key: str, data: bytes, content_type: str) -> None: ...

    async def get(self, key: str) -> bytes: ...

    async def delete(self, key: str) -> None: ...


class ObjectStorage:
    """A `DocumentStorage` over any obstore store."""

    def __init__(self, store: LocalStore | S3Store) -> None:
        self.store = store

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        # the local filesystem keeps no attributes; the database keeps the checked type either way
        attributes = {"Content-Type": content_type} if isinstance(self.store, S3Store) else None
        await obstore.put_async(self.store, key, data, attributes=attributes)

    async def get(self, key: str) -> bytes:
        result = await obstore.get_async(self.store, key)
        return bytes(await result.bytes_async())

    async def delete(self, key: str) -> None:
        """Idempotent, as S3's delete is: a key already gone is not an error."""
        with contextlib.suppress(FileNotFoundError):
            await obstore.delete_async(self.store, key)


def s3_store(settings: Settings) -> S3Store:
    if not settings.s3_bucket:
        raise ValueError("DOCUMENT_STORAGE=s3 needs S3_BUCKET")
    endpoint = settings.s3_endpoint_url
    return S3Store(
        settings.s3_bucket,
        endpoint=endpoint,
        region=settings.s3_region,
        access_key_id=settings.s3_access_key_id,
        secret_access_key=settings.s3_secret_access_key,
        virtual_hosted_style_request=False,
        client_options={"allow_http": bool(endpoint and endpoint.startswith("http://"))},
    )


def create_storage(settings: Settings) -> DocumentStorage:
    if settings.document_storage is DocumentStorageKind.S3:
        return ObjectStorage(s3_store(settings))
    settings.document_dir.mkdir(parents=True, exist_ok=True)
    return ObjectStorage(LocalStore(settings.document_dir.resolve(), mkdir=True))
