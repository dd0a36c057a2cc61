"""Scoped Meilisearch API keys (`techex meili-keys`): the API searches, the worker writes.

The master key stays with the operator: the API process gets a key that can only search and
read index statistics; the worker (indexer, `techex reindex`) gets one that can write the
exchange's indexes and nothing else. Keys have fixed uids, so running the command again prints
the same keys instead of making new ones.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import meilisearch
from meilisearch.errors import MeilisearchApiError

from app.search.index_config import INDEXES

_NAMESPACE = uuid.UUID("5b0f7c1e-2d43-4c1a-9a57-0f1d3e6b8a10")


@dataclass(frozen=True)
class KeySpec:
    name: str
    description: str
    actions: tuple[str, ...]

    def uid(self, prefix: str) -> str:
        return str(uuid.uuid5(_NAMESPACE, f"{prefix}{self.name}"))


SEARCH_KEY = KeySpec("techex-api", "Technology exchange API: search and index statistics", ("search", "stats.get"))
WRITE_KEY = KeySpec(
    "techex-worker",
    "Technology exchange worker: index the outbox, rebuild and swap indexes",
    (
        "search",
        "stats.get",
        "documents.add",
        "documents.delete",
        "indexes.create",
        "indexes.get",
        "indexes.delete",
        "indexes.swap",
        "settings.get",
        "settings.update",
        "tasks.get",
    ),
)


def index_patterns(prefix: str = "") -> list[str]:
    """The exchange's indexes and their rebuild copies (`offers_rebuild_<time>`)."""
    return [f"{prefix}{name}*" for name in INDEXES]


def ensure_key(client: meilisearch.Client, spec: KeySpec, prefix: str = "") -> str:
    """The key for `spec`, created on the first run."""
    uid = spec.uid(prefix)
    try:
        return str(client.get_key(uid).key)
    except MeilisearchApiError as error:
        if getattr(error, "code", None) != "api_key_not_found":
            raise
    options = {
        "uid": uid,
        "name": f"{prefix}{spec.name}",
        "description": spec.description,
        "actions": list(spec.actions),
        "indexes": index_patterns(prefix),
        "expiresAt": None,
    }
    return str(client.create_key(options).key)
