"""The taxonomy file is checked when loaded."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.taxonomy.data import get_taxonomy, load_taxonomy


def test_shipped_taxonomy_is_complete() -> None:
    taxonomy = get_taxonomy()
    assert len(taxonomy.concepts) >= 150
    assert taxonomy.concepts["arsenic-removal"].field == "environment"
    assert taxonomy.unknown_concepts(["arsenic-removal", "nope"]) == ["nope"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "fields:\n- code: alchemy\n  labels: {vi: a, en: b, ja: c}\n  subfields: []\n",
            "unknown field code",
        ),
        ("fields:\n- code: other\n  labels: {vi: a, en: b}\n  subfields: []\n", "exactly vi, en and ja"),
        (
            "fields:\n- code: other\n  labels: {vi: a, en: b, ja: c}\n  subfields:\n"
            "  - code: other.x\n    labels: {vi: a, en: b, ja: c}\n    concepts:\n"
            "    - dup | a | b | c | \n    - dup | d | e | f | \n",
            "duplicate concept id",
        ),
    ],
)
def test_malformed_files_are_refused(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "taxonomy.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        load_taxonomy(path)
