"""Closing the embedded engine lets go of the threads tantivy runs for it: a watcher of each index's
`meta.json` and, once an index is written, its writer's indexing, merging and segment-updating threads.
A process that opens and closes engines (a test process, a command) must not keep them."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from pathlib import Path

import pytest

from app.search.backend import SearchQuery
from app.search.embedded import EmbeddedBackend
from tests.search.test_contract import OFFERS, load, offer

TASKS = Path("/proc/self/task")


def native_threads() -> int:
    """The process's threads that Python did not start (tantivy's): all in /proc less `threading`'s."""
    return len(os.listdir(TASKS)) - threading.active_count()


async def settled_at_most(limit: int, seconds: float = 10) -> int:
    """The native thread count once it is at most `limit`, or after `seconds` (a dropped index's
    watcher notices within half a second)."""
    deadline = time.monotonic() + seconds
    while True:
        count = native_threads()
        if count <= limit or time.monotonic() > deadline:
            return count
        await asyncio.sleep(0.1)


@pytest.mark.skipif(not TASKS.is_dir(), reason="counts the threads in /proc/self/task (Linux)")
async def test_close_lets_go_of_the_threads_and_a_search_opens_again(tmp_path: Path) -> None:
    before = native_threads()
    backend = EmbeddedBackend(tmp_path / "index")
    await backend.ensure_indexes()
    await load(backend, offer("Xử lý nước thải chế biến thủy sản"))
    assert native_threads() > before, "an open, written index runs threads"

    await backend.close()
    assert await settled_at_most(before) <= before

    assert (await backend.search(OFFERS, SearchQuery(limit=10))).total == 1, "a closed engine opens again"
    await backend.close()
    assert await settled_at_most(before) <= before
