"""Sign-in throttling: failed attempts are counted per account and per (account, address).

Never per address alone: people behind one NAT or proxy would lock each other
out. The (account, address) budget is small and stops guessing from one place
without touching the owner elsewhere; the account budget is larger and stops
guessing spread over many addresses, at the cost of locking the owner out
while it lasts.

Backed by the `limits` library (moving windows). Its in-memory storage counts
per process, so with several workers each keeps its own counts; `REDIS_URL`
shares them between workers and servers.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from limits import RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError

from app.accounts.exceptions import TooManyLoginAttemptsError
from app.errors import ServiceUnavailableError

log = structlog.get_logger(__name__)

NAMESPACE = "techex-login"


def create_storage(redis_url: str | None) -> Storage:
    """Redis when configured (shared between processes), otherwise this process's memory."""
    if redis_url is None:
        return MemoryStorage()
    # redis-py rather than limits' default coredis: one well-known client for every Redis use.
    return RedisStorage(
        f"async+{redis_url}",
        implementation="redispy",
        key_prefix=NAMESPACE,
        wrap_exceptions=True,
        socket_connect_timeout=2,
        socket_timeout=2,
    )


def _key(*parts: str) -> str:
    """Hash the email so that Redis holds no addresses of accounts in clear."""
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()


class SignInUnavailableError(ServiceUnavailableError):
    code = "SignInUnavailable"
    title = "Sign-in is unavailable for a moment"


@asynccontextmanager
async def _counting() -> AsyncIterator[None]:
    """Without its counts the throttle cannot tell guessing from signing in: refuse (503), never wave through."""
    try:
        yield
    except StorageError as error:
        log.error("login_throttle_storage_failed", error=str(error.storage_error))
        raise SignInUnavailableError("The sign-in counters cannot be reached; retry shortly.") from error


class LoginThrottle:
    def __init__(self, *, storage: Storage, per_account: int, per_account_address: int, window_seconds: int) -> None:
        self._limiter = MovingWindowRateLimiter(storage)
        self._account_limit = RateLimitItemPerSecond(per_account, window_seconds)
        self._pair_limit = RateLimitItemPerSecond(per_account_address, window_seconds)

    def _budgets(self, email: str, address: str) -> tuple[tuple[RateLimitItemPerSecond, str], ...]:
        return (
            (self._account_limit, _key("account", email)),
            (self._pair_limit, _key("pair", email, address)),
        )

    async def check(self, email: str, address: str) -> None:
        """Refuse before checking the password when either budget of failures is spent."""
        for limit, key in self._budgets(email, address):
            async with _counting():
                allowed = await self._limiter.test(limit, key)
                stats = None if allowed else await self._limiter.get_window_stats(limit, key)
            if stats is not None:
                raise TooManyLoginAttemptsError(
                    "Too many failed sign-in attempts; try again later.",
                    retry_after=max(1, math.ceil(stats.reset_time - time.time())),
                )

    async def record_failure(self, email: str, address: str) -> None:
        async with _counting():
            for limit, key in self._budgets(email, address):
                await self._limiter.hit(limit, key)

    async def record_success(self, email: str, address: str) -> None:
        """Forget this address's failures; the account's stay, or a guesser could reset them by proxy."""
        async with _counting():
            await self._limiter.clear(self._pair_limit, _key("pair", email, address))
