"""`/subscriptions edit: query:` through the double: a member narrows a query, and the DM digest then holds
only the pending papers the new query matches; the others are closed with the reason. Refusals say why."""

from __future__ import annotations

from sqlmodel import select

from bot.client import PaperBot
from bot.poster import BotPoster
from digest.discord.delivery import deliver_discord
from digest.services.claim_check import NO_LONGER_MATCHES
from digest.services.matching import run_match_cycle
from digest.services.subscribers import add_subscriber, add_subscription, get_subscription, set_schedule
from storage.db import Database
from storage.models import Delivery, DeliveryStatus, Paper
from tests.bot.conftest import World, add_papers
from tests.bot.discord_double import DiscordDouble


async def test_narrowing_with_subscriptions_edit_drops_pending_papers(
    bot: PaperBot, double: DiscordDouble, world: World, db: Database
) -> None:
    member = add_subscriber(db, bot.settings, "discord_user", world.member, guild_id=world.guild)
    subscription = add_subscription(db, bot.settings, member.id or 0, "diffusion")
    add_papers(db, [("Diffusion models for protein design", "A diffusion model."),
                    ("Video diffusion at scale", "A diffusion model for video.")])
    run_match_cycle(db, bot.settings)

    token = await double.run_command(world.guild, world.other_channel, world.member, "subscriptions",
                                     edit=subscription.id, query="protein")
    reply = await double.answer_of(token)
    assert f"Changed **#{subscription.id}** to `protein`" in reply["content"]
    assert get_subscription(db, subscription.id or 0).query == "protein"

    set_schedule(db, member.id or 0, schedule="instant")
    report = await deliver_discord(bot.settings, db, BotPoster(bot, db))
    [dm] = double.dm_channels
    assert report.papers == 1
    assert [m["embeds"][0]["title"] for m in double.messages[dm]] == ["Diffusion models for protein design"]
    with db.session() as session:
        rows = session.exec(select(Paper.title, Delivery.status, Delivery.last_error).join(
            Delivery, Delivery.paper_id == Paper.id)).all()
    assert sorted(rows) == [("Diffusion models for protein design", DeliveryStatus.SENT.value, None),
                            ("Video diffusion at scale", DeliveryStatus.DROPPED.value, NO_LONGER_MATCHES)]


async def test_subscriptions_edit_refusals_say_why(
    bot: PaperBot, double: DiscordDouble, world: World, db: Database
) -> None:
    mine = add_subscriber(db, bot.settings, "discord_user", world.member, guild_id=world.guild)
    theirs = add_subscriber(db, bot.settings, "discord_user", world.other_member, guild_id=world.guild)
    own = add_subscription(db, bot.settings, mine.id or 0, "diffusion")
    other = add_subscription(db, bot.settings, theirs.id or 0, "attention")
    cases = [({"edit": own.id}, "give both"), ({"query": "x"}, "give both"),
             ({"edit": own.id, "query": '"unclosed'}, "quote"), ({"edit": other.id, "query": "x"}, "no subscription")]
    for options, words in cases:
        token = await double.run_command(world.guild, world.other_channel, world.member, "subscriptions", **options)
        reply = await double.answer_of(token)
        assert words in reply["content"].lower(), (options, reply["content"])
    assert get_subscription(db, other.id or 0).query == "attention"
    assert get_subscription(db, own.id or 0).query == "diffusion"
