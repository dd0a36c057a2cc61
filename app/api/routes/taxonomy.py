"""The technology taxonomy: fields, sub-fields and keyword concepts in vi / en / ja."""

from __future__ import annotations

from fastapi import APIRouter

from app.api.idempotency import ExchangeRoute
from app.api.openapi import declare_problems
from app.errors import NotFoundError, problem_responses
from app.taxonomy.data import Taxonomy, get_taxonomy
from app.taxonomy.schemas import ConceptRead, TaxonomyRead

router = APIRouter(prefix="/taxonomy", tags=["taxonomy"], route_class=ExchangeRoute)


class ConceptNotFoundError(NotFoundError):
    code = "ConceptNotFound"
    title = "Concept not found"


def _to_read(taxonomy: Taxonomy) -> TaxonomyRead:
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
                            "concepts": [
                                {"id": c.id, "labels": c.labels, "synonyms": list(c.synonyms)} for c in s.concepts
                            ],
                        }
                        for s in f.subfields
                    ],
                }
                for f in taxonomy.fields
            ],
        }
    )


@router.get("", summary="The whole taxonomy", response_model=TaxonomyRead)
async def get_taxonomy_tree() -> TaxonomyRead:
    """Fields → sub-fields → concepts, with labels in Vietnamese, English and Japanese."""
    return _to_read(get_taxonomy())


@router.get(
    "/concepts/{concept_id}",
    summary="One concept",
    response_model=ConceptRead,
    responses=problem_responses(404),
)
async def get_concept(concept_id: str) -> ConceptRead:
    """A keyword concept with its labels and synonyms."""
    concept = get_taxonomy().concepts.get(concept_id)
    if concept is None:
        raise ConceptNotFoundError(f"No concept {concept_id!r}.")
    return ConceptRead(id=concept.id, labels=concept.labels, synonyms=list(concept.synonyms))


declare_problems(router, {"get_concept": [ConceptNotFoundError]})
