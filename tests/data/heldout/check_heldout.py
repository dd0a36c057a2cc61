"""Check the held-out search and matching evaluation set for consistency.

The set (catalogue.yaml, demands.yaml, search_cases.yaml) was written before
tuning and must stay loadable through the public API: every record is turned
into the payload the API takes (OrganizationCreate, OfferCreate, DemandCreate)
and validated against the schemas in openapi.yaml, and every key a demand or a
search case refers to must exist. Run from the repository root:

    python tests/data/heldout/check_heldout.py
"""

from __future__ import annotations

import re
import sys
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]

SEARCH_CLASSES = {
    "unaccented",
    "typo",
    "synonym",
    "prefix",
    "accented_exact",
    "cross_lingual",
    "unknown_word",
}
OFFER_FIELDS = [
    "field",
    "trl",
    "ip_status",
    "patent_numbers",
    "transfer_types",
    "price_min",
    "price_max",
    "currency",
    "advantages",
    "applications",
    "evidence",
    "proposed_for_city",
    "support_included",
]
DEMAND_FIELDS = [
    "title",
    "summary",
    "description",
    "problem_statement",
    "requirements",
    "field",
    "min_trl",
    "budget_min",
    "budget_max",
    "currency",
    "deployment_province",
    "transfer_types",
    "wanted_by",
    "co_development",
]


class Validator:
    """The subset of JSON Schema that the API's OpenAPI schemas use."""

    def __init__(self, schemas: dict[str, Any]) -> None:
        self.schemas = schemas

    def errors(self, value: Any, schema: dict[str, Any], path: str) -> list[str]:
        if "$ref" in schema:
            return self.errors(value, self.schemas[schema["$ref"].rsplit("/", 1)[-1]], path)
        if "anyOf" in schema:
            options = [self.errors(value, option, path) for option in schema["anyOf"]]
            return [] if any(not found for found in options) else min(options, key=len)
        found: list[str] = []
        kind = schema.get("type")
        checks = {
            "string": lambda v: isinstance(v, str),
            "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
            "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
            "boolean": lambda v: isinstance(v, bool),
            "array": lambda v: isinstance(v, list),
            "object": lambda v: isinstance(v, dict),
            "null": lambda v: v is None,
        }
        if kind and not checks[kind](value):
            return [f"{path}: {value!r} is not of type {kind}"]
        if "enum" in schema and value not in schema["enum"]:
            found.append(f"{path}: {value!r} not in {schema['enum']}")
        if isinstance(value, str):
            if len(value) < schema.get("minLength", 0):
                found.append(f"{path}: shorter than {schema['minLength']}")
            if len(value) > schema.get("maxLength", 10**9):
                found.append(f"{path}: longer than {schema['maxLength']}")
            if "pattern" in schema and not re.search(schema["pattern"], value):
                found.append(f"{path}: {value!r} does not match {schema['pattern']}")
            if schema.get("format") == "date" and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
                found.append(f"{path}: {value!r} is not a date")
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if value < schema.get("minimum", float("-inf")):
                found.append(f"{path}: below {schema['minimum']}")
            if value > schema.get("maximum", float("inf")):
                found.append(f"{path}: above {schema['maximum']}")
        if isinstance(value, list):
            if len(value) > schema.get("maxItems", 10**9):
                found.append(f"{path}: more than {schema['maxItems']} items")
            for index, item in enumerate(value):
                found += self.errors(item, schema.get("items", {}), f"{path}[{index}]")
        if isinstance(value, dict):
            properties = schema.get("properties", {})
            for name in schema.get("required", []):
                if name not in value:
                    found.append(f"{path}: missing {name}")
            for name, item in value.items():
                if name in properties:
                    found += self.errors(item, properties[name], f"{path}.{name}")
                elif "propertyNames" in schema or "additionalProperties" in schema:
                    found += self.errors(name, schema.get("propertyNames", {}), f"{path} key")
                    extra = schema.get("additionalProperties", {})
                    if isinstance(extra, dict):
                        found += self.errors(item, extra, f"{path}.{name}")
                else:
                    found.append(f"{path}: unknown property {name}")
        return found


def fold(text: str) -> str:
    """Lower case without diacritics (đ becomes d), for word look-ups."""
    text = text.lower().replace("đ", "d")
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


def offer_payload(offer: dict[str, Any]) -> dict[str, Any]:
    texts = offer["texts"]
    main = texts[offer["language"]]
    payload: dict[str, Any] = {"language": offer["language"], **main}
    translations = {lang: text for lang, text in texts.items() if lang != offer["language"]}
    if translations:
        payload["translations"] = translations
    payload.update({name: offer[name] for name in OFFER_FIELDS if name in offer})
    return payload


def main() -> int:
    api = yaml.safe_load((ROOT / "openapi.yaml").read_text(encoding="utf-8"))
    schemas = api["components"]["schemas"]
    check = Validator(schemas)
    catalogue = yaml.safe_load((HERE / "catalogue.yaml").read_text(encoding="utf-8"))
    demands = yaml.safe_load((HERE / "demands.yaml").read_text(encoding="utf-8"))["demands"]
    cases = yaml.safe_load((HERE / "search_cases.yaml").read_text(encoding="utf-8"))["cases"]
    problems: list[str] = []

    organizations = {}
    for org in catalogue["organizations"]:
        key = org["key"]
        if key in organizations:
            problems.append(f"{key}: duplicate key")
        organizations[key] = org
        payload = {name: value for name, value in org.items() if name != "key"}
        problems += check.errors(payload, schemas["OrganizationCreate"], key)

    offers: dict[str, dict[str, Any]] = {}
    for offer in catalogue["offers"]:
        key = offer["key"]
        if key in offers:
            problems.append(f"{key}: duplicate key")
        offers[key] = offer
        if offer["owner"] not in organizations:
            problems.append(f"{key}: unknown owner {offer['owner']}")
        if offer["language"] not in offer["texts"]:
            problems.append(f"{key}: no text in its language {offer['language']}")
        keywords = offer.get("keywords", [])
        if not keywords or not all(isinstance(word, str) for word in keywords):
            problems.append(f"{key}: keywords must be a non-empty list of words")
        problems += check.errors(offer_payload(offer), schemas["OfferCreate"], key)

    def languages(key: str) -> set[str]:
        return set(offers[key]["texts"])

    for demand in demands:
        key = demand["key"]
        if demand["owner"] not in organizations:
            problems.append(f"{key}: unknown owner {demand['owner']}")
        payload = {"language": demand["language"]}
        payload.update({name: demand[name] for name in DEMAND_FIELDS if name in demand})
        problems += check.errors(payload, schemas["DemandCreate"], key)
        if not (demand.get("problem_statement") and demand.get("requirements")):
            problems.append(f"{key}: problem_statement and requirements carry the content")
        graded = [answer["offer"] for answer in demand["answers"]]
        near = [item["offer"] for item in demand.get("not_relevant", [])]
        for offer_key in graded + near:
            if offer_key not in offers:
                problems.append(f"{key}: unknown offer {offer_key}")
        if len(set(graded + near)) != len(graded + near):
            problems.append(f"{key}: an offer is listed twice")
        for answer in demand["answers"]:
            if answer["grade"] not in (1, 2, 3) or not answer.get("reason"):
                problems.append(f"{key}: {answer['offer']} needs a grade 1-3 and a reason")
        best = [a["offer"] for a in demand["answers"] if a["grade"] == 3 and a["offer"] in offers]
        if not best:
            problems.append(f"{key}: no grade-3 answer")
        other = all(demand["language"] not in languages(offer_key) for offer_key in best)
        if demand["answers_in_other_language"] != other:
            problems.append(f"{key}: answers_in_other_language should be {other}")

    all_text = " ".join(
        fold(
            " ".join(
                [*(t for text in offer["texts"].values() for t in text.values())]
                + offer["keywords"]
                + [organizations[offer["owner"]]["name"]]
                + list(organizations[offer["owner"]].get("name_i18n", {}).values())
            )
        )
        for offer in offers.values()
    )
    words = set(re.findall(r"\w+", all_text))
    ids = Counter(case["id"] for case in cases)
    problems += [f"{case_id}: duplicate id" for case_id, n in ids.items() if n > 1]
    for case in cases:
        cid, query = case["id"], case["query"]
        if case["class"] not in SEARCH_CLASSES:
            problems.append(f"{cid}: unknown class {case['class']}")
        if case["query_language"] not in schemas["Language"]["enum"]:
            problems.append(f"{cid}: unknown query_language")
        want = 10 if case["class"] == "cross_lingual" else 5
        if case["within"] != want:
            problems.append(f"{cid}: within should be {want}")
        pairs = case.get("must_rank_above", [])
        for offer_key in case["expect_top"] + [k for pair in pairs for k in pair]:
            if offer_key not in offers:
                problems.append(f"{cid}: unknown offer {offer_key}")
        if not case["expect_top"] or any(len(pair) != 2 for pair in pairs):
            problems.append(f"{cid}: expect_top must be non-empty, pairs of two keys")
        if case["class"] == "unaccented" and fold(query) != query.lower():
            problems.append(f"{cid}: the query has diacritics")
        if case["class"] == "accented_exact" and fold(query) == query.lower():
            problems.append(f"{cid}: the query has no diacritics")
        if case["class"] == "prefix":
            last = query.split()[-1]
            if not (case["full_word"].startswith(last) and case["full_word"] != last):
                problems.append(f"{cid}: {last!r} is not a proper prefix of {case['full_word']!r}")
        if case["class"] == "cross_lingual":
            for offer_key in case["expect_top"]:
                if offer_key in offers and case["query_language"] in languages(offer_key):
                    problems.append(f"{cid}: {offer_key} has text in the query's language")
        if case["class"] == "unknown_word":
            for word in case["unknown_words"]:
                if fold(word) in words or word not in query:
                    problems.append(f"{cid}: {word!r} is in a listing or not in the query")

    for problem in problems:
        print(problem)
    by_language = Counter(offer["language"] for offer in offers.values())
    print(
        f"{len(organizations)} organisations, {len(offers)} offers {dict(by_language)}, "
        f"{sum(len(o['texts']) > 1 for o in offers.values())} with translations"
    )
    print(
        f"{len(demands)} demands {dict(Counter(d['language'] for d in demands))}, "
        f"{sum(d['answers_in_other_language'] for d in demands)} answered in another language"
    )
    print(f"{len(cases)} search cases {dict(Counter(c['class'] for c in cases))}")
    print("OK" if not problems else f"{len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
