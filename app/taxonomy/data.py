"""The technology taxonomy, read once from `app/seed_data/taxonomy.yaml`.

It is reference data that changes with a release, not with a request, so it
lives in the repository and in memory; listings store concept ids.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from app.vocabulary import FieldCode

TAXONOMY_FILE = Path(__file__).resolve().parent.parent / "seed_data" / "taxonomy.yaml"


@dataclass(frozen=True)
class Concept:
    id: str
    field: str
    subfield: str
    labels: dict[str, str]
    synonyms: tuple[str, ...]
    broader: tuple[str, ...] = ()  # concepts this one is a kind of: tagging it tags them too


@dataclass(frozen=True)
class Subfield:
    code: str
    labels: dict[str, str]
    concepts: tuple[Concept, ...]


@dataclass(frozen=True)
class Field:
    code: str
    labels: dict[str, str]
    subfields: tuple[Subfield, ...]


@dataclass(frozen=True)
class Taxonomy:
    fields: tuple[Field, ...]
    concepts: dict[str, Concept] = field(default_factory=dict)
    subfields: dict[str, Subfield] = field(default_factory=dict)

    def unknown_concepts(self, ids: Iterable[str]) -> list[str]:
        return [concept_id for concept_id in ids if concept_id not in self.concepts]

    def field_of(self, concept_id: str) -> str:
        return self.concepts[concept_id].field


def _parse_concept(line: str, field_code: str, subfield_code: str) -> Concept:
    parts = [part.strip() for part in line.split("|")]
    if len(parts) not in (5, 6):
        raise ValueError(f"concept line needs 5 or 6 '|'-separated parts: {line!r}")
    concept_id, vi, en, ja, synonyms = parts[:5]
    return Concept(
        id=concept_id,
        field=field_code,
        subfield=subfield_code,
        labels={"vi": vi, "en": en, "ja": ja},
        synonyms=tuple(s.strip() for s in synonyms.split(";") if s.strip()),
        broader=tuple(b.strip() for b in (parts[5] if len(parts) == 6 else "").split(",") if b.strip()),
    )


LANGUAGES = {"vi", "en", "ja"}


def _check_labels(where: str, labels: object) -> dict[str, str]:
    if (
        not isinstance(labels, dict)
        or set(labels) != LANGUAGES
        or not all(isinstance(v, str) and v for v in labels.values())
    ):
        raise ValueError(f"{where}: labels must be non-empty strings for exactly vi, en and ja: {labels!r}")
    return labels


def load_taxonomy(path: Path = TAXONOMY_FILE) -> Taxonomy:
    """Parse and check the taxonomy file; a malformed file fails loudly at start-up, not mid-request."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    fields = []
    concepts: dict[str, Concept] = {}
    subfields: dict[str, Subfield] = {}
    for raw_field in raw["fields"]:
        if raw_field["code"] not in {code.value for code in FieldCode}:
            raise ValueError(f"{path}: unknown field code {raw_field['code']!r}")
        _check_labels(raw_field["code"], raw_field["labels"])
        field_subfields = []
        for raw_sub in raw_field["subfields"]:
            _check_labels(raw_sub["code"], raw_sub["labels"])
            sub_concepts = tuple(
                _parse_concept(line, raw_field["code"], raw_sub["code"]) for line in raw_sub["concepts"]
            )
            for concept in sub_concepts:
                if concept.id in concepts:
                    raise ValueError(f"duplicate concept id {concept.id!r} in {path}")
                concepts[concept.id] = concept
            subfield = Subfield(code=raw_sub["code"], labels=raw_sub["labels"], concepts=sub_concepts)
            subfields[subfield.code] = subfield
            field_subfields.append(subfield)
        fields.append(Field(code=raw_field["code"], labels=raw_field["labels"], subfields=tuple(field_subfields)))
    for concept in concepts.values():
        if unknown := [b for b in concept.broader if b not in concepts or b == concept.id]:
            raise ValueError(f"{path}: concept {concept.id!r} names unknown broader concepts {unknown}")
    return Taxonomy(fields=tuple(fields), concepts=concepts, subfields=subfields)


@lru_cache
def get_taxonomy() -> Taxonomy:
    return load_taxonomy()
