"""Trending on Discord through the live bot and the double: the day's picks with why, and a quiet day said once."""

from __future__ import annotations

from datetime import timedelta

from bot.client import PaperBot
from bot.poster import BotPoster
from digest.discord.delivery import deliver_discord
from digest.services import subscribers as service
from storage.db import Database
from storage.models import Paper, Subscriber
from storage.types import utcnow
from tests.bot.conftest import World
from tests.bot.discord_double import DiscordDouble


def trending_channel(db: Database, bot: PaperBot, world: World) -> int:
    channel = service.add_subscriber(db, bot.settings, "discord_channel", world.papers_channel, guild_id=world.guild)
    service.subscribe(db, bot.settings, channel.id or 0, "", created_by="test", top_n=2)
    with db.session() as session:
        row = session.get(Subscriber, channel.id)
        assert row is not None
        row.digest_hour = 0  # its pick is ready from the start of the day
        session.add(row)
    return channel.id or 0


async def test_a_quiet_trending_day_is_said_once(bot: PaperBot, double: DiscordDouble, world: World,
                                                 db: Database) -> None:
    trending_channel(db, bot, world)
    first = await deliver_discord(bot.settings, db, BotPoster(bot, db))
    again = await deliver_discord(bot.settings, db, BotPoster(bot, db))
    posted = double.messages[world.papers_channel]
    assert (first.messages, again.messages, len(posted)) == (1, 0, 1)
    assert "A quiet day: no new papers are trending" in posted[0]["content"]


async def test_trending_picks_are_posted_with_why(bot: PaperBot, double: DiscordDouble, world: World,
                                                 db: Database) -> None:
    trending_channel(db, bot, world)
    seen = utcnow() - timedelta(hours=2)
    with db.session() as session:
        for n, votes in enumerate((5, 40, 12)):
            session.add(Paper(canonical_id=f"2612.0000{n}", title=f"Trending paper {n}", abstract="A.",
                              sources=["hf:daily"], extras={"upvotes": votes}, first_seen_at=seen))
    report = await deliver_discord(bot.settings, db, BotPoster(bot, db))
    posted = double.messages[world.papers_channel]
    assert report.papers == 2 and "quiet day" not in str(posted)
    text = str(posted)
    assert "Trending paper 1" in text and "Trending paper 2" in text and "Trending paper 0" not in text
    assert "#1 of the day's 3 papers" in text


async def test_previews_show_the_pick_to_come_and_use_up_nothing(bot: PaperBot, double: DiscordDouble, world: World,
                                                                db: Database) -> None:
    from digest.discord.delivery import pending_digest
    from digest.services.outbox import pending_rows
    from storage.models import Delivery

    channel_id = trending_channel(db, bot, world)
    seen = utcnow() - timedelta(hours=2)
    with db.session() as session:
        for n, votes in enumerate((5, 40, 12)):
            session.add(Paper(canonical_id=f"2612.1000{n}", title=f"Previewed paper {n}", abstract="A.",
                              sources=["hf:daily"], extras={"upvotes": votes}, first_seen_at=seen))
    rows = pending_rows(db, channel_id)
    assert [row[0] for row in rows] == [0, 0] and rows[0][3]["trending"]["rank"] == 1  # type: ignore[index]
    subscriber = service.get_subscriber(db, channel_id)
    count, messages = await pending_digest(bot.settings, db, subscriber)
    assert count == 2 and "Previewed paper 1" in str(messages)
    with db.session() as session:
        from sqlmodel import select

        assert session.exec(select(Delivery)).all() == []  # a preview writes nothing
    report = await deliver_discord(bot.settings, db, BotPoster(bot, db))
    assert report.papers == 2 and pending_rows(db, channel_id) == []  # picked today: nothing more to preview
