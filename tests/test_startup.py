"""Start-up: the API process and every `techex` command load the scheduler's solver only when they schedule."""

from __future__ import annotations

import subprocess
import sys

from app.lazy import lazy_import

HEAVY = ("ortools.sat.python.cp_model", "pandas")


def _python(code: str) -> str:
    """What a fresh interpreter of this environment prints running `code` (the tests' own fixed snippets)."""
    command = [sys.executable, "-c", code]
    return subprocess.run(command, capture_output=True, text=True, check=True, timeout=120).stdout  # noqa: S603


def test_importing_the_app_leaves_the_solver_and_pandas_unloaded() -> None:
    # type() reads no attribute of a module not yet loaded (any attribute would load it)
    probe = (
        "import sys, app.main\n"
        f"loaded = [n for n in {HEAVY!r} if n in sys.modules and type(sys.modules[n]).__name__ != '_LazyModule']\n"
        "print(','.join(loaded))"
    )
    loaded = _python(probe).strip()
    assert loaded == "", f"loaded at import: {loaded}"


def test_a_lazy_module_runs_on_first_use_and_is_the_module_itself() -> None:
    probe = (
        "import sys\n"
        "from app.lazy import lazy_import\n"
        "m = lazy_import('xml.dom.minidom')\n"
        "before = 'xml.dom.minicompat' in sys.modules\n"
        "m.parseString('<a/>')\n"
        "import xml.dom.minidom as real\n"
        "print(before, 'xml.dom.minicompat' in sys.modules, m is real)"
    )
    assert _python(probe).split() == ["False", "True", "True"]


def test_a_module_already_imported_is_returned_as_it_is() -> None:
    assert lazy_import("json") is sys.modules["json"]
