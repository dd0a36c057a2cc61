"""The one place that reads the environment.

Every setting is an environment variable (or a line in `.env`); nothing else in
the code base reads `os.environ`.
"""

from __future__ import annotations

import ipaddress
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Self

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEVELOPMENT_SECRET_KEY = "development-only-secret-key-change-me-0123456789"  # noqa: S105
# Vite, Create React App / Next.js, Angular and Vue CLI dev servers, on both loopback names.
DEVELOPMENT_CORS_ORIGINS = tuple(
    f"http://{host}:{port}" for port in (5173, 3000, 4200, 8080) for host in ("localhost", "127.0.0.1")
)


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class SearchBackendName(StrEnum):
    EMBEDDED = "embedded"
    MEILISEARCH = "meilisearch"


class DocumentStorageKind(StrEnum):
    FILESYSTEM = "filesystem"
    S3 = "s3"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    environment: Environment = Environment.DEVELOPMENT
    database_url: str = "sqlite+aiosqlite:///./data/techex.db"
    database_echo: bool = False
    # Connections all API workers together may hold; each worker's pool is its share
    # (see `pool_size`). Keep it below the server's max_connections, less what workers need.
    database_max_connections: int = Field(default=20, ge=1)
    # Overrides the share when set.
    database_pool_size: int | None = Field(default=None, ge=1)
    # A request waits this long for a connection, then gets 503 with Retry-After.
    database_pool_timeout: float = Field(default=1.0, gt=0)

    search_backend: SearchBackendName = SearchBackendName.EMBEDDED
    meili_url: str | None = None
    meili_api_key: str | None = None
    index_dir: Path = Path("./data/index")
    # Drain the search outbox inside the API process (the embedded default); false when
    # `techex worker` processes do it.
    indexer_in_process: bool = True
    indexer_batch_size: int = Field(default=500, ge=1, le=10_000)

    secret_key: str = Field(default=DEVELOPMENT_SECRET_KEY, min_length=32)
    access_token_minutes: int = Field(default=15, ge=1)
    refresh_token_days: int = Field(default=30, ge=1)
    # Rotation leeway: the refresh token spent last may be presented again this long after (two tabs
    # refreshing at once) and gets another pair; later, it counts as stolen. 0 turns the leeway off.
    refresh_reuse_leeway_seconds: int = Field(default=30, ge=0, le=300)
    # From all addresses together: stops guessing spread over many addresses.
    login_max_failures_per_account: int = Field(default=20, ge=1)
    # From one address for one account: stops guessing from one place.
    login_max_failures_per_account_address: int = Field(default=5, ge=1)
    login_failure_window_seconds: int = Field(default=900, ge=1)
    # Shared sign-in counters (`redis://host:6379/0`); each process counts alone when unset.
    redis_url: str | None = None

    # Where `techex serve` binds; the development secret is refused off loopback.
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    # uvicorn worker processes (the name uvicorn and gunicorn read too).
    web_concurrency: int = Field(default=1, ge=1)
    # Peers whose X-Forwarded-For / X-Forwarded-Proto are believed: addresses or networks,
    # comma-separated, "*" for any. Empty: none, the client is the TCP peer.
    forwarded_allow_ips: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Requests one worker handles at once before answering 503 (probes excepted); the
    # pool size when unset, so that an admitted request does not queue for a connection.
    max_concurrent_requests: int | None = Field(default=None, ge=1)
    # Seconds a new request may wait for a worker's saturated event loop before it is answered
    # 503 at once instead of queueing; 0 turns the check off.
    load_shed_queue_delay: float = Field(default=0.25, ge=0)

    # Origins allowed to call the API from a browser; in development, unset means the usual
    # local dev-server origins (DEVELOPMENT_CORS_ORIGINS); elsewhere, none.
    cors_origins: Annotated[list[str], NoDecode] | None = None
    # /metrics answers only `Authorization: Bearer <METRICS_TOKEN>` when set; in production it is
    # not served without one.
    metrics_token: str | None = Field(default=None, min_length=16)
    # `techex worker` serves its metrics (indexer, periodic jobs) at this port's /metrics; keep it
    # on the internal network. Unset: not served.
    worker_metrics_port: int | None = Field(default=None, ge=1, le=65535)
    # Where worker processes share their metric samples (read by prometheus-client itself);
    # `techex serve --workers N` sets a fresh one when unset.
    prometheus_multiproc_dir: Path | None = None
    # OTLP/HTTP collector (`http://collector:4318`): traces are exported there when set, and
    # nothing is traced when unset.
    otel_exporter_otlp_endpoint: str | None = None
    otel_service_name: str = "techex-api"
    log_level: str = "INFO"
    log_json: bool = True
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    # Bulk import files (`POST /api/v1/imports`) may be larger than other bodies.
    max_upload_bytes: int = Field(default=20 * 1_048_576, ge=1024)
    max_import_rows: int = Field(default=50_000, ge=1)

    # Open data and the change feed: who publishes, under which licence, and this exchange's name
    # as a source in other exchanges' harvests.
    exchange_name: str = "techex"
    open_data_licence: str = "https://creativecommons.org/licenses/by/4.0/"
    open_data_publisher: str = "Technology exchange"
    feed_page_size: int = Field(default=100, ge=1, le=1000)
    # Other exchanges harvested periodically: `name=https://exchange.example` pairs, comma-separated.
    harvest_sources: Annotated[dict[str, str], NoDecode] = Field(default_factory=dict)
    # How often the worker harvests them; 0 disables.
    harvest_interval_seconds: float = Field(default=0, ge=0)
    # How often published listings past their validity are marked expired, and owners of expert profiles
    # about to turn stale are reminded; 0 disables.
    expiry_sweep_seconds: float = Field(default=60, ge=0)
    # An interest still unanswered after this many days is flagged.
    interest_response_days: int = Field(default=7, ge=1)
    # Deals worth more than this (in VND) count in the statistics only once a moderator confirmed them.
    deal_value_review_vnd: Decimal = Field(default=Decimal(50_000_000_000), gt=0)
    # The expert network: ORCID's public API (a test serves saved records from 127.0.0.1), the monthly
    # cap on consultation requests an organisation may send, and when a profile counts as stale.
    orcid_api_url: str = "https://pub.orcid.org/v3.0"
    orcid_timeout_seconds: float = Field(default=5.0, gt=0)
    expert_requests_per_org_per_month: int = Field(default=10, ge=1)
    expert_stale_days: int = Field(default=365, ge=1)
    expert_reminder_days: int = Field(default=30, ge=1)
    # Expert matching across languages by the meaning of the texts (app/matching/semantic.py); off, or
    # where its engine is not installed, matching uses concepts and words alone.
    semantic_matching: bool = True

    # Webhooks: where the URLs in event payloads point (this API as integrators reach it).
    public_base_url: str = "http://127.0.0.1:8000"
    # Deliver webhooks inside the API process; false when `techex worker` processes do it.
    webhooks_in_process: bool = True
    # Allow endpoints on loopback, private and link-local addresses and plain http (development, tests).
    webhook_allow_private_targets: bool = False
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=60)

    # Documents (dossiers, certificates, contracts, deliverables): on the local filesystem by default,
    # on S3-compatible object storage when DOCUMENT_STORAGE=s3 (S3_BUCKET, S3_ENDPOINT_URL, keys, region).
    document_storage: DocumentStorageKind = DocumentStorageKind.FILESYSTEM
    document_dir: Path = Path("data/documents")
    document_max_bytes: int = Field(default=10 * 1_048_576, ge=1024)
    # Seconds a signed download link stays valid.
    document_link_seconds: int = Field(default=600, ge=10, le=7 * 86400)
    s3_bucket: str | None = None
    s3_endpoint_url: str | None = None
    s3_region: str = "us-east-1"
    s3_access_key_id: str | None = None
    s3_secret_access_key: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _split_lists(cls, data: object) -> object:
        """Accept `CORS_ORIGINS=https://a.example,https://b.example` (and the same for proxies)."""
        if isinstance(data, dict):
            for name in ("cors_origins", "forwarded_allow_ips"):
                value = data.get(name)
                if isinstance(value, str):
                    data[name] = [item.strip() for item in value.split(",") if item.strip()]
            sources = data.get("harvest_sources")
            if isinstance(sources, str):
                pairs = [item.split("=", 1) for item in sources.split(",") if "=" in item]
                data["harvest_sources"] = {name.strip(): url.strip() for name, url in pairs}
        return data

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> Self:
        """A known secret signs tokens anyone can forge: only development may use it."""
        if self.environment is Environment.PRODUCTION and self.secret_key == DEVELOPMENT_SECRET_KEY:
            raise ValueError("SECRET_KEY must be set to a private value outside development")
        refuse_development_secret_off_loopback(self.secret_key, self.host)
        return self

    @property
    def pool_size(self) -> int:
        """Each worker's share of DATABASE_MAX_CONNECTIONS, unless DATABASE_POOL_SIZE says otherwise."""
        if self.database_pool_size is not None:
            return self.database_pool_size
        return max(2, self.database_max_connections // self.web_concurrency)

    @property
    def allowed_origins(self) -> list[str]:
        """CORS_ORIGINS when set (even empty); else the local dev servers, in development only."""
        if self.cors_origins is not None:
            return self.cors_origins
        return list(DEVELOPMENT_CORS_ORIGINS) if self.environment is Environment.DEVELOPMENT else []

    @property
    def concurrency_limit(self) -> int:
        return self.max_concurrent_requests or self.pool_size

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: it may resolve to anything
        return False


def refuse_development_secret_off_loopback(secret_key: str, host: str) -> None:
    """Tokens signed with the published development secret can be forged: serve them to this machine only."""
    if secret_key == DEVELOPMENT_SECRET_KEY and not is_loopback(host):
        raise ValueError(
            f"SECRET_KEY is the development secret, which only a server bound to loopback may use "
            f"(asked to bind {host}); set SECRET_KEY to 32+ private characters"
        )


@lru_cache
def get_settings() -> Settings:
    return Settings()
