"""Demo data loader (`techex seed --demo`, run by `make run` on an empty database)."""

from __future__ import annotations

from app.db import Database


async def load_demo_data(database: Database, *, only_if_empty: bool = False) -> str:
    """Load the demonstration data set; a no-op when it is already there."""
    return "demo data: nothing to load yet"
