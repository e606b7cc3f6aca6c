"""What server admins coming from MonitoRSS expect, through the real bot against the Discord double: a
channel's template and colour (previewed with /admin test on any stored paper), a daily cap whose
overflow is one "N more" message and never lost, /admin log, /admin copy, and refusals in /admin stats."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import discord
import pytest
from sqlmodel import select

from bot.client import PaperBot
from bot.poster import BotPoster, classify
from digest.discord.delivery import deliver_discord
from digest.discord.targets import get_target
from digest.services.matching import run_match_cycle
from digest.services.subscribers import get_subscriber, set_schedule
from storage.db import Database
from storage.models import Delivery, DeliveryStatus, Paper, Subscriber
from tests.bot.conftest import World, add_papers
from tests.bot.discord_double import DiscordDouble
from tests.bot.discord_double.rules_v2 import SLOWMODE_CODE, SLOWMODE_TEXT
from tests.bot.test_delivery import ledger
from tests.bot.test_platform_rules import admin

TEMPLATE = "**{title}** by {authors}\n{tldr}\n{link} · `{query}` · {categories} · matched: {matched}"


async def _subscribed(double: DiscordDouble, world: World, channel: str, mode: str = "instant") -> None:
    assert "Saved **#" in await admin(double, world, "admin subscribe", channel=channel, query="diffusion")
    await admin(double, world, "admin schedule", channel=channel, mode=mode, time="08:00")


def _subscriber(db: Database, channel: str) -> Subscriber:
    with db.session() as session:
        found = session.exec(select(Subscriber).where(Subscriber.address == channel)).one()
    return found


async def test_a_template_and_colour_shape_the_test_post_of_any_paper_picked(
    bot: PaperBot, double: DiscordDouble, world: World, db: Database
) -> None:
    ids = add_papers(db)
    await _subscribed(double, world, world.papers_channel)
    reply = await admin(double, world, "admin template", channel=world.papers_channel, text=TEMPLATE,
                        colour="#1e90ff")
    assert "own template" in reply and "colour #1e90ff" in reply
    token = await double.autocomplete(world.guild, world.other_channel, world.admin, "admin test", "paper",
                                      channel=world.papers_channel, paper="2501.00001")
    [choice] = (await double.reply_to(token))["data"]["choices"]
    assert choice["value"] == "2501.00001"  # the first paper stored, not the latest one
    assert "posted" in await admin(double, world, "admin test", channel=world.papers_channel, paper=choice["value"])
    [posted] = double.messages[world.papers_channel]
    [embed] = posted["embeds"]
    assert embed["color"] == 0x1E90FF and embed["title"] == "Diffusion models for protein design"
    assert embed["description"].startswith("**Diffusion models for protein design** by A. Author, B. Author\n")
    assert "https://arxiv.org/abs/2501.00001" in embed["description"]
    assert len(ids) == 4


async def test_deliveries_use_the_template_and_hostile_papers_stay_inert(
    bot: PaperBot, double: DiscordDouble, world: World, db: Database
) -> None:
    add_papers(db, [("Diffusion for @everyone <@&1> [click](javascript:alert(1))", "A diffusion model.")])
    with db.session() as session:  # a source that slipped a non-http link past ingest
        paper = session.exec(select(Paper)).one()
        paper.abs_url = "javascript:alert(1)"
        session.add(paper)
    await _subscribed(double, world, world.papers_channel)
    await admin(double, world, "admin template", channel=world.papers_channel, text="{title} {link}|")
    run_match_cycle(db, bot.settings)
    assert (await deliver_discord(bot.settings, db, BotPoster(bot, db))).messages == 1
    [posted] = double.messages[world.papers_channel]
    text = posted["embeds"][0]["description"]
    assert text.endswith(" |") and "javascript" not in text.replace("javascript:alert", "")  # no link at all
    assert "\\[click\\]" in text and posted["mention_roles"] == [] and not posted.get("mention_everyone")
    assert "\\[click\\]\\(javascript" in await admin(double, world, "admin log")  # shown as written in the log too


@pytest.mark.parametrize(("text", "why"), [
    ("{title} {doi}", "unknown placeholder {doi}"),
    ("{title!r}", "{title} takes no format options"),
    ("{title:>30}", "{title} takes no format options"),
    ("{title.__class__}", "unknown placeholder {title.__class__}"),
    ("{title", "unbalanced braces"),
    ("}{", "unbalanced braces"),
])
async def test_a_bad_template_is_refused_at_the_door_with_one_line(
    bot: PaperBot, double: DiscordDouble, world: World, db: Database, text: str, why: str
) -> None:
    await _subscribed(double, world, world.papers_channel)
    reply = await admin(double, world, "admin template", channel=world.papers_channel, text=text)
    assert why in reply and "\n" not in reply.strip()
    assert get_target(db, _subscriber(db, world.papers_channel).id or 0).template is None


async def test_an_over_long_template_or_cap_never_leaves_discords_client(
    bot: PaperBot, double: DiscordDouble, world: World, db: Database
) -> None:
    await _subscribed(double, world, world.papers_channel)
    with pytest.raises(ValueError, match="would not send text="):  # registered with max_length 1000
        await admin(double, world, "admin template", channel=world.papers_channel, text="{title}" + "x" * 994)
    with pytest.raises(ValueError, match="would not send papers="):  # min_value 1, max_value 1000
        await admin(double, world, "admin cap", channel=world.papers_channel, papers=0)
    assert "own template" in await admin(double, world, "admin template", channel=world.papers_channel,
                                         text="{title}" + "x" * 993)


async def test_past_the_daily_cap_the_rest_go_as_one_message_and_none_is_lost(
    bot: PaperBot, double: DiscordDouble, world: World, db: Database
) -> None:
    add_papers(db, [(f"Diffusion paper {n}", "About diffusion.") for n in range(5)])
    await _subscribed(double, world, world.papers_channel)
    assert "at most 2 papers a day" in await admin(double, world, "admin cap", channel=world.papers_channel, papers=2)
    run_match_cycle(db, bot.settings)
    double.refuse_bodies.append(lambda body: "more papers" in str(body.get("content")))
    first = await deliver_discord(bot.settings, db, BotPoster(bot, db))
    assert first.messages == 2 and first.failed == 3  # the overflow message was refused: its papers say so
    statuses = sorted(r.status for r in ledger(db))
    assert statuses == [DeliveryStatus.FAILED] * 3 + [DeliveryStatus.SENT] * 2, "refused overflow not marked sent"
    log = await admin(double, world, "admin log", channel=world.papers_channel)
    assert log.count("✅ sent") == 2 and log.count("❌ failed") == 3 and "Discord rejected the message" in log

    with db.session() as session:  # the same three papers again, and Discord takes the overflow this time
        for row in session.exec(select(Delivery).where(Delivery.status == DeliveryStatus.FAILED.value)).all():
            row.status, row.last_error = DeliveryStatus.PENDING.value, None
            session.add(row)
    double.refuse_bodies.clear()
    again = await deliver_discord(bot.settings, db, BotPoster(bot, db))
    assert (again.messages, again.papers) == (1, 3)
    more = double.messages[world.papers_channel][-1]
    assert more["content"].startswith("**3 more papers** past this channel's daily cap of 2:")
    assert "/day/" in more["content"] and not more.get("embeds")
    rows = ledger(db)
    assert {r.status for r in rows} == {DeliveryStatus.SENT}
    assert sorted(r.message_id for r in rows).count(more["id"]) == 3


async def test_a_forum_past_its_cap_gets_one_post_named_for_the_rest(
    bot: PaperBot, double: DiscordDouble, world: World, db: Database
) -> None:
    forum = double.add_forum(world.guild, "papers-forum")
    add_papers(db, [(f"Diffusion paper {n}", "About diffusion.") for n in range(3)])
    await _subscribed(double, world, forum)
    await admin(double, world, "admin cap", channel=forum, papers=1)
    run_match_cycle(db, bot.settings)
    assert (await deliver_discord(bot.settings, db, BotPoster(bot, db))).papers == 3
    assert sorted(t["name"] for t in double.threads_of(forum)) == ["2 more papers", "Diffusion paper 0"]


async def test_admin_log_pages_through_deliveries_and_never_shows_members_dms(
    bot: PaperBot, double: DiscordDouble, world: World, db: Database
) -> None:
    add_papers(db, [(f"Diffusion paper {n}", "About diffusion.") for n in range(11)])
    await _subscribed(double, world, world.papers_channel)
    token = await double.run_command(world.guild, world.other_channel, world.member, "subscribe", query="diffusion")
    await double.answer_of(token)
    run_match_cycle(db, bot.settings)
    with db.session() as session:
        member = session.exec(select(Subscriber).where(Subscriber.address == world.member)).one()
    set_schedule(db, member.id or 0, schedule="instant")  # the member's DMs get their papers now too
    await deliver_discord(bot.settings, db, BotPoster(bot, db))
    token = await double.run_command(world.guild, world.other_channel, world.admin, "admin log")
    first = await double.answer_of(token)
    assert "page 1/2" in str(first) and "pager:next" in str(first["components"])
    assert str(first).count("✅ sent") == 10 and f"<#{world.papers_channel}>" in str(first)
    assert double.interactions[token]["followups"][0]["flags"] & 64  # ephemeral
    dm_rows = [r for r in ledger(db) if r.subscriber_id != _subscriber(db, world.papers_channel).id]
    assert dm_rows and all(r.status == DeliveryStatus.SENT for r in dm_rows)  # sent, yet not in the log
    second = await double.click(token, "pager:next", world.admin)
    assert str(await double.reply_to(second)).count("✅ sent") == 1


async def test_copy_gives_other_channels_the_look_and_schedule_and_refuses_strangers(
    bot: PaperBot, double: DiscordDouble, world: World, db: Database
) -> None:
    third = double.add_channel(world.guild, "papers-3")
    for channel in (world.papers_channel, world.other_channel):
        await _subscribed(double, world, channel, mode="daily")
    await admin(double, world, "admin template", channel=world.papers_channel, text="{title}", colour="#00ff00")
    await admin(double, world, "admin cap", channel=world.papers_channel, papers=7)
    await admin(double, world, "admin schedule", channel=world.papers_channel, mode="daily", time="06:00",
                timezone="Europe/Berlin")
    refused = await admin(double, world, "admin copy", **{"from": world.papers_channel},
                          to=f"<#{world.other_channel}> <#{third}>")
    assert f"<#{third}> has no subscriptions yet" in refused
    assert get_target(db, _subscriber(db, world.other_channel).id or 0).template is None  # nothing half-done
    assert "Name the channels" in await admin(double, world, "admin copy", **{"from": world.papers_channel},
                                              to="everything")
    done = await admin(double, world, "admin copy", **{"from": world.papers_channel}, to=f"<#{world.other_channel}>")
    assert f"to <#{world.other_channel}>" in done
    copied = _subscriber(db, world.other_channel)
    look = get_target(db, copied.id or 0)
    assert (look.template, look.embed_color, look.daily_cap) == ("{title}", 0x00FF00, 7)
    assert (copied.schedule, copied.digest_hour, copied.timezone) == ("daily", 6, "Europe/Berlin")


async def test_a_refusal_shows_in_admin_stats_in_plain_words(
    bot: PaperBot, double: DiscordDouble, world: World, db: Database
) -> None:
    add_papers(db)
    await _subscribed(double, world, world.papers_channel)
    run_match_cycle(db, bot.settings)
    double.set_overwrite(world.papers_channel, world.guild, deny=1 << 11)  # no Send Messages for anyone
    await admin(double, world, "admin stats")  # the bot has heard of the overwrite
    report = await deliver_discord(bot.settings, db, BotPoster(bot, db))
    assert report.paused and get_subscriber(db, _subscriber(db, world.papers_channel).id or 0).paused
    stats = await admin(double, world, "admin stats")
    assert f"Paused: <#{world.papers_channel}>: the bot lacks the Send Messages / Embed Links permission" in stats
    assert "paused: the bot lacks" in await admin(double, world, "admin log")


DOUBLE = Path(__file__).parent / "discord_double"
ERROR_CALL = re.compile(r"_error\((\d{3}), (\d+), \"([^\"]*)\"")
INTERACTION_ONLY = {10062, 40060}  # answers to the bot's own replies (deadline, double ack), never a delivery
GENERIC = ("Discord refused (", "Discord could not find the target (", "Discord refused this message (")


def _double_refusals() -> set[tuple[int, int, str]]:
    """Every (status, code, message) the double can answer a request with, read from its source."""
    found = {(int(s), int(c), m) for f in DOUBLE.glob("*.py") for s, c, m in ERROR_CALL.findall(f.read_text())}
    found |= {(400, 50035, "Invalid Form Body"), (400, 50006, "Cannot send an empty message"),  # invalid_body
              (429, SLOWMODE_CODE, SLOWMODE_TEXT)}
    return {r for r in found if r[1] not in INTERACTION_ONLY}


def test_the_double_knows_at_least_the_refusals_this_table_was_written_for() -> None:
    codes = {code for _, code, _ in _double_refusals()}
    assert {10003, 10015, 40058, 160005, 160006, 50001, 50013, 50007, 30007, 50035, 20016} <= codes


@pytest.mark.parametrize(("status", "code", "text"), sorted(_double_refusals()))
def test_every_refusal_the_double_produces_has_a_plain_reason(status: int, code: int, text: str) -> None:
    response: Any = SimpleNamespace(status=status, reason=text)
    kind = {403: discord.Forbidden, 404: discord.NotFound}.get(status, discord.HTTPException)
    verdict, reason = classify(kind(response, {"code": code, "message": text}))
    assert verdict in ("pause", "reject", "retry")
    assert not reason.startswith(GENERIC) and not reason[:1].isdigit(), f"{status} {code}: no plain reason: {reason}"
    assert "\n" not in reason and len(reason) <= 300
