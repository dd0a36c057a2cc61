"""Every router of the API, mounted in one place."""

from __future__ import annotations

from fastapi import APIRouter

from app.api.routes import health

API_PREFIX = "/api/v1"

probes_router = APIRouter()
probes_router.include_router(health.router)

api_router = APIRouter(prefix=API_PREFIX)
