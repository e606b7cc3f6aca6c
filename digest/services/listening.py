"""The loop a chat bot's ear runs in (a platform's long poll or sync): poll until told to stop.

A failed poll (network, a refused token) waits a growing, capped delay and says why in one log line;
a stop request interrupts a long poll at once, so shutdown never waits for the platform's timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)
FIRST_DELAY, MAX_DELAY = 5.0, 300.0


async def poll_until(stop: asyncio.Event, poll: Callable[[], Awaitable[object]], label: str,
                     explain: Callable[[BaseException], str] = str) -> None:
    """Run `poll()` again and again until `stop` is set; failures back off 5 s, 10 s, … up to 5 minutes."""
    failures = 0
    while not stop.is_set():
        polling = asyncio.ensure_future(poll())
        stopping = asyncio.ensure_future(stop.wait())
        await asyncio.wait({polling, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if not polling.done():
            polling.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await polling
            return
        stopping.cancel()
        error = polling.exception()
        if error is None:
            failures = 0
            continue
        failures += 1
        delay = min(MAX_DELAY, FIRST_DELAY * 2 ** min(failures - 1, 6))
        log.warning("%s: polling failed, next try in %.0f s: %s", label, delay, explain(error))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), delay)
