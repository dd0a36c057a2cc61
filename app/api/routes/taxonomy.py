"""The technology taxonomy: fields, sub-fields and keyword concepts in vi / en / ja."""

from __future__ import annotations

from fastapi import APIRouter

from app.api.idempotency import ExchangeRoute
from app.api.openapi import declare_problems
from app.api.routes.search import SearchDep
from app.errors import NotFoundError, problem_responses
from app.search.index_config import DEMANDS, OFFERS
from app.search.service import search_service
from app.taxonomy.data import Concept, Taxonomy, get_taxonomy
from app.taxonomy.schemas import ConceptRead, TaxonomyRead

router = APIRouter(prefix="/taxonomy", tags=["taxonomy"], route_class=ExchangeRoute)


class ConceptNotFoundError(NotFoundError):
    code = "ConceptNotFound"
    title = "Concept not found"


def _narrower(taxonomy: Taxonomy) -> dict[str, list[str]]:
    narrower: dict[str, list[str]] = {}
    for concept in taxonomy.concepts.values():
        for parent in concept.broader:
            narrower.setdefault(parent, []).append(concept.id)
    return narrower


def _concept(concept: Concept, narrower: dict[str, list[str]], counts: dict[str, dict[str, int]]) -> dict:
    return {
        "id": concept.id,
        "labels": concept.labels,
        "synonyms": list(concept.synonyms),
        "broader": list(concept.broader),
        "narrower": narrower.get(concept.id, []),
        "offers": counts[OFFERS].get(concept.id, 0),
        "demands": counts[DEMANDS].get(concept.id, 0),
    }


def _to_read(taxonomy: Taxonomy, counts: dict[str, dict[str, int]]) -> TaxonomyRead:
    narrower = _narrower(taxonomy)
    return TaxonomyRead.model_validate(
        {
            "concept_count": len(taxonomy.concepts),
            "fields": [
                {
                    "code": f.code,
                    "labels": f.labels,
                    "subfields": [
                        {
                            "code": s.code,
                            "labels": s.labels,
                            "concepts": [_concept(c, narrower, counts) for c in s.concepts],
                        }
                        for s in f.subfields
                    ],
                }
                for f in taxonomy.fields
            ],
        }
    )


@router.get("", summary="The whole taxonomy", response_model=TaxonomyRead, responses=problem_responses(503))
async def get_taxonomy_tree(backend: SearchDep) -> TaxonomyRead:
    """Fields → sub-fields → concepts, with labels in Vietnamese, English and Japanese, each concept's
    broader and narrower concepts, and how many published offers and demands it tags."""
    return _to_read(get_taxonomy(), await search_service.concept_counts(backend))


@router.get(
    "/concepts/{concept_id}",
    summary="One concept",
    response_model=ConceptRead,
    responses=problem_responses(404, 503),
)
async def get_concept(concept_id: str, backend: SearchDep) -> ConceptRead:
    """A keyword concept with its labels, synonyms, broader and narrower concepts and listing counts."""
    taxonomy = get_taxonomy()
    concept = taxonomy.concepts.get(concept_id)
    if concept is None:
        raise ConceptNotFoundError(f"No concept {concept_id!r}.")
    counts = await search_service.concept_counts(backend)
    return ConceptRead.model_validate(_concept(concept, _narrower(taxonomy), counts))


declare_problems(router, {"get_concept": [ConceptNotFoundError]})
