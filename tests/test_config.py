"""Settings: the environment is read in one place and unsafe defaults are refused."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.config import DEVELOPMENT_SECRET_KEY, Environment, Settings


def test_default_secret_refused_in_production() -> None:
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        Settings(_env_file=None, environment=Environment.PRODUCTION)  # type: ignore[call-arg]


def test_private_secret_accepted_in_production() -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, environment=Environment.PRODUCTION, secret_key="s" * 48
    )
    assert settings.secret_key != DEVELOPMENT_SECRET_KEY


def test_short_secret_refused() -> None:
    with pytest.raises(ValidationError, match="secret_key"):
        Settings(_env_file=None, secret_key="short")  # type: ignore[call-arg]


def test_environment_variables_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql+asyncpg://u@db:5432/techex")
    monkeypatch.setenv("CORS_ORIGINS", "https://a.example, https://b.example")
    monkeypatch.setenv("SEARCH_BACKEND", "meilisearch")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.database_url == "postgresql+asyncpg://u@db:5432/techex"
    assert settings.cors_origins == ["https://a.example", "https://b.example"]
    assert settings.search_backend == "meilisearch"
    assert not settings.is_sqlite


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.1", "::", "api.example.vn"])  # noqa: S104
def test_development_secret_refused_off_loopback(host: str) -> None:
    with pytest.raises(ValidationError, match="development secret"):
        Settings(_env_file=None, host=host)  # type: ignore[call-arg]


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "localhost"])
def test_development_secret_accepted_on_loopback(host: str) -> None:
    assert Settings(_env_file=None, host=host).secret_key == DEVELOPMENT_SECRET_KEY  # type: ignore[call-arg]


def test_private_secret_accepted_off_loopback() -> None:
    settings = Settings(_env_file=None, host="0.0.0.0", secret_key="s" * 48)  # type: ignore[call-arg]  # noqa: S104
    assert settings.host == "0.0.0.0"  # noqa: S104


def test_pool_is_each_workers_share_of_the_connections() -> None:
    shared = Settings(_env_file=None, web_concurrency=4, database_max_connections=40)  # type: ignore[call-arg]
    assert shared.pool_size == 10
    assert shared.concurrency_limit == 10
    explicit = Settings(  # type: ignore[call-arg]
        _env_file=None, web_concurrency=4, database_pool_size=3, max_concurrent_requests=7
    )
    assert (explicit.pool_size, explicit.concurrency_limit) == (3, 7)
