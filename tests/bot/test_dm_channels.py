"""A member's DM channel is opened once and remembered: after a restart (or discord.py's 128-entry
cache evicting it) the next DM digest costs one request, not two; a remembered channel that is gone
is forgotten and opened again, and the digest still arrives."""

from __future__ import annotations

import asyncio

import pytest

from bot.client import PaperBot
from bot.poster import BotPoster
from digest.discord import dm_channels
from digest.discord.delivery import deliver_discord
from digest.services.matching import run_match_cycle
from digest.services.subscribers import add_subscriber, add_subscription
from digest.settings import Settings
from storage.db import Database
from tests.bot.conftest import PAPERS, World, add_papers, start_bot
from tests.bot.discord_double import DiscordDouble

OPEN_DM = "/users/@me/channels"


def opened(double: DiscordDouble) -> int:
    return sum(1 for r in double.requests if r.method == "POST" and r.path == OPEN_DM)


async def restart(bot: PaperBot, settings: Settings, db: Database, double: DiscordDouble
                  ) -> tuple[PaperBot, asyncio.Task[None]]:
    """A new bot process: discord.py's in-memory DM channels are gone, the database is not."""
    await bot.close()
    return await start_bot(settings, db, double)


async def test_a_restarted_bot_posts_to_the_remembered_dm_without_opening_it_again(
    bot: PaperBot, bot_settings: Settings, double: DiscordDouble, world: World, db: Database,
) -> None:
    member = add_subscriber(db, bot_settings, "discord_user", world.member, guild_id=world.guild, schedule="instant")
    add_subscription(db, bot_settings, member.id or 0, "diffusion")
    add_papers(db, PAPERS[:1])
    run_match_cycle(db, bot_settings)
    first = await deliver_discord(bot_settings, db, BotPoster(bot, db))
    assert first.messages == 1 and opened(double) == 1
    channel_id = dm_channels.stored(db, world.member)
    assert channel_id in double.dm_channels

    bot, runner = await restart(bot, bot_settings, db, double)
    try:
        add_papers(db, PAPERS[2:3], start=3)
        run_match_cycle(db, bot_settings)
        second = await deliver_discord(bot_settings, db, BotPoster(bot, db))
        assert second.messages == 1
        assert opened(double) == 1, "the remembered DM channel is posted to directly"
        assert len(double.messages[channel_id or ""]) == 2
    finally:
        await bot.close()
        await asyncio.gather(runner, return_exceptions=True)


async def test_a_remembered_dm_channel_that_is_gone_is_opened_again_once(
    bot: PaperBot, bot_settings: Settings, double: DiscordDouble, world: World, db: Database,
) -> None:
    member = add_subscriber(db, bot_settings, "discord_user", world.member, guild_id=world.guild, schedule="instant")
    add_subscription(db, bot_settings, member.id or 0, "diffusion")
    gone = "100000000000000777"  # a DM channel Discord no longer knows: posting answers 404 10003
    assert dm_channels.remember(db, world.member, gone)
    add_papers(db, PAPERS[:1])
    run_match_cycle(db, bot_settings)
    report = await deliver_discord(bot_settings, db, BotPoster(bot, db))
    assert report.messages == 1 and not report.paused
    assert [r.status for r in double.requests if r.path == f"/channels/{gone}/messages"] == [404]
    assert opened(double) == 1
    reopened = dm_channels.stored(db, world.member)
    assert reopened not in (None, gone) and len(double.messages[reopened or ""]) == 1


@pytest.mark.parametrize(("user_id", "channel_id"), [
    ("0", "123"), ("12", ""), ("12", "1 OR 1=1"), ("x" * 40, "123"), ("123", "9" * 21), ("-5", "123"),
])
def test_only_snowflakes_are_remembered(db: Database, user_id: str, channel_id: str) -> None:
    assert not dm_channels.remember(db, user_id, channel_id)
    assert dm_channels.stored(db, user_id) is None


def test_remembering_again_replaces_and_forgetting_clears(db: Database) -> None:
    assert dm_channels.remember(db, "42", "1001")
    assert dm_channels.remember(db, "42", "1002")
    assert dm_channels.stored(db, "42") == "1002"
    dm_channels.forget(db, "42")
    assert dm_channels.stored(db, "42") is None
