"""In-memory sliding-window rate limits for the web front (subscribe, preview, send-now).

Per process: behind several web workers each enforces its own window (documented in the README).
The number of keys is bounded, so a flood of distinct keys cannot exhaust memory: the least
recently used keys are forgotten first.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable


class RateLimiter:
    """At most `limit` hits per `window` seconds per key."""

    def __init__(
        self, limit: int, window: float, *, max_keys: int = 10_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit, self.window, self.max_keys, self.clock = limit, window, max_keys, clock
        self._hits: OrderedDict[str, deque[float]] = OrderedDict()

    def allow(self, key: str) -> bool:
        """Record a hit for `key` and say whether it is within the limit (refused hits are not counted)."""
        now = self.clock()
        hits = self._hits.pop(key, None) or deque()
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        allowed = len(hits) < self.limit
        if allowed:
            hits.append(now)
        self._hits[key] = hits
        while len(self._hits) > self.max_keys:
            self._hits.popitem(last=False)
        return allowed
