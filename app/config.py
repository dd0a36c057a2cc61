"""The one place that reads the environment.

Every setting is an environment variable (or a line in `.env`); nothing else in
the code base reads `os.environ`.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Self

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEVELOPMENT_SECRET_KEY = "development-only-secret-key-change-me-0123456789"  # noqa: S105


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class SearchBackendName(StrEnum):
    EMBEDDED = "embedded"
    MEILISEARCH = "meilisearch"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    environment: Environment = Environment.DEVELOPMENT
    database_url: str = "sqlite+aiosqlite:///./data/techex.db"
    database_echo: bool = False
    database_pool_size: int = Field(default=10, ge=1)

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
    login_max_failures_per_account: int = Field(default=5, ge=1)
    login_max_failures_per_address: int = Field(default=20, ge=1)
    login_failure_window_seconds: int = Field(default=900, ge=1)
    rate_limit_storage_url: str = "async+memory://"

    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    log_level: str = "INFO"
    log_json: bool = True
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    # How often published listings past their validity are marked expired; 0 disables.
    expiry_sweep_seconds: float = Field(default=60, ge=0)
    # An interest still unanswered after this many days is flagged.
    interest_response_days: int = Field(default=7, ge=1)
    # Deals worth more than this (in VND) count in the statistics only once a moderator confirmed them.
    deal_value_review_vnd: Decimal = Field(default=Decimal(50_000_000_000), gt=0)

    @model_validator(mode="before")
    @classmethod
    def _split_cors_origins(cls, data: object) -> object:
        """Accept `CORS_ORIGINS=https://a.example,https://b.example` from the environment."""
        if isinstance(data, dict):
            value = data.get("cors_origins")
            if isinstance(value, str):
                data["cors_origins"] = [o.strip() for o in value.split(",") if o.strip()]
        return data

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> Self:
        """A known secret signs tokens anyone can forge: only development may use it."""
        if self.environment is Environment.PRODUCTION and self.secret_key == DEVELOPMENT_SECRET_KEY:
            raise ValueError("SECRET_KEY must be set to a private value outside development")
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    return Settings()
