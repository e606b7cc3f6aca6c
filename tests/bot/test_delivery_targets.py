"""Forum posts, digest threads, role mentions, webhook identity and their pauses, end to end:
the live bot's poster against the double's forums, threads, webhooks and roles."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from bot.client import PaperBot
from bot.poster import BotPoster
from digest.discord.delivery import deliver_discord
from digest.discord.targets import set_target
from digest.services.matching import run_match_cycle
from digest.services.subscribers import add_subscriber, add_subscription, get_subscriber, set_schedule
from storage.db import Database
from storage.models import Subscriber
from tests.bot.conftest import World, add_papers
from tests.bot.discord_double import DiscordDouble
from tests.bot.discord_double.payloads import CREATE_PUBLIC_THREADS, MANAGE_WEBHOOKS


def channel_subscriber(bot: PaperBot, db: Database, world: World, channel: str, query: str = "diffusion",
                       schedule: str = "instant", **target: Any) -> Subscriber:
    subscriber = add_subscriber(db, bot.settings, "discord_channel", channel, guild_id=world.guild)
    add_subscription(db, bot.settings, subscriber.id or 0, query)
    created = get_subscriber(db, subscriber.id or 0).created_at
    set_schedule(db, subscriber.id or 0, schedule=schedule, hour=(created.hour + 1) % 24, timezone="UTC")
    if target:
        set_target(db, subscriber.id or 0, **target)
    return get_subscriber(db, subscriber.id or 0)


async def deliver(bot: PaperBot, db: Database, subscriber: Subscriber) -> Any:
    run_match_cycle(db, bot.settings)
    return await deliver_discord(bot.settings, db, BotPoster(bot, db), now=subscriber.created_at + timedelta(hours=2))


async def test_instant_papers_become_one_forum_post_each_with_the_matching_tags(
    bot: PaperBot, double: DiscordDouble, world: World, db: Database
) -> None:
    forum = double.add_forum(world.guild, "papers-forum", ("cs.LG", "Diffusion", "cs.CL"), require_tag=True)
    tags = {t["name"]: t["id"] for t in double.guilds[world.guild].channels[forum]["available_tags"]}
    subscriber = channel_subscriber(bot, db, world, forum, kind="forum")
    add_papers(db)
    report = await deliver(bot, db, subscriber)

    posts = double.threads_of(forum)
    assert report.paused == [] and report.messages == 2
    assert sorted(t["name"] for t in posts) == ["Diffusion models for protein design",
                                                "Latent diffusion with fewer steps"]
    for post in posts:
        assert sorted(post["applied_tags"]) == sorted([tags["cs.LG"], tags["Diffusion"]]), "category and query tags"
        starter = double.thread_starter(post["id"])
        assert starter["embeds"][0]["title"] == post["name"] and starter["mention_roles"] == []


async def test_a_digest_opens_a_thread_and_its_later_parts_go_inside(
    bot: PaperBot, double: DiscordDouble, world: World, db: Database
) -> None:
    subscriber = channel_subscriber(bot, db, world, world.papers_channel, schedule="daily", open_thread=True)
    add_papers(db, [(f"Diffusion study {n}", "A diffusion model result.") for n in range(23)])
    report = await deliver(bot, db, subscriber)

    assert report.papers == 23 and report.paused == []
    [first] = double.messages[world.papers_channel]
    [thread] = double.threads_of(world.papers_channel)
    assert thread["id"] == first["id"] and thread["name"].startswith("Papers for ")
    inside = double.messages[thread["id"]]
    assert len(inside) == 2, "the digest's later parts are posted inside its thread"
    assert sum(len(m["embeds"]) for m in [first, *inside]) == 23


async def test_a_forum_digest_is_one_post_named_for_the_day(
    bot: PaperBot, double: DiscordDouble, world: World, db: Database
) -> None:
    forum = double.add_forum(world.guild, "digests")
    subscriber = channel_subscriber(bot, db, world, forum, schedule="daily", kind="forum", style="compact")
    add_papers(db, [(f"Diffusion study {n}", "A diffusion model result.") for n in range(30)])
    await deliver(bot, db, subscriber)

    [post] = double.threads_of(forum)
    assert post["name"] == f"Papers for {subscriber.created_at + timedelta(hours=2):%a %d %b}"
    lines = [line for m in double.messages[post["id"]] for line in m["content"].splitlines()[1:]]
    assert len(lines) == 30 and all(line.startswith("[Diffusion study ") for line in lines)


async def test_a_role_mention_pings_only_that_role(
    bot: PaperBot, double: DiscordDouble, world: World, db: Database
) -> None:
    readers, other = double.add_role(world.guild, "nlp-readers"), double.add_role(world.guild, "others")
    for role in (readers, other):
        double.set_role(world.guild, role, mentionable=True)
    subscriber = channel_subscriber(bot, db, world, world.papers_channel, role_id=readers, style="compact")
    # a hostile title that names another role and @everyone: shown, never pinging
    add_papers(db, [(f"Diffusion for <@&{other}> and @everyone", "A diffusion model."),
                    ("Diffusion again", "Another diffusion model.")])
    await deliver(bot, db, subscriber)

    posted = double.messages[world.papers_channel]
    assert len(posted) == 2
    for message in posted:
        assert message["content"].startswith(f"<@&{readers}>")
        assert message["mention_roles"] == [readers] and message["mention_everyone"] is False


async def test_webhook_posts_carry_the_subscriptions_name_and_avatar(
    bot: PaperBot, double: DiscordDouble, world: World, db: Database
) -> None:
    double.set_overwrite(world.papers_channel, world.guild, allow=MANAGE_WEBHOOKS)
    placer = BotPoster(bot, db).placer
    webhook = await placer.channel_webhook(world.papers_channel, "cs.CL bot", str(bot.application_id))
    subscriber = channel_subscriber(bot, db, world, world.papers_channel, kind="webhook", webhook_id=webhook["id"],
                                    webhook_token=webhook["token"], webhook_name="cs.CL bot",
                                    webhook_avatar="https://example.org/bell.png")
    add_papers(db)
    report = await deliver(bot, db, subscriber)

    posted = double.messages[world.papers_channel]
    assert report.messages == 2 and len(posted) == 2
    assert {(m["author"]["username"], m["author"]["avatar"], m["webhook_id"]) for m in posted} == {
        ("cs.CL bot", "https://example.org/bell.png", webhook["id"])}


@pytest.mark.parametrize("gone", ["forum", "thread", "webhook"])
async def test_a_deleted_forum_thread_or_webhook_pauses_with_the_reason(
    bot: PaperBot, double: DiscordDouble, world: World, db: Database, gone: str
) -> None:
    double.set_overwrite(world.papers_channel, world.guild, allow=MANAGE_WEBHOOKS)
    if gone == "forum":
        channel, target = double.add_forum(world.guild, "gone-forum"), {"kind": "forum"}
        double.delete_channel(channel)
    elif gone == "thread":
        thread = double.add_thread(world.papers_channel, "reading")
        channel, target = world.papers_channel, {"kind": "thread", "thread_id": thread}
        double.delete_channel(thread)
    else:
        placer = BotPoster(bot, db).placer
        webhook = await placer.channel_webhook(world.papers_channel, "papers", str(bot.application_id))
        channel, target = world.papers_channel, {"kind": "webhook", "webhook_id": webhook["id"],
                                                 "webhook_token": webhook["token"], "webhook_name": "papers"}
        double.delete_webhook(webhook["id"])
    subscriber = channel_subscriber(bot, db, world, channel, **target)
    add_papers(db)
    report = await deliver(bot, db, subscriber)

    reason = "the webhook was deleted" if gone == "webhook" else "the channel was deleted"
    assert report.paused == [(subscriber.id, reason)]
    stored = get_subscriber(db, subscriber.id or 0)
    assert stored.paused and stored.pause_reason == reason


@pytest.mark.parametrize("problem", ["tag-required", "archived-thread"])
async def test_a_forum_needing_a_tag_or_an_archived_thread_pauses_with_the_reason(
    bot: PaperBot, double: DiscordDouble, world: World, db: Database, problem: str
) -> None:
    if problem == "tag-required":  # no tag of this forum is named like a category or the query
        channel, target = double.add_forum(world.guild, "strict", ("robotics",), require_tag=True), {"kind": "forum"}
        reason = "the forum requires a tag and none of its tags is named like a category or query"
    else:
        thread = double.add_thread(world.papers_channel, "old")
        double.guilds[world.guild].channels[thread]["thread_metadata"].update(archived=True, locked=True)
        channel, target = world.papers_channel, {"kind": "thread", "thread_id": thread}
        reason = "the thread is archived"
    subscriber = channel_subscriber(bot, db, world, channel, **target)
    add_papers(db)
    report = await deliver(bot, db, subscriber)
    assert report.paused == [(subscriber.id, reason)] and report.messages == 0


async def test_a_thread_refused_after_the_post_keeps_the_post_and_its_ledger(
    bot: PaperBot, double: DiscordDouble, world: World, db: Database
) -> None:
    double.set_overwrite(world.papers_channel, world.guild, deny=CREATE_PUBLIC_THREADS)
    subscriber = channel_subscriber(bot, db, world, world.papers_channel, schedule="daily", open_thread=True)
    add_papers(db)
    report = await deliver(bot, db, subscriber)
    assert (report.messages, report.papers, report.paused) == (1, 2, [])
    assert double.threads_of(world.papers_channel) == [] and len(double.messages[world.papers_channel]) == 1
