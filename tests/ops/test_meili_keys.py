"""The scoped Meilisearch keys: the API's key only searches; the worker's writes only the exchange's indexes.

With a live server (`MEILI_URL` and a master key in `MEILI_MASTER_KEY`) the keys are created and
tried: the API's key is refused a write. Otherwise only their scopes are checked.
"""

from __future__ import annotations

import os
import uuid
from fnmatch import fnmatch

import httpx
import pytest

from app.search.index_config import INDEXES
from app.search.meili_keys import SEARCH_KEY, WRITE_KEY, ensure_key, index_patterns


def test_the_api_key_cannot_write_and_the_worker_key_cannot_manage_keys() -> None:
    assert set(SEARCH_KEY.actions) == {"search", "stats.get"}
    assert not any(a.startswith(("keys.", "*", "dumps.", "snapshots.")) for a in WRITE_KEY.actions)
    assert {"documents.add", "documents.delete", "indexes.swap"} <= set(WRITE_KEY.actions)


def test_the_keys_cover_the_indexes_and_their_rebuild_copies_only() -> None:
    patterns = index_patterns("t_")
    for name in INDEXES:
        assert any(fnmatch(f"t_{name}", p) for p in patterns)
        assert any(fnmatch(f"t_{name}_rebuild_1767225600", p) for p in patterns)
    assert not any(fnmatch("other_app_index", p) for p in patterns)


def test_live_keys_are_created_once_and_the_api_key_is_refused_writes() -> None:
    url, master = os.environ.get("MEILI_URL"), os.environ.get("MEILI_MASTER_KEY")
    if not url or not master:
        pytest.skip("Meilisearch key tests skipped: MEILI_URL and MEILI_MASTER_KEY are not both set")
    import meilisearch

    client = meilisearch.Client(url, master)
    prefix = f"t{uuid.uuid4().hex[:8]}_"
    search_key = ensure_key(client, SEARCH_KEY, prefix)
    assert ensure_key(client, SEARCH_KEY, prefix) == search_key
    refused = httpx.post(
        f"{url.rstrip('/')}/indexes/{prefix}offers/documents",
        json=[{"id": "1"}],
        headers={"Authorization": f"Bearer {search_key}"},
    )
    assert refused.status_code == 403
    for spec in (SEARCH_KEY, WRITE_KEY):
        client.delete_key(spec.uid(prefix))
