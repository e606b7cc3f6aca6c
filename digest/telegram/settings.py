"""The Telegram channel's settings: the bot token (from @BotFather) and the Bot API base.

Composed by the composition root (digest.runtime.channels) into the settings class a process reads,
so each field is read from `PAPERBELL_<NAME>` and shown by `paperbell config show`
(docs/guides/telegram.md). The API base is a setting so tests point the real client at a double.
"""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from digest.settings import Settings


class TelegramSettings(Settings):
    """Settings with the Telegram channel's fields."""

    # built once, as part of the composed class (digest.runtime.channels), not on its own at import
    model_config = SettingsConfigDict(defer_build=True)

    telegram_token: SecretStr | None = Field(
        default=None, description="Telegram bot token from @BotFather; unset = Telegram chats stay pending."
    )
    telegram_api_url: str = Field(
        default="https://api.telegram.org/bot", description="Telegram Bot API base; the token follows (tests: a double)"
    )
