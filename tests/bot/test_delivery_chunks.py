"""The Discord pass reads for a chunk of subscribers at once: each still gets exactly its own share, every
post still carries its vote rows and nonce, a member who never voted anywhere is planned without
a ranking's reads, and a cancelled pass leaves no row claimed."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlmodel import col, select

from bot.client import PaperBot
from bot.poster import BotPoster
from digest.discord.components import vote_rows
from digest.discord.delivery import DISCORD_KINDS, deliver_discord
from digest.discord.prepare import Prepared, claim_chunk, give_back
from digest.services import feedback, outbox_holds
from digest.services.matching import run_match_cycle
from digest.services.subscribers import add_subscriber, add_subscription, get_subscriber
from storage.db import Database
from storage.feedback_models import PaperVote
from storage.models import Delivery, DeliveryStatus
from storage.types import utcnow
from tests.bot.conftest import World, add_papers
from tests.bot.discord_double import DiscordDouble


def members(db: Database, bot: PaperBot, world: World, schedule: str = "daily") -> list[int]:
    ids = []
    for address in (world.member, world.other_member, world.admin):
        member = add_subscriber(db, bot.settings, "discord_user", address, guild_id=world.guild, schedule=schedule)
        add_subscription(db, bot.settings, member.id or 0, "diffusion")
        add_subscription(db, bot.settings, member.id or 0, "attention")
        ids.append(member.id or 0)
    return ids


def rows_of(db: Database) -> list[Delivery]:
    with db.session() as session:
        return list(session.exec(select(Delivery).order_by(col(Delivery.id))).all())


async def test_a_chunk_claim_gives_each_subscriber_what_its_own_claim_would(
    bot: PaperBot, world: World, db: Database
) -> None:
    ids = members(db, bot, world)
    add_papers(db)
    run_match_cycle(db, bot.settings)
    subscribers = [get_subscriber(db, i) for i in ids]
    claimed = claim_chunk(db, subscribers, DISCORD_KINDS, 2, worker="test", now=utcnow())
    rows = rows_of(db)  # matches are expanded into rows by the claim itself
    assert len(rows) == 9  # three papers for each of the three members
    for sid in ids:  # the two lowest rows of each, as `outbox.claim(subscriber_ids=[sid], limit=2)` takes
        assert [c.delivery_id for c in claimed[sid]] == [r.id for r in rows if r.subscriber_id == sid][:2]
    taken = {c.delivery_id for mine in claimed.values() for c in mine}
    assert {r.id for r in rows if r.status == DeliveryStatus.SENDING} == taken
    assert {r.status for r in rows if r.id not in taken} == {DeliveryStatus.PENDING}
    outbox_holds.let_go(taken)


async def test_every_post_carries_its_vote_rows_and_nonce(
    bot: PaperBot, double: DiscordDouble, world: World, db: Database
) -> None:
    channel = add_subscriber(db, bot.settings, "discord_channel", world.papers_channel, guild_id=world.guild)
    add_subscription(db, bot.settings, channel.id or 0, "diffusion")
    members(db, bot, world, schedule="instant")
    add_papers(db)
    run_match_cycle(db, bot.settings)
    report = await deliver_discord(bot.settings, db, BotPoster(bot, db))
    assert (report.subscribers, report.papers, report.errors) == (4, 11, [])
    posts = [message for messages in double.messages.values() for message in messages]
    assert len(posts) == report.messages == 11  # one message per paper
    voted: list[int] = []
    for post in posts:
        assert 0 < len(post["nonce"]) <= 25  # sent with `enforce_nonce`: a retry returns this message
        papers = sorted({int(b["custom_id"].split(":")[2]) for row in post["components"] for b in row["components"]})
        assert post["components"] == vote_rows(papers) and len(papers) == len(post["embeds"]) == 1
        voted += papers
    sent = [r.paper_id for r in rows_of(db) if r.status == DeliveryStatus.SENT]
    assert sorted(voted) == sorted(sent) and len(sent) == 11


async def test_a_member_who_never_voted_is_planned_without_a_ranking(
    bot: PaperBot, world: World, db: Database
) -> None:
    channel = add_subscriber(db, bot.settings, "discord_channel", world.papers_channel, guild_id=world.guild)
    quiet, voter, own = members(db, bot, world)
    [paper, *_] = add_papers(db)
    with db.session() as session:  # one member voted in the channel, another in their own DMs
        session.add(PaperVote(subscriber_id=channel.id or 0, paper_id=paper, voter=world.other_member, vote=1))
        session.add(PaperVote(subscriber_id=own, paper_id=paper, voter=world.admin, vote=-1))
    inputs = feedback.plan_inputs_many(db, [quiet, voter, own], [], members_who_voted=True)
    assert inputs.learners == {voter, own}
    assert feedback.plan_inputs_many(db, [quiet, voter, own], []).learners == {quiet, voter, own}  # as before
    assert feedback.plan_for(db, quiet, [], inputs=inputs) == feedback.plan_for(db, quiet, [])


async def test_rows_of_a_turn_that_never_ran_go_back(bot: PaperBot, world: World, db: Database) -> None:
    ids = members(db, bot, world)
    add_papers(db)
    run_match_cycle(db, bot.settings)
    claimed = claim_chunk(db, [get_subscriber(db, i) for i in ids], DISCORD_KINDS, 100, worker="test", now=utcnow())
    for rows in claimed.values():
        await give_back(db, Prepared(rows))
    assert {r.status for r in rows_of(db)} == {DeliveryStatus.PENDING}
    assert not outbox_holds.held() & {c.delivery_id for rows in claimed.values() for c in rows}


async def test_a_cancelled_pass_leaves_no_row_claimed(bot: PaperBot, world: World, db: Database) -> None:
    members(db, bot, world, schedule="instant")
    add_papers(db)
    run_match_cycle(db, bot.settings)
    started = asyncio.Event()

    class Stalls(BotPoster):
        async def post(self, *args: Any, **kwargs: Any) -> str:
            started.set()
            await asyncio.Event().wait()  # Discord never answers
            return ""

    run = asyncio.create_task(deliver_discord(bot.settings, db, Stalls(bot, db)))
    await asyncio.wait_for(started.wait(), 15)
    run.cancel()
    await asyncio.gather(run, return_exceptions=True)
    assert {r.status for r in rows_of(db)} == {DeliveryStatus.PENDING}
