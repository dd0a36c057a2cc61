"""CSV as spreadsheet users open it: RFC 4180, UTF-8 with a byte order mark, so that Excel on Windows reads
Vietnamese and Japanese as UTF-8 rather than in the local code page."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

BOM = "\ufeff"


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    buffer = io.StringIO()
    buffer.write(BOM)
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()
