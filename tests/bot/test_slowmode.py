"""Slowmode as Discord documents it (tests/bot/discord_double/rules_v2.py cites the pages): a channel's
`rate_limit_per_user` spares bots; should Discord refuse the bot anyway (429 20016), the delivery waits the
slowmode out instead of knocking again every 30 s, and says why."""

from __future__ import annotations

from bot.client import PaperBot
from bot.poster import BotPoster
from digest.discord.delivery import TransientBackoff, deliver_discord
from digest.services.matching import run_match_cycle
from storage.db import Database
from storage.models import DeliveryStatus
from tests.bot.conftest import World, add_papers
from tests.bot.discord_double import DiscordDouble
from tests.bot.test_delivery import ledger
from tests.bot.test_platform_rules import admin

SLOWMODE_S = 600


async def _slow_channel_feed(double: DiscordDouble, world: World, db: Database) -> None:
    double.set_slowmode(world.papers_channel, SLOWMODE_S)  # heard by the bot before the command below
    add_papers(db)
    assert "Saved **#" in await admin(double, world, "admin subscribe", channel=world.papers_channel,
                                      query="diffusion")
    assert "as each paper arrives" in await admin(double, world, "admin schedule", channel=world.papers_channel,
                                                  mode="instant")


async def test_slowmode_spares_the_bot(bot: PaperBot, double: DiscordDouble, world: World, db: Database) -> None:
    await _slow_channel_feed(double, world, db)
    run_match_cycle(db, bot.settings)
    report = await deliver_discord(bot.settings, db, BotPoster(bot, db))
    assert (report.messages, double.rate_limited) == (2, 0)  # two posts well within 600 s, no 429


async def test_a_slowmode_refusal_waits_the_slowmode_and_says_so(
    bot: PaperBot, double: DiscordDouble, world: World, db: Database
) -> None:
    await _slow_channel_feed(double, world, db)
    double.slowmode.spares_bots = False  # Discord applies slowmode to the bot after all
    double.slowmode.touch(world.papers_channel, double.application_id)  # it has just posted there
    run_match_cycle(db, bot.settings)
    now = [0.0]
    poster = BotPoster(bot, db)
    poster.backoff = TransientBackoff(clock=lambda: now[0])
    report = await deliver_discord(bot.settings, db, poster)
    assert report.messages == 0 and double.rate_limited == 1  # one 429, then the bot stops knocking
    [(_, error)] = report.errors
    assert f"slowmode ({SLOWMODE_S} s between messages)" in error
    assert {r.status for r in ledger(db)} == {DeliveryStatus.PENDING}  # nothing lost
    now[0] = SLOWMODE_S / 2  # the fixed 30 s back-off would knock again here
    assert (await deliver_discord(bot.settings, db, poster)).backing_off == 1
    assert double.rate_limited == 1
    now[0] = SLOWMODE_S + 1.0
    double.slowmode.spares_bots = True
    assert (await deliver_discord(bot.settings, db, poster)).papers == 2
