"""Telegram's broadcast limits, as data for the shared pacer (digest.services.pacing).

A 429's `retry_after` holds that chat for that long, and the send gives up at once (`max_wait` 0):
the posting loop retries the subscriber after the wait instead of holding a worker.
"""

from __future__ import annotations

from digest.services.pacing import Limits, Pacer, Window


def is_group(chat_id: str) -> bool:
    """Groups, supergroups and channels have negative chat ids (https://core.telegram.org/bots/api#chat)."""
    return chat_id.strip().startswith("-")


# https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this
LIMITS = Limits(
    spacing=1.0,  # "avoid sending more than one message per second" in a chat
    group=Window(20, 60.0),  # "not able to send more than 20 messages per minute to the same group"
    is_group=is_group,
    rate=30.0,  # about 30 messages per second overall for bulk notifications
    margin=1.05,  # 5% under each limit: the platform's clock starts when the request arrives, not when it left
    max_wait=0.0,
)


def pacer(scale: float = 1.0) -> Pacer:
    """A pacer within Telegram's limits; `scale` shrinks every window (tests and the bench; 0 = unpaced)."""
    return Pacer(LIMITS.scaled(scale) if scale != 1.0 else LIMITS)
