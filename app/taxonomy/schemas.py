"""The taxonomy API contract."""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field

from app.schema_base import ResponseModel
from app.vocabulary import FieldCode

_CONCEPT: dict[str, Any] = {
    "id": "arsenic-removal",
    "labels": {"vi": "khử asen trong nước", "en": "arsenic removal", "ja": "ヒ素除去"},
    "synonyms": ["loc asen", "asen", "arsenic"],
    "broader": [],
    "narrower": [],
    "offers": 4,
    "demands": 1,
}


class ConceptRead(ResponseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_CONCEPT]})

    id: str = Field(description="Stable id that listings store.")
    labels: dict[str, str] = Field(description="Label per language (vi, en, ja).")
    synonyms: list[str]
    broader: list[str] = Field(
        description="Concepts this one is a kind of: a listing tagged with it is tagged with them too."
    )
    narrower: list[str] = Field(description="Concepts that are a kind of this one.")
    offers: int = Field(description="Published, unexpired offers tagged with the concept (by their owner or inferred).")
    demands: int = Field(description="Published, unexpired demands tagged with the concept.")


class SubfieldRead(ResponseModel):
    code: str
    labels: dict[str, str]
    concepts: list[ConceptRead]


class FieldRead(ResponseModel):
    code: FieldCode
    labels: dict[str, str]
    subfields: list[SubfieldRead]


class TaxonomyRead(ResponseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "concept_count": 155,
                    "fields": [
                        {
                            "code": "environment",
                            "labels": {
                                "vi": "Công nghệ môi trường",
                                "en": "Environmental technology",
                                "ja": "環境技術",
                            },
                            "subfields": [
                                {
                                    "code": "environment.water",
                                    "labels": {
                                        "vi": "Xử lý nước và nước thải",
                                        "en": "Water and wastewater treatment",
                                        "ja": "水・排水処理",
                                    },
                                    "concepts": [_CONCEPT],
                                }
                            ],
                        }
                    ],
                }
            ]
        }
    )

    concept_count: int
    fields: list[FieldRead]
