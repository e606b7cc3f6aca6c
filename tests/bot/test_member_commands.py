"""End to end: members run slash commands through the Discord double against the real bot and DB."""

from __future__ import annotations

import pytest

from bot.client import PaperBot
from digest.discord.guilds import update_guild_settings
from digest.services.subscribers import add_subscriber, add_subscription, list_subscriptions
from storage.db import Database
from storage.models import Subscriber, SubscriberKind
from tests.bot.conftest import World, add_papers
from tests.bot.discord_double import DiscordDouble

EPHEMERAL = 64


async def test_member_subscribe_stores_it_and_shows_a_preview(
    bot: PaperBot, double: DiscordDouble, world: World, db: Database
) -> None:
    add_papers(db)
    token = await double.run_command(world.guild, world.other_channel, world.member, "subscribe", query="diffusion")
    reply = await double.reply_to(token)
    assert double.interactions[token]["callback"] == {"type": 5, "data": {"flags": EPHEMERAL}}
    assert reply["flags"] & EPHEMERAL
    assert "Saved subscription" in reply["content"]
    assert "matched **2** stored papers" in reply["content"]
    assert "**Diffusion**" in reply["content"]
    [subscription] = list_subscriptions(db)
    assert subscription.query == "diffusion"
    assert subscription.created_by == f"discord:{world.member}"
    with db.session() as session:
        owner = session.get(Subscriber, subscription.subscriber_id)
    assert owner is not None
    assert (owner.kind, owner.address, owner.guild_id) == (SubscriberKind.DISCORD_USER, world.member, world.guild)


async def test_subscribe_preview_shows_query_warnings(
    bot: PaperBot, double: DiscordDouble, world: World, db: Database
) -> None:
    add_papers(db)
    token = await double.run_command(
        world.guild, world.other_channel, world.member, "subscribe", query="diffusion or flow"
    )
    reply = await double.reply_to(token)
    assert '⚠️ "or" is searched as a word; did you mean OR?' in reply["content"]
    assert "Saved subscription" in reply["content"]


@pytest.mark.parametrize(
    ("query", "deliver", "expected"),
    [
        ('"unbalanced', "dm", "position"),
        ("diffusion", "here", "admins have not allowed"),
    ],
)
async def test_subscribe_refusals_say_why_ephemerally(
    bot: PaperBot, double: DiscordDouble, world: World, db: Database, query: str, deliver: str, expected: str
) -> None:
    token = await double.run_command(
        world.guild, world.other_channel, world.member, "subscribe", query=query, deliver=deliver
    )
    reply = await double.answer_of(token)
    assert reply["flags"] & EPHEMERAL
    assert expected in reply["content"]
    assert list_subscriptions(db) == []


async def test_subscribe_here_in_an_allowed_channel(
    bot: PaperBot, double: DiscordDouble, world: World, db: Database
) -> None:
    update_guild_settings(db, world.guild, member_channel=(world.other_channel, True))
    token = await double.run_command(
        world.guild, world.other_channel, world.member, "subscribe", query="attention", deliver="here"
    )
    assert "Saved subscription" in (await double.reply_to(token))["content"]
    [subscription] = list_subscriptions(db, guild_id=world.guild)
    with db.session() as session:
        owner = session.get(Subscriber, subscription.subscriber_id)
    assert owner is not None and (owner.kind, owner.address) == (SubscriberKind.DISCORD_CHANNEL, world.other_channel)


async def test_members_only_see_and_change_their_own(
    bot: PaperBot, double: DiscordDouble, world: World, db: Database
) -> None:
    mine = add_subscriber(db, bot.settings, "discord_user", world.member, guild_id=world.guild)
    theirs = add_subscriber(db, bot.settings, "discord_user", world.other_member, guild_id=world.guild)
    own = add_subscription(db, bot.settings, mine.id or 0, "diffusion")
    other = add_subscription(db, bot.settings, theirs.id or 0, "attention")

    token = await double.autocomplete(
        world.guild, world.other_channel, world.member, "unsubscribe", "subscription", subscription=""
    )
    choices = (await double.answer_of(token))["choices"]
    assert [c["value"] for c in choices] == [own.id]

    token = await double.run_command(world.guild, world.other_channel, world.member, "unsubscribe",
                                     subscription=other.id)
    reply = await double.answer_of(token)
    assert f"no subscription #{other.id}" in reply["content"]
    assert {s.id for s in list_subscriptions(db)} == {own.id, other.id}

    token = await double.run_command(world.guild, world.other_channel, world.member, "pause", subscription=own.id)
    assert "Paused" in (await double.answer_of(token))["content"]
    token = await double.run_command(world.guild, world.other_channel, world.member, "unsubscribe",
                                     subscription=own.id)
    assert "Removed" in (await double.answer_of(token))["content"]
    assert {s.id for s in list_subscriptions(db)} == {other.id}


async def test_subscriptions_are_paginated_with_buttons(
    bot: PaperBot, double: DiscordDouble, world: World, db: Database
) -> None:
    me = add_subscriber(db, bot.settings, "discord_user", world.member, guild_id=world.guild)
    for n in range(12):
        add_subscription(db, bot.settings, me.id or 0, f"topic{n}")
    token = await double.run_command(world.guild, world.other_channel, world.member, "subscriptions")
    first = (await double.answer_of(token))
    assert first["flags"] & EPHEMERAL
    assert first["embeds"][0]["footer"]["text"].startswith("page 1/2")
    buttons = first["components"][0]["components"]
    assert [b["custom_id"] for b in buttons] == ["pager:previous", "pager:next"]

    pressed = await double.click(token, "pager:next", world.member)
    second = (await double.reply_to(pressed))
    assert second["type"] == 7
    assert second["data"]["embeds"][0]["footer"]["text"].startswith("page 2/2")

    stranger = await double.click(token, "pager:next", world.other_member)
    refusal = await double.reply_to(stranger)
    assert "someone else's" in refusal["data"]["content"]


async def test_search_paper_digest_and_help(bot: PaperBot, double: DiscordDouble, world: World, db: Database) -> None:
    add_papers(db)
    token = await double.run_command(world.guild, world.other_channel, world.member, "search", query="diffusion")
    found = await double.reply_to(token)
    assert [e["title"] for e in found["embeds"]] and all("iffusion" in e["title"] for e in found["embeds"])
    assert found["flags"] & EPHEMERAL
    token = await double.run_command(world.guild, world.other_channel, world.member, "search", query='"diffusion*"')
    warned = await double.reply_to(token)
    assert warned["content"].startswith('⚠️ "diffusion\\*": \\* inside quotes is not a wildcard')

    token = await double.run_command(world.guild, world.other_channel, world.member, "paper", id="arXiv:2501.00002v3")
    paper = (await double.answer_of(token))
    assert paper["embeds"][0]["url"] == "https://arxiv.org/abs/2501.00002"

    token = await double.run_command(world.guild, world.other_channel, world.member, "digest")
    assert "no subscriptions yet" in (await double.answer_of(token))["content"]

    token = await double.run_command(world.guild, world.other_channel, world.member, "help")
    help_text = (await double.answer_of(token))["content"]
    assert "cat:cs.CL" in help_text and len(help_text) <= 2000


@pytest.mark.parametrize(
    ("limit", "command", "expected"),
    [
        ({"queries_per_minute": 1}, "search", "1 queries a minute"),
        ({"max_subscriptions_per_member": 1}, "subscribe", "already have 1 subscriptions"),
    ],
)
async def test_server_limits_are_enforced(
    bot: PaperBot, double: DiscordDouble, world: World, db: Database, limit: dict[str, int], command: str,
    expected: str,
) -> None:
    update_guild_settings(db, world.guild, **limit)  # type: ignore[arg-type]
    first = await double.run_command(world.guild, world.other_channel, world.member, command, query="diffusion")
    assert (await double.reply_to(first))["flags"] & EPHEMERAL  # answered normally (deferred + follow-up)
    second = await double.run_command(world.guild, world.other_channel, world.member, command, query="attention")
    refusal = await double.answer_of(second)
    assert expected in refusal["content"] and refusal["flags"] & EPHEMERAL


async def test_digest_of_a_paused_member_with_long_queries_stays_within_2000(
    bot: PaperBot, double: DiscordDouble, world: World, db: Database
) -> None:
    from digest.services.matching import run_match_cycle
    from digest.services.subscribers import set_subscriber_paused

    me = add_subscriber(db, bot.settings, "discord_user", world.member, guild_id=world.guild)
    for n in range(20):  # 20 long queries: the digest header alone is over 2000 characters
        add_subscription(db, bot.settings, me.id or 0, f"diffusion -{'nothing' * 12}{n}")
    add_papers(db)
    run_match_cycle(db, bot.settings)
    set_subscriber_paused(db, me.id or 0, True, "the member's DMs are closed to the bot")
    token = await double.run_command(world.guild, world.other_channel, world.member, "digest")
    shown = await double.answer_of(token)
    assert len(shown["content"]) <= 2000 and "DMs are closed" in shown["content"] and "/resume" in shown["content"]


@pytest.mark.parametrize(
    ("options", "said", "pending"),
    [
        ({}, "2 already stored matches from the last 7 days will be in the first digest", 2),
        ({"backfill": 0}, "Only papers that arrive from now on will be delivered", 0),
    ],
)
async def test_subscribe_backfills_recent_matches_like_the_cli(
    bot: PaperBot, double: DiscordDouble, world: World, db: Database, options: dict[str, int], said: str,
    pending: int,
) -> None:
    from digest.services.outbox_counts import pending_counts

    add_papers(db)
    token = await double.run_command(world.guild, world.other_channel, world.member, "subscribe",
                                     query="diffusion", **options)
    reply = await double.answer_of(token)
    assert said in reply["content"]
    assert pending_counts(db).get(SubscriberKind.DISCORD_USER.value, 0) == pending


async def test_subscribe_refuses_an_equivalent_query(
    bot: PaperBot, double: DiscordDouble, world: World, db: Database
) -> None:
    for query in ("diffusion OR flow", "flow OR diffusion"):
        token = await double.run_command(world.guild, world.other_channel, world.member, "subscribe", query=query)
        reply = await double.answer_of(token)
    assert "equivalent query" in reply["content"]
    assert [s.query for s in list_subscriptions(db)] == ["diffusion OR flow"]


async def test_subscribe_without_a_query_is_the_days_trending_papers(
    bot: PaperBot, double: DiscordDouble, world: World, db: Database
) -> None:
    token = await double.run_command(world.guild, world.other_channel, world.member, "subscribe", top=5)
    reply = await double.reply_to(token)
    assert "Saved subscription" in reply["content"] and "the day's top 5 papers" in reply["content"]
    [subscription] = list_subscriptions(db)
    assert (subscription.query, subscription.max_items) == ("", 5)
    again = await double.reply_to(
        await double.run_command(world.guild, world.other_channel, world.member, "subscribe"))
    assert "already has the trending papers" in again["content"] and len(list_subscriptions(db)) == 1
