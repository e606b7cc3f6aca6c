"""Discord delivery under Discord's rules: idempotent parts, rejected messages quarantined,
cannot-send targets paused, transient failures backed off, all through the live bot and the strict double."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import col, select

from bot.client import PaperBot
from bot.poster import BotPoster
from digest.discord.delivery import TransientBackoff, deliver_discord, part_nonce
from digest.discord.guilds import guild_stats
from digest.runtime.metrics import Metrics
from digest.services.matching import run_match_cycle
from digest.services.subscribers import add_subscriber, add_subscription, get_subscriber, set_schedule
from storage.db import Database
from storage.models import Delivery, DeliveryStatus, Paper
from tests.bot.conftest import World, add_papers
from tests.bot.discord_double import DiscordDouble


def rows(db: Database) -> list[Delivery]:
    with db.session() as session:
        return list(session.exec(select(Delivery).order_by(col(Delivery.id))).all())


def titles_sent(db: Database) -> Counter[str]:
    with db.session() as session:
        sent = session.exec(select(Paper.title).join(Delivery, col(Delivery.paper_id) == col(Paper.id))
                            .where(Delivery.status == DeliveryStatus.SENT.value)).all()
    return Counter(str(t) for t in sent)


def titles_posted(double: DiscordDouble, channel: str) -> Counter[str]:
    return Counter(e["title"] for m in double.messages[channel] for e in m.get("embeds", []))


class FailsOnce(BotPoster):
    """Part `fail_at` (1-based) fails once: before reaching Discord, or after (the reply is lost)."""

    def __init__(self, bot: PaperBot, db: Database, fail_at: int, reply_lost: bool) -> None:
        super().__init__(bot, db)
        self.fail_at, self.reply_lost, self.calls = fail_at, reply_lost, 0

    async def post(self, kind: str, address: str, message: dict[str, Any], *, nonce: str) -> str:
        self.calls += 1
        if self.calls == self.fail_at:
            if self.reply_lost:
                await super().post(kind, address, message, nonce=nonce)
            raise ConnectionResetError("connection dropped")
        return await super().post(kind, address, message, nonce=nonce)


@pytest.mark.parametrize("reply_lost", [False, True], ids=["request-lost", "reply-lost"])
async def test_a_part_failing_once_then_retried_posts_exactly_what_the_ledger_marks_sent(
    bot: PaperBot, double: DiscordDouble, world: World, db: Database, reply_lost: bool
) -> None:
    channel = add_subscriber(db, bot.settings, "discord_channel", world.papers_channel, guild_id=world.guild)
    add_subscription(db, bot.settings, channel.id or 0, "diffusion")
    created = get_subscriber(db, channel.id or 0).created_at
    set_schedule(db, channel.id or 0, schedule="daily", hour=(created.hour + 1) % 24, timezone="UTC")
    add_papers(db, [(f"Diffusion study {n}", "A diffusion model result.") for n in range(23)])
    run_match_cycle(db, bot.settings)
    due = created + timedelta(hours=2)

    failed = await deliver_discord(bot.settings, db, FailsOnce(bot, db, fail_at=2, reply_lost=reply_lost), now=due)
    assert (failed.messages, len(failed.errors)) == (1, 1)
    retried = await deliver_discord(bot.settings, db, BotPoster(bot, db), now=due)
    assert retried.errors == []

    posted = titles_posted(double, world.papers_channel)
    assert posted == titles_sent(db), "Discord holds exactly the papers the ledger marks sent"
    assert len(posted) == 23 and set(posted.values()) == {1}, "each paper posted exactly once"
    assert {r.status for r in rows(db)} == {DeliveryStatus.SENT}


def test_a_part_nonce_is_derived_from_what_it_carries() -> None:
    assert part_nonce(7, [3, 1, 2]) == part_nonce(7, [1, 2, 3])
    assert part_nonce(7, [1, 2, 3]) != part_nonce(7, [1, 2]) != part_nonce(8, [1, 2])
    assert len(part_nonce(7, list(range(50)))) <= 25  # Discord's nonce limit


async def test_a_rejected_message_is_quarantined_and_the_channel_moves_on(
    bot: PaperBot, double: DiscordDouble, world: World, db: Database
) -> None:
    channel = add_subscriber(db, bot.settings, "discord_channel", world.papers_channel, guild_id=world.guild,
                             schedule="instant")
    add_subscription(db, bot.settings, channel.id or 0, "diffusion")
    add_papers(db)
    run_match_cycle(db, bot.settings)
    poison = "Diffusion models for protein design"
    double.refuse_bodies.append(lambda body: any(e.get("title") == poison for e in body.get("embeds", [])))

    report = await deliver_discord(bot.settings, db, BotPoster(bot, db))
    assert (report.messages, report.failed, report.paused) == (1, 1, [])
    assert titles_posted(double, world.papers_channel) == Counter({"Latent diffusion with fewer steps": 1})
    [bad] = [r for r in rows(db) if r.status == DeliveryStatus.FAILED]
    assert "50035" in (bad.last_error or "")
    assert not get_subscriber(db, channel.id or 0).paused

    before = len(double.requests)
    again = await deliver_discord(bot.settings, db, BotPoster(bot, db))
    assert again.messages == 0 and len(double.requests) == before, "a quarantined message is never retried"
    assert "50035" in (guild_stats(db, world.guild).last_failure or "")
    assert 'paperbell_deliveries_failed_total{kind="discord_channel"} 1.0' in Metrics(db).render().decode()


async def test_an_invalid_dm_recipient_pauses_the_member(bot: PaperBot, double: DiscordDouble, world: World,
                                                         db: Database) -> None:
    ghost = "100000000000000042"  # no such user: opening the DM answers 400 50033
    member = add_subscriber(db, bot.settings, "discord_user", ghost, guild_id=world.guild, schedule="instant")
    add_subscription(db, bot.settings, member.id or 0, "diffusion")
    add_papers(db)
    run_match_cycle(db, bot.settings)
    report = await deliver_discord(bot.settings, db, BotPoster(bot, db))
    assert report.messages == 0 and len(report.paused) == 1
    paused = get_subscriber(db, member.id or 0)
    assert paused.paused and "not a valid DM recipient" in (paused.pause_reason or "")
    assert [r.status for r in double.requests if r.path == "/users/@me/channels"] == [400]
    assert {r.status for r in rows(db)} == {DeliveryStatus.PENDING}


async def test_a_channel_overwrite_denying_embeds_pauses_with_the_reason(
    bot: PaperBot, double: DiscordDouble, world: World, db: Database
) -> None:
    channel = add_subscriber(db, bot.settings, "discord_channel", world.papers_channel, guild_id=world.guild,
                             schedule="instant")
    add_subscription(db, bot.settings, channel.id or 0, "diffusion")
    add_papers(db)
    run_match_cycle(db, bot.settings)
    double.set_overwrite(world.papers_channel, world.guild, deny=1 << 14)  # @everyone: no Embed Links
    report = await deliver_discord(bot.settings, db, BotPoster(bot, db))
    assert report.messages == 0 and "Embed Links" in report.paused[0][1]
    assert [r.status for r in double.requests if r.path.endswith("/messages")][:1] == [403]


class AlwaysDown(BotPoster):
    async def post(self, kind: str, address: str, message: dict[str, Any], *, nonce: str) -> str:
        raise TimeoutError("Discord did not answer")


async def test_transient_failures_back_off_with_a_cap(bot: PaperBot, world: World, db: Database) -> None:
    channel = add_subscriber(db, bot.settings, "discord_channel", world.papers_channel, guild_id=world.guild,
                             schedule="instant")
    add_subscription(db, bot.settings, channel.id or 0, "diffusion")
    add_papers(db)
    run_match_cycle(db, bot.settings)
    clock = [0.0]
    poster = AlwaysDown(bot, db)
    poster.backoff = TransientBackoff(base=30, cap=120, clock=lambda: clock[0])
    delays = []
    for _ in range(5):
        report = await deliver_discord(bot.settings, db, poster)
        assert len(report.errors) == 1, "one attempt per back-off step"
        assert (await deliver_discord(bot.settings, db, poster)).backing_off == 1, "no attempt while backing off"
        delays.append(poster.backoff._state[channel.id or 0][1] - clock[0])
        clock[0] += delays[-1]
    assert delays == [30, 60, 120, 120, 120]
    assert {r.status for r in rows(db)} == {DeliveryStatus.PENDING}


async def test_a_long_rate_limit_wait_releases_the_claim(bot_settings: Any, double: DiscordDouble, world: World,
                                                         db: Database) -> None:
    from tests.bot.conftest import start_bot

    settings = bot_settings.model_copy(update={"discord_max_ratelimit_wait": 0.5})
    capped, runner = await start_bot(settings, db, double)
    try:
        channel = add_subscriber(db, settings, "discord_channel", world.papers_channel, guild_id=world.guild,
                                 schedule="instant")
        add_subscription(db, settings, channel.id or 0, "diffusion")
        add_papers(db)
        run_match_cycle(db, settings)
        double.force_429(rf"^POST /channels/{world.papers_channel}/messages$", retry_after=60.0)
        report = await deliver_discord(settings, db, BotPoster(capped, db))
        assert len(report.errors) == 1 and "RateLimited" in report.errors[0][1]
        assert {r.status for r in rows(db)} == {DeliveryStatus.PENDING}, "released, not held for 60 s"
    finally:
        await capped.close()
        await runner


async def test_admin_subscribe_checks_the_bot_can_post_there(bot: PaperBot, double: DiscordDouble, world: World,
                                                             db: Database) -> None:
    from digest.services.subscribers import list_subscriptions

    double.set_overwrite(world.papers_channel, world.guild, deny=1 << 14)  # no Embed Links for anyone
    token = await double.run_command(world.guild, world.other_channel, world.admin, "admin subscribe",
                                     channel=world.papers_channel, query="diffusion")
    refusal = await double.answer_of(token)
    assert "need Embed Links" in refusal["content"]
    assert list_subscriptions(db) == []
