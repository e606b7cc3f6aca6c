"""The paperbell Discord bot: a `commands.Bot` built by `create_bot(settings, db, ...)` with its dependencies.

Called by the runtime's composition root (`paperbell run` when a token is set), `paperbell bot sync`
and the end-to-end tests. Dependencies (settings, database, clock) are injected through the factory, as
in discord.py's examples/advanced_startup.py; cogs read them from `bot.settings` / `bot.db`.
Slash commands are registered to the development guild at start-up when one is configured, globally
only through `paperbell bot sync` (Discord rate-limits global registration; never on every start).

Blocking work never runs on the event loop (it also carries the gateway heartbeat and every member's
3-second interaction window): `bot.run_db` runs quick database calls on the bot's own small pool, and
`bot.run_heavy` runs searches on a separate one, so a burst of searches queues among itself and can
never starve /subscriptions, autocomplete or the delivery service (which uses the default pool).
A rate-limit wait longer than `discord_max_ratelimit_wait` raises instead of holding a send slot.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any, TypeVar

import discord
import yarl
from discord import app_commands
from discord.ext import commands
from discord.gateway import DiscordWebSocket
from discord.http import Route

from bot.errors import explain_app_command_error
from bot.feedback import VoteButton
from digest.settings import Settings
from storage.db import Database
from storage.types import utcnow

log = logging.getLogger(__name__)
T = TypeVar("T")

COGS = ("bot.cogs.subscriptions", "bot.cogs.search", "bot.cogs.digest", "bot.cogs.admin", "bot.cogs.feedback",
        "bot.cogs.follow")


def point_at_api(api_base: str) -> None:
    """Send discord.py's REST calls to `api_base` (Discord itself, or a local double in tests).

    discord.py keeps the REST base on `Route.BASE` (a class attribute read when each Route is built).
    """
    Route.BASE = api_base.rstrip("/")


class PaperTree(app_commands.CommandTree):
    """The command tree; every failed command answers with one ephemeral line saying why."""

    async def on_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        message, expected = explain_app_command_error(error)
        if not expected:
            log.error("command %s failed", interaction.command and interaction.command.qualified_name,
                      exc_info=error)
        from bot.replies import answer

        try:
            await answer(interaction, message)
        except discord.HTTPException as failed:  # e.g. the interaction expired: nothing left to tell
            log.info("could not report a command error: %s", failed)


def shard_options(settings: Settings) -> dict[str, Any]:
    """discord.py's sharding arguments from `discord_shards` ('0,1/4'); none: every shard, count from Discord.

    Discord requires sharding from 2,500 servers; a process runs the shards it is given, so several
    processes can split a large bot between them.
    """
    if settings.discord_shards is None:
        return {}
    ids_text, _, count_text = settings.discord_shards.partition("/")
    ids, count = sorted({int(i) for i in ids_text.split(",")}), int(count_text)
    if count < 1 or ids[-1] >= count:
        raise ValueError(f"PAPERBELL_DISCORD_SHARDS={settings.discord_shards}: shard ids must be below the count")
    return {"shard_ids": ids, "shard_count": count}


class PaperBot(commands.AutoShardedBot):
    """The bot (sharded as Discord requires past 2,500 servers); holds the injected services every cog uses."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        *,
        clock: Callable[[], datetime] = utcnow,
        sync_dev_guild: bool = True,
        **options: Any,
    ) -> None:
        options.setdefault("max_ratelimit_timeout", settings.discord_max_ratelimit_wait)
        for key, value in shard_options(settings).items():
            options.setdefault(key, value)
        # Slash commands and interactions arrive whatever the intents; the guild cache (channels, roles,
        # permissions for /admin checks) needs GUILDS. Nothing else: no message, typing or member events,
        # and no privileged intent to ask Discord for.
        intents = options.pop("intents", None) or discord.Intents(guilds=True)
        # No prefix at all (an empty list): slash commands only, so "@paperbell hi" is not a command and
        # discord.py has no reason to warn about the message content intent.
        # Where commands may be used, declared as Discord's `contexts`/`integration_types` (the successors of
        # the deprecated `dm_permission`): servers and the bot's DMs, installed to servers only. /admin
        # narrows this to servers.
        options.setdefault("allowed_contexts", app_commands.AppCommandContext(guild=True, dm_channel=True))
        options.setdefault("allowed_installs", app_commands.AppInstallationType(guild=True, user=False))
        super().__init__(
            command_prefix=[], intents=intents, help_command=None, tree_cls=PaperTree, **options
        )
        self.settings = settings
        self.db = db
        self.clock = clock
        self.sync_dev_guild = sync_dev_guild
        threads = settings.discord_bot_threads
        self.quick_pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="bot-quick")
        self.heavy_pool = ThreadPoolExecutor(max_workers=max(1, threads // 2), thread_name_prefix="bot-heavy")

    async def run_db(self, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """A short blocking call (one query, one write) on the bot's own pool."""
        return await asyncio.get_running_loop().run_in_executor(self.quick_pool, functools.partial(func, *args,
                                                                                                  **kwargs))

    async def run_heavy(self, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """A long blocking call (search: scan, match, rank) on the pool that only heavy work shares."""
        return await asyncio.get_running_loop().run_in_executor(self.heavy_pool, functools.partial(func, *args,
                                                                                                  **kwargs))

    async def close(self) -> None:
        await super().close()
        self.quick_pool.shutdown(wait=False, cancel_futures=True)
        self.heavy_pool.shutdown(wait=False, cancel_futures=True)

    async def setup_hook(self) -> None:
        # Like AutoShardedClient, ask the API for the gateway URL instead of assuming discord.gg.
        _, url, _ = await self.http.get_bot_gateway()
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(url)
        for name in COGS:
            await self.load_extension(name)
        self.add_dynamic_items(VoteButton)  # 👍/👎 on posted papers, also those posted before a restart
        guild_id = self.settings.discord_dev_guild_id
        if guild_id and self.sync_dev_guild:
            guild = discord.Object(id=guild_id)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
            log.info("registered %d slash commands in development guild %s", len(synced), guild_id)


def create_bot(
    settings: Settings,
    db: Database,
    *,
    clock: Callable[[], datetime] = utcnow,
    sync_dev_guild: bool = True,
    **options: Any,
) -> PaperBot:
    """Build the bot with its dependencies; extra `options` go to discord.Client (e.g. guild_ready_timeout)."""
    point_at_api(settings.discord_api_base)
    return PaperBot(settings, db, clock=clock, sync_dev_guild=sync_dev_guild, **options)


async def sync_commands(settings: Settings, db: Database, guild_id: int | None = None) -> list[str]:
    """Register the slash commands globally (or in one guild) and return their names; used by `bot sync`."""
    if settings.discord_token is None:
        raise RuntimeError("PAPERBELL_DISCORD_TOKEN is not set")
    bot = create_bot(settings, db, sync_dev_guild=False)
    async with bot:
        await bot.login(settings.discord_token.get_secret_value())
        if guild_id is not None:
            guild = discord.Object(id=guild_id)
            bot.tree.copy_global_to(guild=guild)
            synced = await bot.tree.sync(guild=guild)
        else:
            synced = await bot.tree.sync()
    return [command.name for command in synced]
