"""The virus-scanning hook: every upload passes through `app.state.document_scanner` before it is stored.

A scanner returns the name of what it found, or None when the file is clean. The default does not scan
(documents are marked `not_scanned`); a deployment plugs in its own (clamd, a cloud scanner) by setting
the app's `document_scanner` at start-up.
"""

from __future__ import annotations

from typing import Protocol


class Scanner(Protocol):
    name: str

    async def scan(self, data: bytes) -> str | None: ...


class NoScanner:
    name = "none"

    async def scan(self, data: bytes) -> str | None:
        return None
