"""Lifecycle updates and query health on Discord, through the double and the real ingest path: a member opts
in with `/subscriptions edit: updates:`, receives a paper as an instant DM, and hears of its v4 once, as a
short post; `/subscriptions` says how many papers each query matched in 30 days."""

from __future__ import annotations

from bot.client import PaperBot
from bot.poster import BotPoster
from digest.core.lifecycle import SECTION_TITLE
from digest.discord.delivery import deliver_discord
from digest.services.ingest import ingest_sources
from digest.services.lifecycle import pending_updates
from digest.services.matching import run_match_cycle
from digest.services.subscribers import add_subscriber, add_subscription, set_schedule
from storage.db import Database
from tests.bot.conftest import World
from tests.bot.discord_double import DiscordDouble
from tests.digest.services.test_lifecycle import FIXTURES


async def test_an_instant_member_hears_of_a_new_version_once(
    bot: PaperBot, double: DiscordDouble, world: World, db: Database
) -> None:
    member = add_subscriber(db, bot.settings, "discord_user", world.member, guild_id=world.guild)
    subscription = add_subscription(db, bot.settings, member.id or 0, "deniable")
    set_schedule(db, member.id or 0, schedule="instant")
    token = await double.run_command(world.guild, world.other_channel, world.member, "subscriptions",
                                     edit=subscription.id, updates="version")
    assert "Updates on new-version" in (await double.answer_of(token))["content"]
    bad = await double.run_command(world.guild, world.other_channel, world.member, "subscriptions",
                                   edit=subscription.id, updates="gossip")
    assert "unknown update kind 'gossip'" in (await double.answer_of(bad))["content"]

    await ingest_sources(bot.settings, db, [f"file:{FIXTURES / 'arxiv_rss_day1.xml'}"])
    run_match_cycle(db, bot.settings)
    await deliver_discord(bot.settings, db, BotPoster(bot, db))
    [dm] = double.dm_channels
    assert len(double.messages[dm]) == 1  # the paper itself

    await ingest_sources(bot.settings, db, [f"file:{FIXTURES / 'arxiv_rss_day3.xml'}"])
    for _ in range(2):  # a second pass posts nothing more
        await deliver_discord(bot.settings, db, BotPoster(bot, db))
    posts = [m.get("content", "") for m in double.messages[dm][1:]]
    assert len(posts) == 1 and SECTION_TITLE in posts[0] and "v4 appeared (you received this on" in posts[0]
    assert pending_updates(db, member.id or 0) == []

    listed = await double.run_command(world.guild, world.other_channel, world.member, "subscriptions")
    reply = await double.answer_of(listed)
    text = reply.get("content", "") + "".join(e.get("description", "") for e in reply.get("embeds", []))
    assert "1 paper in the last 30 days" in text


async def test_a_daily_member_gets_updates_after_the_next_digest_once(
    bot: PaperBot, double: DiscordDouble, world: World, db: Database
) -> None:
    from datetime import timedelta

    from digest.services.lifecycle import set_update_kinds
    from digest.services.subscribers import get_subscriber

    member = add_subscriber(db, bot.settings, "discord_user", world.member, guild_id=world.guild)
    subscription = add_subscription(db, bot.settings, member.id or 0, "deniable OR self-adjoint")
    set_update_kinds(db, subscription.id or 0, "all")
    created = get_subscriber(db, member.id or 0).created_at
    set_schedule(db, member.id or 0, schedule="daily", hour=(created.hour + 3) % 24, timezone="UTC")
    slots = [created + timedelta(hours=4, days=day) for day in range(3)]

    await ingest_sources(bot.settings, db, [f"file:{FIXTURES / 'arxiv_rss_day1.xml'}"])
    run_match_cycle(db, bot.settings)
    await deliver_discord(bot.settings, db, BotPoster(bot, db), now=slots[0])
    await ingest_sources(bot.settings, db, [f"file:{FIXTURES / 'arxiv_rss_day3.xml'}"])  # v4 + a new paper
    run_match_cycle(db, bot.settings)
    await deliver_discord(bot.settings, db, BotPoster(bot, db), now=slots[1])
    await deliver_discord(bot.settings, db, BotPoster(bot, db), now=slots[2])  # nothing new: no digest, no post
    [dm] = double.dm_channels
    contents = [m.get("content", "") for m in double.messages[dm]]
    told = [c for c in contents if SECTION_TITLE in c]
    assert len(told) == 1 and "v4 appeared" in told[0]
    assert contents.index(told[0]) == len(contents) - 1  # after the second digest, not before it
