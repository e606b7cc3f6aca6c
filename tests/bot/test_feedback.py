"""👍/👎 on posted papers through the live bot and the Discord double: member votes are theirs, a channel
collects its members' votes, a bot restart keeps the buttons working, and /more-like."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlmodel import select

from bot.client import PaperBot
from bot.poster import BotPoster
from digest.discord.components import MAX_BUTTONS_PER_ROW, MAX_CUSTOM_ID, MAX_ROWS, vote_rows
from digest.discord.delivery import deliver_discord
from digest.services import feedback
from digest.services.matching import run_match_cycle
from digest.services.subscribers import add_subscriber, add_subscription, find_subscriber
from digest.settings import Settings
from storage.db import Database
from tests.bot.conftest import World, add_papers, start_bot
from tests.bot.discord_double import DiscordDouble


@given(st.lists(st.integers(1, 10**18 - 1), min_size=1, max_size=10))
def test_vote_rows_stay_within_discords_component_limits(paper_ids: list[int]) -> None:
    rows = vote_rows(paper_ids)
    ids = [b["custom_id"] for row in rows for b in row["components"]]
    assert len(rows) <= MAX_ROWS and all(len(r["components"]) <= MAX_BUTTONS_PER_ROW for r in rows)
    assert len(ids) == len(set(ids)) == 2 * len(set(paper_ids))
    assert all(len(i) <= MAX_CUSTOM_ID for i in ids)


async def press(double: DiscordDouble, message: dict[str, Any], custom_id: str, user_id: str) -> str:
    """A member presses a button on a message the bot posted; returns the ephemeral answer's text."""
    channel_id = message["channel_id"]
    guild_id = message.get("guild_id")
    channel = double.guilds[guild_id].channels[channel_id] if guild_id else double.dm_channels[channel_id]
    anchor = f"posted-{message['id']}"
    double.interactions[anchor] = {"payload": {"guild_id": guild_id, "channel": channel}, "message": message,
                                   "callback": None, "followups": []}
    assert custom_id in [b["custom_id"] for row in message["components"] for b in row["components"]]
    token = await double.click(anchor, custom_id, user_id)
    reply = await double.answer_of(token)
    assert ephemeral(double, token)  # only the voter sees it
    return str(reply["content"])


def ephemeral(double: DiscordDouble, token: str) -> bool:
    """Whether the interaction's first response (message or deferral) was ephemeral (flag 64)."""
    callback = double.interactions[token]["callback"]
    return bool((callback.get("data") or {}).get("flags", 0) & 64)


async def post_papers(bot: PaperBot, db: Database, world: World) -> tuple[int, list[dict[str, Any]], Any]:
    channel = add_subscriber(db, bot.settings, "discord_channel", world.papers_channel, guild_id=world.guild)
    add_subscription(db, bot.settings, channel.id or 0, "diffusion")
    add_papers(db)
    run_match_cycle(db, bot.settings)
    await deliver_discord(bot.settings, db, BotPoster(bot, db))
    return channel.id or 0, bot.settings, None


async def test_channel_collects_member_votes_and_buttons_survive_a_restart(
    bot_settings: Settings, db: Database, double: DiscordDouble, world: World
) -> None:
    bot, runner = await start_bot(bot_settings, db, double)
    channel_id, _, _ = await post_papers(bot, db, world)
    posted = double.messages[world.papers_channel]
    assert posted and all(m["components"] for m in posted)
    message = posted[0]
    up, down = (b["custom_id"] for b in message["components"][0]["components"])
    paper_id = int(up.split(":")[2])

    text = await press(double, message, up, world.member)
    assert "👍 recorded for this channel" in text and "1 👍, 0 👎 — ranking learned" in text
    text = await press(double, message, down, world.other_member)
    assert "👎 recorded" in text
    assert feedback.vote_of(db, channel_id, paper_id, voter=world.member) == 1
    assert feedback.vote_of(db, channel_id, paper_id, voter=world.other_member) == -1
    assert feedback.votes_for(db, channel_id) == {}  # one each: the channel's ranking learns nothing

    await bot.close()  # restart: a new process knows nothing of the old views
    await asyncio.gather(runner, return_exceptions=True)
    bot, runner = await start_bot(bot_settings, db, double)
    try:
        text = await press(double, message, down, world.other_member)  # pressed again: withdrawn
        assert "👎 withdrawn" in text
        assert feedback.votes_for(db, channel_id) == {paper_id: 1}
        outsider_reply = await press(double, message, up, world.admin)
        assert "recorded" in outsider_reply  # any member of the channel may vote; the vote is theirs
        assert feedback.vote_of(db, channel_id, paper_id, voter=world.admin) == 1
    finally:
        await bot.close()
        await asyncio.gather(runner, return_exceptions=True)


async def test_a_members_own_subscription_counts_their_channel_vote(
    bot: PaperBot, db: Database, double: DiscordDouble, world: World
) -> None:
    add_subscription(db, bot.settings, add_subscriber(db, bot.settings, "discord_user", world.member).id or 0, "gnn")
    await post_papers(bot, db, world)
    message = double.messages[world.papers_channel][0]
    up = message["components"][0]["components"][0]["custom_id"]
    text = await press(double, message, up, world.member)
    assert "for this channel and your own digests" in text
    own = find_subscriber(db, "discord_user", world.member)
    assert own is not None and feedback.votes_for(db, own.id or 0) == {int(up.split(":")[2]): 1}
    token = await double.run_command(world.guild, world.other_channel, world.member, "subscriptions")
    listing = await double.answer_of(token)
    assert "1 👍, 0 👎 — ranking learned" in listing["embeds"][0]["title"]


@pytest.mark.parametrize("subscribe", [False, True])
async def test_more_like_previews_and_subscribes(
    bot: PaperBot, db: Database, double: DiscordDouble, world: World, subscribe: bool
) -> None:
    add_papers(db)
    token = await double.run_command(world.guild, world.other_channel, world.member, "more-like",
                                     paper="arXiv:2501.00001v1", threshold=0.01, subscribe=subscribe)
    reply = await double.answer_of(token)
    assert "Latent diffusion with fewer steps" in reply["content"]
    assert ("Saved subscription" in reply["content"]) is subscribe
    own = find_subscriber(db, "discord_user", world.member)
    assert (own is not None and feedback.votes_for(db, own.id or 0) != {}) is subscribe
    token = await double.run_command(world.guild, world.other_channel, world.member, "more-like", paper="nonsense")
    refused = await double.answer_of(token)
    assert "not an arXiv id or DOI" in refused["content"] and ephemeral(double, token)


async def test_a_channel_digest_shows_papers_past_the_limit_as_title_links(
    bot: PaperBot, db: Database, double: DiscordDouble, world: World
) -> None:
    """`max_items` in Discord as in mail: the first papers in full, the rest one click away, none lost."""
    from datetime import timedelta

    from storage.models import Delivery, Subscriber
    from storage.types import utcnow

    channel = add_subscriber(db, bot.settings, "discord_channel", world.papers_channel, guild_id=world.guild,
                             schedule="daily", digest_hour=0)
    subscription = add_subscription(db, bot.settings, channel.id or 0, "diffusion OR sparse")
    feedback.set_limits(db, subscription.id or 0, max_items=1, min_score=None)
    with db.session() as session:
        row = session.get(Subscriber, channel.id)
        assert row is not None
        row.created_at = utcnow() - timedelta(days=3)  # its daily slot has come
        session.add(row)
    add_papers(db)
    run_match_cycle(db, bot.settings)
    await deliver_discord(bot.settings, db, BotPoster(bot, db))
    posted = double.messages[world.papers_channel]
    embeds = [e for m in posted for e in m.get("embeds", [])]
    folded = [m for m in posted if str(m.get("content", "")).startswith("↳ 2 more past your limits")]
    assert len(embeds) == 1 and len(folded) == 1, [m.get("content") for m in posted]
    assert folded[0]["content"].count("\n") == 2 and "2501.000" in folded[0]["content"]  # two title links
    with db.session() as session:
        statuses = {d.status for d in session.exec(select(Delivery)).all()}
    assert statuses == {"sent"}  # nothing held back or lost by the limit
