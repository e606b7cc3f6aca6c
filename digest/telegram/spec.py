"""The Telegram channel as the composition root registers it: its subscriber kind, settings and listener.

Light on purpose (no python-telegram-bot): every command imports it to know the channel is there.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from digest.services.channel_specs import ChatKind, ChatSpec, Listen, own_settings
from digest.services.chat_targets import TargetShape

if TYPE_CHECKING:
    from digest.services.channels import Channel
    from digest.settings import Settings
    from digest.telegram.settings import TelegramSettings
    from storage.db import Database

CHAT = "telegram_chat"  # a chat id (users, groups: negative, channels: -100…)

# https://core.telegram.org/bots/api#sendmessage chat_id: integer (groups negative, channels -100…)
_SHAPE = TargetShape(re.compile(r"-?[1-9][0-9]{0,15}"), "a Telegram chat id (an integer, e.g. -1001234567890)",
                     "Telegram")


def _settings() -> type[TelegramSettings]:
    """The package's settings class (imported here: pydantic is not loaded for `paperbell --help`)."""
    from digest.telegram.settings import TelegramSettings

    return TelegramSettings


def _ready(settings: Settings) -> bool:
    return isinstance(settings, _settings()) and settings.telegram_token is not None


def _build(settings: Settings, db: Database) -> Channel:
    from digest.telegram.channel import telegram_channel

    return telegram_channel(own_settings(settings, _settings()), db)


def _listener(settings: Settings, db: Database) -> Listen:
    """The bot's ear: getUpdates, answering /subscribe, /list, /search and the vote buttons."""
    from digest.telegram.api import TelegramClient
    from digest.telegram.listener import TelegramListener

    own = own_settings(settings, _settings())
    assert own.telegram_token is not None  # `_ready`
    client = TelegramClient(own.telegram_token.get_secret_value(), own.telegram_api_url)
    return TelegramListener(own, db, client).run


SPEC = ChatSpec(
    name="telegram", label="Telegram", kinds=(ChatKind(CHAT, _SHAPE, needs=("telegram_token",)),),
    settings=_settings, ready=_ready, build=_build, library=("telegram", "python-telegram-bot"),
    listener=_listener, votes=True,
)
