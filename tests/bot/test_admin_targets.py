"""End to end: /admin subscribe to a forum, /admin target (style, role), /admin webhook, /admin test and the
target column of /admin subscriptions, through the Discord double."""

from __future__ import annotations

from bot.client import PaperBot
from digest.discord.targets import get_target
from digest.services.subscribers import find_subscriber
from storage.db import Database
from tests.bot.conftest import World, add_papers
from tests.bot.discord_double import DiscordDouble
from tests.bot.discord_double.payloads import MANAGE_WEBHOOKS


async def admin(double: DiscordDouble, world: World, command: str, **options: object) -> str:
    token = await double.run_command(world.guild, world.other_channel, world.admin, command, **options)
    reply = await double.answer_of(token)
    return str(reply.get("content") or "") + "".join(str(e.get("description", "")) for e in reply.get("embeds", []))


def target_of(db: Database, channel: str):  # type: ignore[no-untyped-def]
    subscriber = find_subscriber(db, "discord_channel", channel)
    assert subscriber is not None and subscriber.id is not None
    return get_target(db, subscriber.id)


async def test_subscribing_a_forum_posts_there_and_the_list_says_so(
    bot: PaperBot, double: DiscordDouble, world: World, db: Database
) -> None:
    forum = double.add_forum(world.guild, "papers-forum", ("cs.LG",))
    add_papers(db)
    assert "Saved **#" in await admin(double, world, "admin subscribe", channel=forum, query="diffusion",
                                      style="compact")
    assert (target_of(db, forum).kind, target_of(db, forum).style) == ("forum", "compact")
    listed = await admin(double, world, "admin subscriptions")
    assert f"<#{forum}>" in listed and "forum posts, style compact" in listed and "instant" in listed
    reply = await admin(double, world, "admin test", channel=forum)
    assert "posted" in reply and "not posted" not in reply
    [post] = double.threads_of(forum)
    assert post["applied_tags"] == [double.guilds[world.guild].channels[forum]["available_tags"][0]["id"]]


async def test_a_role_is_accepted_only_when_the_bot_may_ping_it(
    bot: PaperBot, double: DiscordDouble, world: World, db: Database
) -> None:
    await admin(double, world, "admin subscribe", channel=world.papers_channel, query="diffusion")
    role = double.add_role(world.guild, "nlp-readers")
    refused = await admin(double, world, "admin target", channel=world.papers_channel, role=role)
    assert "can't be pinged" in refused and target_of(db, world.papers_channel).role_id is None
    assert "never mentions @everyone" in await admin(double, world, "admin target", channel=world.papers_channel,
                                                     role=world.guild)
    double.set_role(world.guild, role, mentionable=True)
    saved = await admin(double, world, "admin target", channel=world.papers_channel, role=role, style="compact")
    assert f"mentions <@&{role}>" in saved and "style compact" in saved
    assert (target_of(db, world.papers_channel).role_id, target_of(db, world.papers_channel).style) == (role,
                                                                                                      "compact")


async def test_a_webhook_needs_manage_webhooks_and_posts_under_its_name(
    bot: PaperBot, double: DiscordDouble, world: World, db: Database
) -> None:
    add_papers(db)
    await admin(double, world, "admin subscribe", channel=world.papers_channel, query="diffusion")
    assert "Manage Webhooks" in await admin(double, world, "admin webhook", channel=world.papers_channel,
                                            username="cs.LG bot")
    double.set_overwrite(world.papers_channel, world.guild, allow=MANAGE_WEBHOOKS)
    assert "clyde" in await admin(double, world, "admin webhook", channel=world.papers_channel, username="Clyde papers")
    assert "https://" in await admin(double, world, "admin webhook", channel=world.papers_channel, username="cs.LG bot",
                                     avatar_url="javascript:alert(1)")
    saved = await admin(double, world, "admin webhook", channel=world.papers_channel, username="cs.LG bot")
    assert "webhook “cs.LG bot”" in saved and list(double.webhooks) == [target_of(db, world.papers_channel).webhook_id]
    assert "): posted." in await admin(double, world, "admin test", channel=world.papers_channel)
    [sample] = double.messages[world.papers_channel]
    assert sample["author"]["username"] == "cs.LG bot" and sample["webhook_id"] in double.webhooks
    double.delete_webhook(sample["webhook_id"])
    assert "not posted**: the webhook was deleted" in await admin(double, world, "admin test",
                                                                  channel=world.papers_channel)


async def test_posting_into_an_existing_thread_of_the_channel(
    bot: PaperBot, double: DiscordDouble, world: World, db: Database
) -> None:
    add_papers(db)
    await admin(double, world, "admin subscribe", channel=world.papers_channel, query="diffusion")
    elsewhere = double.add_thread(world.other_channel, "other")
    assert "is not a thread of" in await admin(double, world, "admin target", channel=world.papers_channel,
                                               thread=elsewhere)
    reading = double.add_thread(world.papers_channel, "reading group")
    assert f"thread <#{reading}>" in await admin(double, world, "admin target", channel=world.papers_channel,
                                                 thread=reading)
    assert "): posted." in await admin(double, world, "admin test", channel=world.papers_channel)
    assert len(double.messages[reading]) == 1 and double.messages[world.papers_channel] == []
