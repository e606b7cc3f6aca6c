"""Pacing for chat platforms: each platform's documented limits as data, one pacer that keeps below them.

Every chat channel package states its platform's
limits as a `Limits` (with the page that documents them) and sends through `Pacer.send`. A send
leaves only when all of these allow it:
  - `spacing`: seconds between two sends to one target (a chat, a channel, a room);
  - `group`: at most `count` sends per `seconds` to a target that `is_group` (a platform's group chats);
  - `rate` after a `burst`: sends per second over all targets (a token bucket: `burst` at once,
    then one per 1/`rate` s);
  - a hold: after a 429 its target waits out the platform's `retry_after`; other targets go on.
Every window is `margin` longer than documented: the platform's clock starts when the request
arrives, not when it left. So a 429 is not part of the plan; when one comes anyway its target is
held for `retry_after` and the send repeats after the hold when that is short (up to `max_wait`),
else gives up as `RetryLater` (the subscriber's rows go back to pending with that delay instead of
holding a worker). `unplanned` counts the 429s met (benchmarks report it: it should be 0).

Each send reserves its slot before it waits (the check and the reservation run without an await
between them), so concurrent senders never share a slot.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import TypeVar

from digest.services.posting import RetryLater

T = TypeVar("T")


class RateLimited(Exception):
    """The platform answered 429; `retry_after` is its wait in seconds."""

    def __init__(self, retry_after: float, scope: str = "") -> None:
        super().__init__(f"rate limited{f' ({scope})' if scope else ''}: retry after {retry_after:.1f} s")
        self.retry_after, self.scope = retry_after, scope


def _never(target: str) -> bool:
    return False


@dataclass(frozen=True)
class Window:
    """At most `count` sends in any `seconds`."""

    count: int
    seconds: float


@dataclass(frozen=True)
class Limits:
    """One platform's documented limits (see the module docstring); the defaults limit nothing."""

    spacing: float = 0.0  # seconds between two sends to one target
    group: Window | None = None  # per target for which `is_group` is true
    is_group: Callable[[str], bool] = field(default=_never, compare=False)
    rate: float = math.inf  # sends per second over all targets, after …
    burst: int = 1  # … this many at once
    margin: float = 1.0  # every window this much longer than documented
    max_wait: float = 30.0  # a 429 wait up to this long is sat out; longer gives up as RetryLater
    tries: int = 3  # sends of one request, 429s included

    def scaled(self, factor: float) -> Limits:
        """Every window `factor` times as long (tests and benchmarks against doubles scaled alike; 0 = unpaced)."""
        group = Window(self.group.count, self.group.seconds * factor) if self.group else None
        rate = self.rate / factor if factor > 0 else math.inf
        return replace(self, spacing=self.spacing * factor, group=group, rate=rate)


class Pacer:
    """Sends within one platform's `Limits`; `clock` and `sleep` are injectable (tests walk virtual time)."""

    def __init__(self, limits: Limits, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.limits, self.clock, self.sleep = limits, clock, sleep
        self._interval = limits.margin / limits.rate if limits.rate > 0 else math.inf
        self._tolerance = (max(1, limits.burst) - 1) * self._interval
        self._next = -math.inf  # the bucket's theoretical next slot (GCRA); a burst may come `tolerance` early
        self._sent: dict[str, deque[float]] = {}  # per target: when its latest sends left
        self._held: dict[str, float] = {}
        self.unplanned = 0

    def _target_ready(self, target: str) -> float:
        """When `target` may have its next send: after its hold, its spacing and its group window."""
        at = self._held.get(target, -math.inf)
        times = self._sent.get(target)
        if times:
            at = max(at, times[-1] + self.limits.spacing * self.limits.margin)
            group = self.limits.group
            if group is not None and len(times) >= group.count and self.limits.is_group(target):
                at = max(at, times[-group.count] + group.seconds * self.limits.margin)
        return at

    def _reserve(self, target: str, now: float) -> float:
        """Take the next slot of the overall bucket at `now` or later; records it as the target's send."""
        at = max(now, self._next - self._tolerance)
        self._next = max(self._next, at) + self._interval
        keep = max(1, self.limits.group.count if self.limits.group else 1)
        self._sent.setdefault(target, deque(maxlen=keep)).append(at)
        return at

    async def wait(self, target: str = "") -> None:
        """Return when a send to `target` may leave without breaking a limit; records that it left."""
        while True:
            now = self.clock()
            ready = self._target_ready(target)
            if ready <= now:
                break
            await self.sleep(ready - now)
        at = self._reserve(target, now)
        if at > now:
            await self.sleep(at - now)
        times = self._sent[target]
        if times and times[-1] == at:  # scheduled late: the target's next send counts from when this one left
            times[-1] = max(at, self.clock())

    def hold(self, target: str, seconds: float) -> None:
        """The platform said retry after `seconds`: nothing more to `target` before then."""
        self._held[target] = max(self._held.get(target, -math.inf), self.clock() + seconds)

    async def send(self, request: Callable[[], Awaitable[T]], target: str = "") -> T:
        """Run `request` within the limits; on `RateLimited` hold the target and repeat, or give up as `RetryLater`."""
        limited = RateLimited(0.0)
        for _ in range(self.limits.tries):
            await self.wait(target)
            try:
                return await request()
            except RateLimited as said:
                limited = said
                self.unplanned += 1
                self.hold(target, said.retry_after)
                if said.retry_after > self.limits.max_wait:
                    raise RetryLater(str(said), said.retry_after) from None
        raise RetryLater(f"still rate limited after {self.limits.tries} tries", limited.retry_after)
