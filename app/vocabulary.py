"""Controlled vocabularies shared by several domains, with their validated types."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import pycountry
from pydantic import AfterValidator, Field, StringConstraints


class Language(StrEnum):
    """Languages that listings and names are written in."""

    VI = "vi"
    EN = "en"
    JA = "ja"


class FieldCode(StrEnum):
    """Technology fields of the city programmes and the 2013–2015 survey."""

    BIOTECH = "biotech"
    ENVIRONMENT = "environment"
    NEW_ENERGY = "new_energy"
    AUTOMATION = "automation"
    NEW_MATERIALS = "new_materials"
    ICT = "ict"
    MARINE_LOGISTICS = "marine_logistics"
    AGRICULTURE_FOOD = "agriculture_food"
    MECHANICAL_MANUFACTURING = "mechanical_manufacturing"
    HEALTH = "health"
    OTHER = "other"


class MatchFeature(StrEnum):
    """What a match score is made of; each reason and gap names one."""

    TEXT = "text"
    CONCEPTS = "concepts"
    FIELD = "field"
    SUBFIELD = "subfield"
    TRL = "trl"
    BUDGET = "budget"
    TRANSFER = "transfer"
    GEOGRAPHY = "geography"
    LANGUAGE = "language"
    FRESHNESS = "freshness"
    VERIFIED = "verified"


def _country_code(value: str) -> str:
    code = value.upper()
    if pycountry.countries.get(alpha_2=code) is None:
        raise ValueError(f"'{value}' is not an ISO 3166-1 alpha-2 country code")
    return code


def _language_code(value: str) -> str:
    code = value.lower()
    if pycountry.languages.get(alpha_2=code) is None:
        raise ValueError(f"'{value}' is not an ISO 639-1 language code")
    return code


CountryCode = Annotated[
    str,
    StringConstraints(min_length=2, max_length=2),
    AfterValidator(_country_code),
    Field(examples=["VN"], description="ISO 3166-1 alpha-2 country code."),
]
LanguageCode = Annotated[
    str,
    StringConstraints(min_length=2, max_length=2),
    AfterValidator(_language_code),
    Field(examples=["vi"], description="ISO 639-1 language code."),
]
Translations = Annotated[
    dict[Language, Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]],
    Field(description="The text in other languages, keyed by language code (vi, en, ja)."),
]
