"""Login throttling: failed attempts are counted per account and per client address.

Backed by the `limits` library; its in-memory storage suits one process, and
`RATE_LIMIT_STORAGE_URL=async+redis://…` shares the counts between processes.
"""

from __future__ import annotations

import math
import time

from limits import RateLimitItemPerSecond
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from app.accounts.exceptions import TooManyLoginAttemptsError


class LoginThrottle:
    def __init__(self, *, storage_url: str, per_account: int, per_address: int, window_seconds: int) -> None:
        storage = storage_from_string(storage_url)
        self._limiter = MovingWindowRateLimiter(storage)
        self._account_limit = RateLimitItemPerSecond(per_account, window_seconds)
        self._address_limit = RateLimitItemPerSecond(per_address, window_seconds)

    async def check(self, email: str, address: str) -> None:
        """Refuse before checking the password when either budget of failures is spent."""
        for limit, key in (
            (self._account_limit, f"email:{email}"),
            (self._address_limit, f"ip:{address}"),
        ):
            if not await self._limiter.test(limit, "login", key):
                stats = await self._limiter.get_window_stats(limit, "login", key)
                raise TooManyLoginAttemptsError(
                    "Too many failed sign-in attempts; try again later.",
                    retry_after=math.ceil(stats.reset_time - time.time()),
                )

    async def record_failure(self, email: str, address: str) -> None:
        await self._limiter.hit(self._account_limit, "login", f"email:{email}")
        await self._limiter.hit(self._address_limit, "login", f"ip:{address}")

    async def record_success(self, email: str) -> None:
        await self._limiter.clear(self._account_limit, "login", f"email:{email}")
