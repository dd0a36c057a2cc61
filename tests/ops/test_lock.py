"""The lock file: every dependency pinned, no pre-release but those that publish nothing else."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
# python-sat publishes only .dev builds; OpenTelemetry's 0.x packages only betas.
ONLY_PRERELEASES = re.compile(r"^(python-sat|opentelemetry-.*)$")


def test_the_lock_pins_no_prerelease_but_the_known_ones() -> None:
    lock = tomllib.loads((ROOT / "uv.lock").read_text(encoding="utf-8"))
    packages = {p["name"]: p["version"] for p in lock["package"] if "version" in p}
    assert {"fastapi", "starlette", "sqlalchemy", "uvicorn", "prometheus-client"} <= set(packages)
    unexpected = {
        name: version
        for name, version in packages.items()
        if Version(version).is_prerelease and not ONLY_PRERELEASES.match(name)
    }
    assert not unexpected


def test_the_makefile_and_ci_install_from_the_lock() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "uv sync --locked" in makefile
    assert "uv lock --check" in makefile
    assert "make lock-check" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
