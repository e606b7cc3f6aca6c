"""Pacing for chat platforms: stay below the documented rate, sit out a 429 within bounds, count the unplanned.

Used by every chat channel's `send` (the chat channel packages) through `Pacer.send`. The
limiter keeps requests below the platform's documented rate (so a 429 is not part of the plan);
when one comes anyway, its `retry_after` is waited out when short (up to `chat_max_ratelimit_wait`)
and otherwise turned into `RetryLater`, so the subscriber's rows go back to pending with that delay
instead of holding a worker. `unplanned` counts the 429s seen (benchmarks report it: it should be 0).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from aiolimiter import AsyncLimiter

from digest.services.posting import RetryLater

T = TypeVar("T")


class RateLimited(Exception):
    """The platform answered 429; `retry_after` is its wait in seconds."""

    def __init__(self, retry_after: float, scope: str = "") -> None:
        super().__init__(f"rate limited{f' ({scope})' if scope else ''}: retry after {retry_after:.1f} s")
        self.retry_after, self.scope = retry_after, scope


class Pacer:
    """One platform's pace: `rate` requests per second after a `burst`, and a bounded wait on 429."""

    def __init__(self, rate: float, *, burst: int = 1, max_wait: float = 30.0, tries: int = 3) -> None:
        self.burst = max(1, burst)
        # aiolimiter: `burst` requests per `burst / rate` seconds = `rate` per second on average
        self.limiter = AsyncLimiter(self.burst, self.burst / rate)
        self.max_wait, self.tries = max_wait, tries
        self.unplanned = 0

    async def send(self, request: Callable[[], Awaitable[T]]) -> T:
        """Run `request` within the pace; on `RateLimited` wait and repeat, or give up as `RetryLater`."""
        for _ in range(self.tries):
            async with self.limiter:
                try:
                    return await request()
                except RateLimited as limited:
                    self.unplanned += 1
                    if limited.retry_after > self.max_wait:
                        raise RetryLater(str(limited), limited.retry_after) from None
                    wait = limited.retry_after
            await asyncio.sleep(wait)  # the platform's own wait, outside the limiter so others go on
        raise RetryLater(f"still rate limited after {self.tries} tries", wait)
