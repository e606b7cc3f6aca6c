"""Pacing below Telegram's broadcast limits, so a delivery pass meets no 429 it could have avoided.

https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this: "avoid sending more
than one message per second" in a chat, "not able to send more than 20 messages per minute to the same
group", and about 30 messages per second overall for bulk notifications. Groups, supergroups and
channels have negative chat ids (https://core.telegram.org/bots/api#chat), so they get the group limit.
A 429's `retry_after` holds that chat for that long.
Each send reserves its slot before it waits, so concurrent senders never share one.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable

PER_CHAT_SECONDS = 1.0
GROUP_PER_MINUTE = 20
OVERALL_PER_SECOND = 30
MARGIN = 1.05  # 5% under each limit: the platform's clock starts when the request arrives, not when it left


class Pacer:
    """Per-chat spacing, then overall spacing in arrival order; `scale` shrinks every window (tests only).

    One chat's parts are sent one after the other (the delivery loop sends a subscriber's parts in
    order), so the per-chat check reads the times its earlier messages actually left.
    """

    def __init__(self, *, scale: float = 1.0, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.scale, self.clock, self.sleep = scale, clock, sleep
        self._chats: dict[int, deque[float]] = {}
        self._next_overall = 0.0
        self._held: dict[int, float] = {}
        self.waited = 0.0  # seconds spent waiting for a slot, for the bench's report

    def _chat_ready(self, chat_id: int) -> float:
        times = self._chats.get(chat_id)
        at = self._held.get(chat_id, 0.0)
        if times:
            at = max(at, times[-1] + PER_CHAT_SECONDS * MARGIN * self.scale)
            if chat_id < 0 and len(times) == GROUP_PER_MINUTE:
                at = max(at, times[0] + 60.0 * MARGIN * self.scale)
        return at

    async def _until(self, at: float) -> None:
        delay = at - self.clock()
        if delay > 0:
            self.waited += delay
            await self.sleep(delay)

    async def wait(self, chat_id: int) -> None:
        """Return when a message to `chat_id` may leave without breaking a limit; records that it left."""
        await self._until(self._chat_ready(chat_id))
        at = max(self.clock(), self._next_overall)
        self._next_overall = at + MARGIN * self.scale / OVERALL_PER_SECOND
        await self._until(at)
        self._chats.setdefault(chat_id, deque(maxlen=GROUP_PER_MINUTE)).append(self.clock())

    def hold(self, chat_id: int, seconds: float) -> None:
        """Telegram said retry after `seconds`: nothing more to this chat before then."""
        self._held[chat_id] = max(self._held.get(chat_id, 0.0), self.clock() + seconds)
