"""Write `openapi.yaml` from the app (same as `techex export-openapi --output openapi.yaml`)."""

from __future__ import annotations

import sys
from pathlib import Path

from app.api.openapi import render_openapi

if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("openapi.yaml")
    target.write_text(render_openapi(), encoding="utf-8")
    print(f"wrote {target}")
