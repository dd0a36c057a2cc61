"""Application factory: routers, middleware, error handlers and the lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI
from fastapi_offline import FastAPIOffline
from opentelemetry.sdk.trace import TracerProvider
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import BaseRoute
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from app import __version__, tracing
from app.accounts.throttle import LoginThrottle, create_storage
from app.api.openapi import OPENAPI_TAGS, install_openapi, operation_id
from app.api.router import API_PREFIX, api_router, probes_router
from app.api.routes import health, metrics, webhooks
from app.background import run_periodically
from app.config import Environment, Settings, get_settings
from app.db import Database
from app.documents.scanning import NoScanner
from app.documents.storage import create_storage as create_storage_for_documents
from app.engagements.follow_up import sweep as engagements_sweep
from app.errors import install_error_handlers
from app.experts.service import expert_service
from app.listings.service import listing_service
from app.logging import configure_logging
from app.matching import semantic
from app.middleware import (
    BodySizeLimitMiddleware,
    InputGuardMiddleware,
    LoadSheddingMiddleware,
    RequestContextMiddleware,
    SecurityHeadersMiddleware,
)
from app.migrations import SchemaNotCurrentError, require_current_schema
from app.scheduling import maxsat
from app.search.backend import SearchBackend
from app.search.indexer import Indexer
from app.search.service import create_backend
from app.webhooks.delivery import WebhookWorker

log = structlog.get_logger(__name__)
DOCS_ASSETS_URL = "/docs-assets"

DESCRIPTION = """\
REST API of the technology supply–demand exchange (*sàn giao dịch công nghệ*).

Institutes and universities list transferable technologies (**offers**),
enterprises post technology needs (**demands**), intermediaries broker deals,
and the matching service ranks counterparts and proposes supply–demand
connection sessions with schedules of one-to-one meetings.

Every error is an RFC 9457 `application/problem+json` document with a stable
`code` and the `request_id` to quote when reporting it.
"""


def _paths(routes: list[BaseRoute]) -> frozenset[str]:
    return frozenset(str(getattr(route, "path", "")) for route in routes)


def create_app(
    settings: Settings | None = None,
    database: Database | None = None,
    search: SearchBackend | None = None,
    tracer_provider: TracerProvider | None = None,
) -> FastAPI:
    """Build the ASGI app; tests hand in their own session factory, search backend and tracer provider."""
    settings = settings or get_settings()
    configure_logging(settings.log_level, json=settings.log_json)
    semantic.configure(settings.semantic_matching)
    tracer_provider = tracer_provider or tracing.provider_from_settings(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = database is None
        app.state.database = database or Database.from_url(
            settings.database_url,
            echo=settings.database_echo,
            pool_size=settings.pool_size,
            pool_timeout=settings.database_pool_timeout,
        )
        if owned:
            try:
                await require_current_schema(app.state.database.engine)
            except SchemaNotCurrentError as error:
                log.error("schema_not_current", detail=str(error))
                await app.state.database.dispose()
                raise
        if tracer_provider is not None:
            tracing.instrument_clients(app.state.database.engine, tracer_provider)
        app.state.search = search or create_backend(settings)
        # Whoever indexes creates the indexes: with `techex worker` processes and Meilisearch, the API's
        # key may only search (`techex meili-keys`).
        if settings.indexer_in_process or app.state.search.name != "meilisearch":
            try:
                await app.state.search.ensure_indexes()
            except Exception:  # search down at start-up: serve anyway, the indexer retries
                log.exception("search_backend_unavailable_at_startup")
        app.state.indexer = Indexer(app.state.database, app.state.search, batch_size=settings.indexer_batch_size)
        app.state.webhooks = WebhookWorker(app.state.database, settings)
        tasks: list[asyncio.Task[None]] = []
        if settings.indexer_in_process:
            tasks.append(asyncio.create_task(app.state.indexer.run_forever()))
        if settings.webhooks_in_process:
            tasks.append(asyncio.create_task(app.state.webhooks.run_forever()))
        if settings.expiry_sweep_seconds:
            tasks.append(
                asyncio.create_task(
                    run_periodically(
                        app.state.database,
                        settings.expiry_sweep_seconds,
                        "expire_listings",
                        listing_service.expire_due,
                    )
                )
            )
            tasks.append(
                asyncio.create_task(
                    run_periodically(
                        app.state.database,
                        settings.expiry_sweep_seconds,
                        "remind_stale_experts",
                        functools.partial(expert_service.remind_due, settings=settings),
                    )
                )
            )
            tasks.append(
                asyncio.create_task(
                    run_periodically(
                        app.state.database, settings.expiry_sweep_seconds, "engagements", engagements_sweep
                    )
                )
            )
        if settings.environment is not Environment.TEST:
            # The scheduler's proofs run in processes from a fork server: start it before the first schedule.
            threading.Thread(target=maxsat.warm_up, name="prover-fork-server", daemon=True).start()
        # Everything built at start-up (modules, schemas, taxonomy, the app) lives as long as the
        # process: keep it out of the collector's full passes, which otherwise stall requests.
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await app.state.indexer.close()
            await app.state.webhooks.close()
            if search is None:
                await app.state.search.close()
            if owned:
                await app.state.database.dispose()
            if tracer_provider is not None:
                tracing.uninstrument_clients(tracer_provider)

    # Swagger UI and ReDoc with their bundles served from here (DOCS_ASSETS_URL), not from a CDN.
    app = FastAPIOffline(
        static_url=DOCS_ASSETS_URL,
        title="Technology Exchange API",
        version=__version__,
        description=DESCRIPTION,
        contact={"name": "Technology exchange maintainers", "email": "api@techex.example"},
        license_info={"name": "Apache 2.0", "identifier": "Apache-2.0"},
        openapi_tags=OPENAPI_TAGS,
        generate_unique_id_function=operation_id,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.document_storage = create_storage_for_documents(settings)
    app.state.document_scanner = NoScanner()
    app.state.login_throttle = LoginThrottle(
        storage=create_storage(settings.redis_url),
        per_account=settings.login_max_failures_per_account,
        per_account_address=settings.login_max_failures_per_account_address,
        window_seconds=settings.login_failure_window_seconds,
    )

    install_error_handlers(app)
    # The last added runs first: security headers on every response, then the request id and log,
    # the client address, shedding, and the body limit, so the input guard only buffers a bounded body.
    app.add_middleware(InputGuardMiddleware)
    app.add_middleware(
        BodySizeLimitMiddleware,
        max_bytes=settings.max_body_bytes,
        uploads={
            f"{API_PREFIX}/imports": settings.max_upload_bytes,
            # a document upload carries the file and a little multipart framing around it
            f"{API_PREFIX}/documents": settings.document_max_bytes + 64 * 1024,
        },
    )
    app.add_middleware(
        LoadSheddingMiddleware,
        limit=settings.concurrency_limit,
        exempt_paths=_paths(health.router.routes) | _paths(metrics.router.routes),
        max_queue_delay=settings.load_shed_queue_delay or None,
    )
    if settings.forwarded_allow_ips:
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.forwarded_allow_ips)
    app.add_middleware(RequestContextMiddleware)
    app.add_middleware(SecurityHeadersMiddleware, hsts=settings.environment is Environment.PRODUCTION)
    if settings.allowed_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.allowed_origins,
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=["X-Request-ID", "ETag", "Location", "Retry-After", "Idempotent-Replayed"],
        )

    app.include_router(probes_router)
    app.include_router(api_router)
    webhooks.document_events(app)
    install_openapi(app)
    if tracer_provider is not None:
        tracing.instrument_app(app, tracer_provider)
    return app
