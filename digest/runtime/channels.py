"""Which delivery channels a process runs: the one place the runtime names each channel.

`build_channels` is called by the sender loop's builder (`digest.runtime.parts.Parts.senders`):
e-mail always, Discord when this process has somewhere to post (`discord_poster`: the live bot),
the chat channels (ntfy, Slack, …) when their server or token is configured.
A new channel is registered here and nowhere else.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
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
    if settings.ntfy_url:
        from digest.ntfy.channel import ntfy_channel

        channels.append(ntfy_channel(settings, db))
    if settings.slack_enabled or settings.slack_bot_token is not None:
        from digest.slack.channel import slack_channel

        channels.append(slack_channel(settings, db))
    if settings.telegram_token is not None and _installed("telegram", "Telegram"):
        from digest.telegram.channel import telegram_channel

        channels.append(telegram_channel(settings, db))
    if settings.matrix_homeserver and settings.matrix_access_token is not None and _installed("matrix", "Matrix"):
        from digest.matrix.channel import matrix_channel

        channels.append(matrix_channel(settings, db))
    return channels


_LIBRARIES = {"telegram": ("telegram", "python-telegram-bot"), "matrix": ("nio", "matrix-nio")}


def _installed(extra: str, label: str) -> bool:
    """Whether the channel's client library is installed; if not, one line saying how (the papers stay pending)."""
    import importlib.util
    import logging

    module, package = _LIBRARIES[extra]
    if importlib.util.find_spec(module) is not None:
        return True
    logging.getLogger("digest.runtime").error(
        "%s is configured but %s is not installed: pip install 'paperbell[%s]' (its papers stay pending)",
        label, package, extra)
    return False


Listen = Callable[[asyncio.Event], Coroutine[Any, Any, None]]


def chat_listeners(settings: Settings, db: Database) -> list[tuple[str, Listen]]:
    """The chat bots' ears this process runs with its `bot` role: Telegram's getUpdates, Matrix's /sync."""
    listeners: list[tuple[str, Listen]] = []
    if settings.telegram_token is not None and _installed("telegram", "Telegram"):
        from digest.telegram.api import TelegramClient
        from digest.telegram.listener import TelegramListener

        client = TelegramClient(settings.telegram_token.get_secret_value(), settings.telegram_api_url)
        listeners.append(("telegram", TelegramListener(settings, db, client).run))
    if settings.matrix_homeserver and settings.matrix_access_token is not None and _installed("matrix", "Matrix"):
        from digest.matrix.api import MatrixClient
        from digest.matrix.listener import MatrixListener

        account = MatrixClient(settings.matrix_homeserver, settings.matrix_user_id or "",
                               settings.matrix_access_token.get_secret_value(), device_id=settings.matrix_device_id)
        listeners.append(("matrix", MatrixListener(settings, db, account).run))
    return listeners


NO_TOKEN = ("Discord: no bot token (PAPERBELL_DISCORD_TOKEN), so the bot is not running; Discord deliveries "
            "stay pending until it is set (`paperbell discord preview` shows what would be posted)")


def discord_poster(settings: Settings, db: Database, bot: Any = None) -> tuple[Any, str | None]:
    """Where this process posts Discord messages, or None and why it leaves them pending.

    The bot of this process when it runs one; else nobody here. Without a token nothing is posted
    and nothing is marked sent: the rows wait for the bot, so setting a token later delivers them
    (`paperbell discord preview` renders them; only the demo writes them to the outbox folder).
    """
    if bot is not None:
        from bot.poster import BotPoster

        return BotPoster(bot, db), None
    if settings.discord_token is None:
        return None, NO_TOKEN
    return None, "Discord deliveries stay pending for the bot (`paperbell run` or `paperbell bot`)"


def log_bot_state(settings: Settings, roles: frozenset[str] | set[str]) -> None:
    """One line at start saying whether this process runs the Discord bot, and if not why and what then."""
    import logging

    log = logging.getLogger("digest.runtime")
    if "bot" not in roles:
        log.info("Discord: the bot role is not run by this process; another `paperbell run` posts Discord deliveries")
    elif settings.discord_token is None:
        log.warning(NO_TOKEN)
    else:
        log.info("Discord: starting the bot (token set); deliveries are posted once it is connected")
