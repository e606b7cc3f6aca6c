"""Which delivery channels a process runs: the one place the runtime names each channel.

`build_channels` is called by the sender loop's builder (`digest.runtime.parts.Parts.senders`):
e-mail always, Discord when this process has somewhere to post (`discord_poster`: the live bot, or
the outbox writer when no token is configured). A new channel is registered here and nowhere else.
"""

from __future__ import annotations

from typing import Any

from digest.services.channels import Channel
from digest.settings import Settings
from storage.db import Database


def build_channels(settings: Settings, db: Database, *, discord_poster: Any = None, email: bool = True
                   ) -> list[Channel]:
    """The channels to deliver through, in the order a pass visits them."""
    channels: list[Channel] = []
    if email:
        from digest.email.channel import EmailChannel

        channels.append(EmailChannel(settings, db))
    if discord_poster is not None:
        from digest.discord.channel import DiscordChannel

        channels.append(DiscordChannel(settings, db, discord_poster))
    return channels


def discord_poster(settings: Settings, db: Database, bot: Any = None) -> tuple[Any, str | None]:
    """Where this process posts Discord messages, or None and why it leaves them for another process.

    The bot of this process when it runs one; the outbox writer when no token is configured (so the
    demo and a first try show what would be posted); else nobody here: the bot's process posts them.
    """
    if bot is not None:
        from bot.poster import BotPoster

        return BotPoster(bot, db), None
    if settings.discord_token is None:
        from digest.discord.delivery import OutboxPoster

        return OutboxPoster(settings), None
    return None, "Discord deliveries stay pending for the bot (`paperbell run` or `paperbell bot`)"
