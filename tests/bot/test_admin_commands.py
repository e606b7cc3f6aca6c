"""End to end: server admins' /admin commands through the Discord double; non-admins and other servers refused."""

from __future__ import annotations

import pytest

from bot.client import PaperBot
from digest.discord.guilds import get_guild_settings
from digest.services.subscribers import add_subscriber, add_subscription, find_subscriber, list_subscriptions
from storage.db import Database
from tests.bot.conftest import World, add_papers
from tests.bot.discord_double import DiscordDouble

EPHEMERAL = 64


@pytest.mark.parametrize("who", ["admin", "member"])
async def test_admin_subscribe_needs_an_admin(
    bot: PaperBot, double: DiscordDouble, world: World, db: Database, who: str
) -> None:
    add_papers(db)
    user = getattr(world, who)
    token = await double.run_command(world.guild, world.other_channel, user, "admin subscribe",
                                     channel=world.papers_channel, query="diffusion")
    reply = await double.answer_of(token)
    assert double.interactions[token]["callback"]["type"] == 5, "deferred before any database work"
    stored = list_subscriptions(db, guild_id=world.guild)
    if who == "admin":
        assert "Saved **#" in reply["content"] and f"<#{world.papers_channel}>" in reply["content"]
        assert reply["flags"] & EPHEMERAL
        assert [s.query for s in stored] == ["diffusion"]
        channel = find_subscriber(db, "discord_channel", world.papers_channel)
        assert channel is not None and channel.guild_id == world.guild and channel.schedule == "instant"
    else:
        assert reply["flags"] & EPHEMERAL
        assert "Only this server's admins" in reply["content"]
        assert stored == []


async def test_admin_commands_registered_with_manage_guild_default(bot: PaperBot, double: DiscordDouble,
                                                                   world: World) -> None:
    [admin] = [c for c in double.commands[world.guild] if c["name"] == "admin"]
    assert admin["default_member_permissions"] == str(1 << 5)
    assert {o["name"] for o in admin["options"]} == {
        "subscribe", "subscriptions", "remove", "pause", "resume", "schedule", "limits", "stats", "target",
        "webhook", "test", "template", "cap", "log", "copy"}
    assert None not in double.commands, "nothing may be registered globally on start"


async def test_admin_role_setting_grants_admin(bot: PaperBot, double: DiscordDouble, world: World,
                                               db: Database) -> None:
    role = double.add_role(world.guild, "paper-mods")
    helper = double.add_member(world.guild, "helper", roles=(role,))
    token = await double.run_command(world.guild, world.other_channel, world.admin, "admin limits",
                                     admin_role=role, per_member=3)
    assert "Subscriptions per member: **3**" in (await double.answer_of(token))["content"]
    stored = get_guild_settings(db, world.guild)
    assert stored is not None and stored.admin_role_id == role
    token = await double.run_command(world.guild, world.other_channel, helper, "admin stats")
    assert "Papers ingested" in (await double.answer_of(token))["content"]


async def test_admin_cannot_touch_another_server(bot: PaperBot, double: DiscordDouble, world: World,
                                                 db: Database) -> None:
    other_guild = double.add_guild("Other lab")
    other_channel = double.add_channel(other_guild, "feed")
    foreign = add_subscriber(db, bot.settings, "discord_channel", other_channel, guild_id=other_guild)
    foreign_sub = add_subscription(db, bot.settings, foreign.id or 0, "attention")
    for command in ("admin remove", "admin pause"):
        options = {"subscription": foreign_sub.id}
        token = await double.run_command(world.guild, world.other_channel, world.admin, command, **options)
        assert f"no subscription #{foreign_sub.id}" in (await double.answer_of(token))["content"]
    token = await double.run_command(world.guild, world.other_channel, world.admin, "admin subscriptions")
    listing = (await double.answer_of(token))["embeds"][0]["description"]
    assert "attention" not in listing
    [kept] = list_subscriptions(db)
    assert (kept.id, kept.paused) == (foreign_sub.id, False)


async def test_admin_schedule_and_listing(bot: PaperBot, double: DiscordDouble, world: World, db: Database) -> None:
    token = await double.run_command(world.guild, world.other_channel, world.admin, "admin schedule",
                                     channel=world.papers_channel, mode="daily")
    assert "has no subscriptions yet" in (await double.answer_of(token))["content"]
    channel = add_subscriber(db, bot.settings, "discord_channel", world.papers_channel, guild_id=world.guild)
    add_subscription(db, bot.settings, channel.id or 0, "graph")
    token = await double.run_command(world.guild, world.other_channel, world.admin, "admin schedule",
                                     channel=world.papers_channel, mode="weekly", time="friday 09:00",
                                     timezone="Europe/Berlin")
    assert "every Friday at 09:00 Europe/Berlin" in (await double.answer_of(token))["content"]
    updated = find_subscriber(db, "discord_channel", world.papers_channel)
    assert updated is not None and (updated.schedule, updated.digest_weekday, updated.digest_hour) == ("weekly", 4, 9)
    token = await double.run_command(world.guild, world.other_channel, world.admin, "admin subscriptions",
                                     channel=world.papers_channel)
    assert "`graph`" in (await double.answer_of(token))["embeds"][0]["description"]
