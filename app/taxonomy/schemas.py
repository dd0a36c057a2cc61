"""The taxonomy API contract."""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field

from app.schema_base import ResponseModel

_CONCEPT: dict[str, Any] = {
    "id": "arsenic-removal",
    "labels": {"vi": "khử asen trong nước", "en": "arsenic removal", "ja": "ヒ素除去"},
    "synonyms": ["loc asen", "asen", "arsenic"],
}


class ConceptRead(ResponseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_CONCEPT]})

    id: str = Field(description="Stable id that listings store.")
    labels: dict[str, str] = Field(description="Label per language (vi, en, ja).")
    synonyms: list[str]


class SubfieldRead(ResponseModel):
    code: str
    labels: dict[str, str]
    concepts: list[ConceptRead]


class FieldRead(ResponseModel):
    code: str
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
