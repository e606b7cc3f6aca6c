"""The Discord channel behind the `Channel` protocol: instant posts and digests through a poster.

The poster is the live bot's (`bot.poster.BotPoster`) in a process that runs the bot, or the outbox
writer when no token is configured; the composition root chooses. A pass also tells channels on a
day without an arXiv announcement why nothing came (`digest.services.quiet_days`).
"""

from __future__ import annotations

import json
import logging
from datetime import datetime

from digest.discord.delivery import (
    DeliveryRefused,
    MessageRejected,
    Poster,
    deliver_discord,
    due_subscribers,
    pending_digest,
)
from digest.services.channels import ChannelPass, FailureKind
from digest.services.quiet_days import tell_quiet_day
from digest.services.subscribers import get_subscriber
from digest.settings import Settings
from storage.db import Database

log = logging.getLogger(__name__)


class DiscordChannel:
    """Discord channels, threads, forums, webhooks and DMs."""

    name = "discord"

    def __init__(self, settings: Settings, db: Database, poster: Poster) -> None:
        self.settings, self.db, self.poster = settings, db, poster

    async def due(self, now: datetime) -> list[int]:
        return [s.id for s in await self.db.run(due_subscribers, self.db, now) if s.id is not None]

    async def deliver_due(self, now: datetime, *, spend_empty_slots: bool = True) -> ChannelPass:
        posts = await deliver_discord(self.settings, self.db, self.poster, now, spend_empty_slots=spend_empty_slots)
        report = ChannelPass(self.name, messages=int(posts.messages), papers=int(posts.papers))
        report.failures += [f"subscriber #{sid}: {reason}" for sid, reason in posts.errors]
        report.count("paused", len(posts.paused))
        try:
            report.messages += await tell_quiet_day(self.settings, self.db, self.poster, now)
        except Exception:  # a notice must never stop delivery
            log.exception("quiet-day notice failed")
        return report

    async def preview(self, subscriber_id: int, now: datetime) -> str:
        subscriber = await self.db.run(get_subscriber, self.db, subscriber_id)
        _, messages = await pending_digest(self.settings, self.db, subscriber, now)
        return json.dumps(messages, indent=2, ensure_ascii=False)  # the bodies Discord would receive

    async def aclose(self) -> None:
        return None  # the poster is the bot's (closed with the bot) or the outbox writer: nothing of ours to close

    def classify(self, error: BaseException) -> FailureKind:
        if isinstance(error, MessageRejected):
            return FailureKind.REFUSED
        if isinstance(error, DeliveryRefused):
            return FailureKind.UNREACHABLE
        return FailureKind.TRANSIENT
