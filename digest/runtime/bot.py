"""The Discord front end as the CLI reaches it: only the composition root imports `bot`."""

from __future__ import annotations

from digest.settings import Settings
from storage.db import Database


async def sync_commands(settings: Settings, db: Database, guild: int | None) -> list[str]:
    """Register the bot's slash commands (globally, or in one server); returns their names."""
    from bot.client import sync_commands as sync

    return await sync(settings, db, guild)
