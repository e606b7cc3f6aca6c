"""Discord rules the bot used to break, each enforced by the double (tests/bot/discord_double/rules_v2.py
cites the page of discord-api-docs) and each failing on the bot as it was before it kept them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import aiohttp
import discord
import pytest

from bot.client import PaperBot, create_bot, shard_options
from bot.poster import classify
from digest.settings import Settings
from storage.db import Database
from storage.models import Paper
from storage.types import utcnow
from tests.bot.conftest import World, add_papers
from tests.bot.discord_double import DiscordDouble
from tests.bot.discord_double.payloads import MANAGE_WEBHOOKS
from tests.bot.discord_double.rules_v2 import PRIVILEGED_INTENTS

GUILDS_INTENT = 1 << 0


@pytest.fixture
async def http(double: DiscordDouble) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=double.api_base + "/",
                                     headers={"Authorization": f"Bot {double.token}"}) as session:
        yield session


async def admin(double: DiscordDouble, world: World, command: str, **options: object) -> str:
    token = await double.run_command(world.guild, world.other_channel, world.admin, command, **options)
    reply = await double.answer_of(token)
    return str(reply.get("content") or "") + "".join(str(e.get("description", "")) for e in reply.get("embeds", []))


async def test_the_bot_asks_only_for_the_guilds_intent_and_has_no_text_commands(
    bot: PaperBot, double: DiscordDouble
) -> None:
    [identify] = double.gateway.identify_payloads
    assert identify["intents"] == GUILDS_INTENT  # no message, DM, typing or member events, nothing privileged
    message: Any = SimpleNamespace(content=f"<@{double.bot_user['id']}> hi")
    assert await bot.get_prefix(message) == []  # "@paperbell hi" is not a command


async def test_privileged_intents_without_approval_are_refused_at_identify(
    bot_settings: Settings, db: Database, double: DiscordDouble
) -> None:
    greedy = create_bot(bot_settings, db, intents=discord.Intents(guilds=True, members=True))
    with pytest.raises(discord.PrivilegedIntentsRequired):
        async with greedy:
            await greedy.start(double.token)
    assert double.gateway.identify_payloads[-1]["intents"] & PRIVILEGED_INTENTS


async def test_repeated_webhook_commands_reuse_one_webhook(
    bot: PaperBot, double: DiscordDouble, world: World, db: Database, http: aiohttp.ClientSession
) -> None:
    await admin(double, world, "admin subscribe", channel=world.papers_channel, query="diffusion")
    double.set_overwrite(world.papers_channel, world.guild, allow=MANAGE_WEBHOOKS)
    for n in range(17):  # one more than Discord's 15 per channel
        assert "webhook “" in await admin(double, world, "admin webhook", channel=world.papers_channel,
                                          username=f"papers {n}")
    assert len(double.webhooks_of(world.papers_channel)) == 1
    for n in range(14):  # the double itself refuses the 16th
        async with http.post(f"channels/{world.papers_channel}/webhooks", json={"name": f"other {n}"}) as r:
            assert r.status == 200
    async with http.post(f"channels/{world.papers_channel}/webhooks", json={"name": "one too many"}) as r:
        assert (r.status, (await r.json())["code"]) == (400, 30007)


async def test_autocomplete_values_stay_within_discord_limits_for_long_ids(
    bot: PaperBot, double: DiscordDouble, world: World, db: Database
) -> None:
    long_doi = "doi:10.1234/" + "x" * 140
    with db.session() as session:
        paper = Paper(canonical_id=long_doi, title="A paper with a very long DOI", abstract="About diffusion.",
                      authors=["A. Author"], first_seen_at=utcnow(), sources=["crossref"])
        session.add(paper)
        session.flush()
        row = int(paper.id or 0)
    token = await double.autocomplete(world.guild, world.other_channel, world.member, "paper", "id", id="doi")
    reply = await double.reply_to(token)
    [choice] = reply["data"]["choices"]
    assert choice["value"] == f"#{row}" and choice["name"].startswith("doi:10.1234/")
    token = await double.run_command(world.guild, world.other_channel, world.member, "paper", id=choice["value"])
    answer = await double.answer_of(token)
    assert "very long DOI" in str(answer)


async def test_forums_and_media_channels_can_be_picked_everywhere_a_channel_is(
    bot: PaperBot, double: DiscordDouble, world: World, db: Database
) -> None:
    add_papers(db)
    for forum in (double.add_forum(world.guild, "papers-forum"), double.add_forum(world.guild, "media", media=True)):
        assert "Saved **#" in await admin(double, world, "admin subscribe", channel=forum, query="diffusion")
        assert "daily at 08:00" in await admin(double, world, "admin schedule", channel=forum, mode="daily",
                                               time="08:00")
        assert f"<#{forum}>" in await admin(double, world, "admin subscriptions", channel=forum)


async def test_forum_posts_ask_for_an_archive_duration_discord_accepts(
    bot: PaperBot, double: DiscordDouble, world: World, db: Database
) -> None:
    forum = double.add_forum(world.guild, "papers-forum")
    add_papers(db)
    await admin(double, world, "admin subscribe", channel=forum, query="diffusion")
    assert "posted" in await admin(double, world, "admin test", channel=forum)
    [post] = double.threads_of(forum)
    assert post["thread_metadata"]["auto_archive_duration"] in (60, 1440, 4320, 10080)
    assert post["thread_metadata"]["auto_archive_duration"] == 10080


@pytest.mark.parametrize(
    ("status", "code", "verdict", "words"),
    [
        (400, 40058, "pause", "forum"),
        (400, 160005, "pause", "locked"),
        (400, 160006, "pause", "active threads"),
        (400, 40066, "pause", "moderators"),
        (403, 50001, "pause", "no access"),
        (400, 20016, "retry", "slowmode"),
        (400, 50035, "reject", "50035"),
    ],
)
def test_each_refusal_is_classified_with_a_plain_reason(status: int, code: int, verdict: str, words: str) -> None:
    response: Any = SimpleNamespace(status=status, reason="refused")
    error = (discord.Forbidden if status == 403 else discord.HTTPException)(response, {"code": code, "message": "x"})
    assert classify(error)[0] == verdict and words in classify(error)[1]


async def test_a_locked_thread_and_the_active_thread_limit_pause_the_target_with_a_reason(
    bot: PaperBot, double: DiscordDouble, world: World, db: Database
) -> None:
    add_papers(db)
    await admin(double, world, "admin subscribe", channel=world.papers_channel, query="diffusion")
    thread = double.add_thread(world.papers_channel, "weekly papers")
    double.guilds[world.guild].channels[thread]["thread_metadata"]["locked"] = True
    await admin(double, world, "admin target", channel=world.papers_channel, thread=thread)
    assert "thread is locked" in await admin(double, world, "admin test", channel=world.papers_channel)
    forum = double.add_forum(world.guild, "papers-forum")
    await admin(double, world, "admin subscribe", channel=forum, query="diffusion")
    double.active_thread_limit = 1
    assert "limit of active threads" in await admin(double, world, "admin test", channel=forum)


async def test_command_options_are_within_discord_limits_and_named_alike(bot: PaperBot, double: DiscordDouble,
                                                                         world: World) -> None:
    registered = double.commands[world.guild]

    def options_of(command: dict[str, Any], path: str) -> list[tuple[str, dict[str, Any]]]:
        found = []
        for option in command.get("options") or []:
            if option["type"] in (1, 2):  # subcommand (group)
                found += options_of(option, f"{path} {option['name']}")
            else:
                found.append((path, option))
        return found

    for command in registered:
        assert not command["description"].endswith("…"), command["name"]  # discord.py cuts at 100 with "…"
        for path, option in options_of(command, command["name"]):
            assert not option["description"].endswith("…"), (path, option["name"])
            if option["type"] == 3 and not option.get("choices"):  # free text: the client stops over-long values
                assert option.get("max_length"), (path, option["name"])
            if option["type"] == 4 and option.get("autocomplete"):  # a subscription picked from a list: members
                assert option["name"] in ("subscription", "edit"), (path, option["name"])  # and admins say alike


async def test_the_bot_runs_two_shards_and_answers_in_guilds_of_both(
    settings: Settings, db: Database, double: DiscordDouble
) -> None:
    double.gateway.shard_count = 2  # GET /gateway/bot recommends two shards
    guilds: dict[int, str] = {}
    for _ in range(10_000):  # guild ids are time-based: a few more milliseconds reach the other shard
        guild = double.add_guild("Reading group")
        guilds.setdefault(double.gateway.shard_of(guild, 2), guild)
        if len(guilds) == 2:
            break
    people = {shard: (double.add_channel(g, "general"), double.add_member(g, f"reader{shard}"))
              for shard, g in guilds.items()}
    bot = create_bot(settings.model_copy(update={"discord_api_base": double.api_base}), db,
                     guild_ready_timeout=0.01, sync_dev_guild=False)
    async with bot:
        runner = asyncio.create_task(bot.start(double.token))
        await asyncio.wait_for(bot.wait_until_ready(), 15)
        await bot.tree.sync()
        assert sorted(tuple(i["shard"]) for i in double.gateway.identify_payloads) == [(0, 2), (1, 2)]
        for shard, guild in guilds.items():
            channel, member = people[shard]
            token = await double.run_command(guild, channel, member, "subscriptions")
            assert "subscription" in str(await double.answer_of(token)).lower()
        await bot.close()
        await asyncio.gather(runner, return_exceptions=True)


def test_a_shard_setting_splits_the_bot_between_processes(settings: Settings) -> None:
    assert shard_options(settings) == {}
    assert shard_options(settings.model_copy(update={"discord_shards": "1,3/4"})) == {"shard_ids": [1, 3],
                                                                                      "shard_count": 4}
    with pytest.raises(ValueError, match="below the count"):
        shard_options(settings.model_copy(update={"discord_shards": "4/4"}))


async def test_a_result_can_be_shared_to_the_channel_by_the_member_who_asked(
    bot: PaperBot, double: DiscordDouble, world: World, db: Database
) -> None:
    add_papers(db)
    token = await double.run_command(world.guild, world.other_channel, world.member, "paper", id="2501.00002")
    answer = await double.answer_of(token)
    assert answer["flags"] & 64 and "pager:share" in str(answer["components"])
    other = await double.click(token, "pager:share", world.other_member)
    assert "someone else's" in (await double.answer_of(other))["content"]
    assert double.messages[world.other_channel] == []
    mine = await double.click(token, "pager:share", world.member)
    assert (await double.answer_of(mine))["content"] == "Shared in this channel."
    [shared] = double.messages[world.other_channel]
    assert shared["embeds"][0]["url"] == "https://arxiv.org/abs/2501.00002"
    assert f"<@{world.member}> shared" in shared["content"] and shared["mentions"] == []


async def test_digest_pages_through_everything_pending(
    bot: PaperBot, double: DiscordDouble, world: World, db: Database
) -> None:
    from digest.discord.delivery import pending_digest
    from digest.services.matching import run_match_cycle
    from digest.services.subscribers import add_subscriber, add_subscription

    me = add_subscriber(db, bot.settings, "discord_user", world.member, guild_id=world.guild)
    add_subscription(db, bot.settings, me.id or 0, "diffusion OR attention OR graph OR latent")
    add_papers(db, [(f"Diffusion study {n}", "x " * 400) for n in range(30)])
    run_match_cycle(db, bot.settings)
    _, messages = await pending_digest(bot.settings, db, me)
    assert len(messages) > 1  # more than one message is pending
    token = await double.run_command(world.guild, world.other_channel, world.member, "digest")
    first = await double.answer_of(token)
    assert "pager:next" in str(first["components"])
    second = await double.click(token, "pager:next", world.member)
    assert (await double.reply_to(second))["type"] == 7  # the page turned in place


async def test_the_double_bans_after_too_many_invalid_requests_but_not_for_shared_limits(
    double: DiscordDouble, world: World, http: aiohttp.ClientSession
) -> None:
    double.invalid_ban_threshold = 5
    for _ in range(6):  # a shared-scope 429 is not the client's fault and never counts
        double.force_429("GET /channels/", scope="shared")
        async with http.get(f"channels/{world.papers_channel}") as response:
            assert response.status == 429 and response.headers["X-RateLimit-Scope"] == "shared"
    assert not double.banned
    for _ in range(5):  # 403s: the bot may not post in a channel it cannot see
        double.channel_errors[world.papers_channel] = (403, 50001, "Missing Access")
        async with http.post(f"channels/{world.papers_channel}/messages", json={"content": "x"}) as response:
            assert response.status == 403 and (await response.json())["code"] == 50001
    assert double.banned
    async with http.get(f"channels/{world.other_channel}") as response:  # every route now, Cloudflare's page
        assert (response.status, await response.text()) == (403, "error code: 1015")


async def test_thread_webhook_and_dm_routes_have_their_own_buckets(
    double: DiscordDouble, world: World, http: aiohttp.ClientSession
) -> None:
    double.route_buckets.update(threads=(1, 60.0), webhooks=(1, 60.0), dm=(1, 60.0))
    forum = double.add_forum(world.guild, "papers-forum")
    body = {"name": "t", "message": {"content": "x"}, "auto_archive_duration": 1440}
    async with http.post(f"channels/{forum}/threads", json=body) as first:
        assert first.status == 200 and first.headers["X-RateLimit-Remaining"] == "0"
    async with http.post(f"channels/{forum}/threads", json=body) as second:
        assert second.status == 429 and float((await second.json())["retry_after"]) > 0
    double.set_overwrite(world.papers_channel, world.guild, allow=MANAGE_WEBHOOKS)
    async with http.post(f"channels/{world.papers_channel}/webhooks", json={"name": "papers"}) as created:
        hook = await created.json()
    for expected in (200, 429):
        async with http.post(f"webhooks/{hook['id']}/{hook['token']}?wait=true", json={"content": "x"}) as posted:
            assert posted.status == expected
    for expected, user in ((200, world.member), (429, world.other_member)):
        async with http.post("users/@me/channels", json={"recipient_id": user}) as opened:
            assert opened.status == expected
