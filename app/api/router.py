"""Every router of the API, mounted in one place."""

from __future__ import annotations

from fastapi import APIRouter

from app.api.routes import (
    accounts,
    audit,
    auth,
    deals,
    documents,
    events,
    experts,
    feed,
    follow_up,
    health,
    imports,
    interests,
    listings,
    mandates,
    matching,
    metrics,
    open_data,
    organizations,
    search,
    service_requests,
    stats,
    taxonomy,
    valuations,
    webhooks,
)

API_PREFIX = "/api/v1"

probes_router = APIRouter()
probes_router.include_router(health.router)
probes_router.include_router(metrics.router)

api_router = APIRouter(prefix=API_PREFIX)
api_router.include_router(auth.router)
api_router.include_router(organizations.router)
api_router.include_router(organizations.members_router)
api_router.include_router(organizations.keys_router)
api_router.include_router(accounts.router)
api_router.include_router(mandates.router)
api_router.include_router(audit.router)
api_router.include_router(taxonomy.router)
# Before the listings: `/offers/{id}.jsonld` would otherwise reach `/offers/{offer_id}`.
api_router.include_router(open_data.listing_router)
api_router.include_router(listings.offers_router)
api_router.include_router(listings.demands_router)
api_router.include_router(search.router)
api_router.include_router(interests.router)
api_router.include_router(deals.router)
api_router.include_router(follow_up.router)
api_router.include_router(service_requests.router)
api_router.include_router(valuations.router)
api_router.include_router(documents.router)
api_router.include_router(stats.router)
api_router.include_router(matching.router)
api_router.include_router(events.router)
api_router.include_router(events.proposals_router)
api_router.include_router(webhooks.router)
api_router.include_router(feed.router)
api_router.include_router(imports.router)
api_router.include_router(open_data.router)
api_router.include_router(experts.router)
api_router.include_router(experts.consultations_router)
api_router.include_router(experts.matches_router)
