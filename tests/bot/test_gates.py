"""The gates every Discord post passes, end to end through the live bot's poster and the double:
unsafe links are dropped or escaped while their neighbours are delivered, and every target kind
(plain channel, role mention, compact, titles, forum, thread, webhook, DM) carries the 👍/👎 buttons."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import select

from bot.client import PaperBot
from bot.poster import BotPoster
from digest.discord.delivery import MessageRejected, deliver_discord
from digest.discord.targets import set_target
from digest.services.matching import run_match_cycle
from digest.services.subscribers import add_subscriber, add_subscription, get_subscriber, set_schedule
from storage.db import Database
from storage.models import Delivery, DeliveryStatus, Paper
from tests.bot.conftest import World, add_papers
from tests.bot.discord_double import DiscordDouble
from tests.bot.discord_double.payloads import MANAGE_WEBHOOKS
from tests.digest.discord.test_masked_links import masked_links

HOSTILE_LINKS = [  # (abs_url, pdf_url) of papers stored before the URL gate existed
    ("/posts/3", None),
    ("javascript:alert(document.cookie)", None),
    ("https://u:p@host.example/paper", None),
    ("https://example.org/paper", "https://example.org/x)[Free](https://evil.example"),
]


def subscriber_for(bot: PaperBot, db: Database, world: World, subscriber_kind: str, address: str,
                   schedule: str = "daily", **target: Any) -> int:
    subscriber = add_subscriber(db, bot.settings, subscriber_kind, address, guild_id=world.guild)
    sid = subscriber.id or 0
    add_subscription(db, bot.settings, sid, "diffusion")
    created = get_subscriber(db, sid).created_at
    set_schedule(db, sid, schedule=schedule, hour=(created.hour + 1) % 24, timezone="UTC")
    if target:
        set_target(db, sid, **target)
    return sid


async def deliver(bot: PaperBot, db: Database, subscriber_id: int) -> Any:
    run_match_cycle(db, bot.settings)
    now = get_subscriber(db, subscriber_id).created_at + timedelta(hours=2)
    return await deliver_discord(bot.settings, db, BotPoster(bot, db), now=now)


def make_hostile(db: Database, paper_ids: list[int]) -> None:
    with db.session() as session:
        for paper_id, (abs_url, pdf_url) in zip(paper_ids, HOSTILE_LINKS, strict=False):
            paper = session.get(Paper, paper_id)
            assert paper is not None
            paper.abs_url, paper.pdf_url = abs_url, pdf_url
            paper.extras = {"github_repo": "https://github.com/o/r)](https://evil.example"}
            session.add(paper)


async def test_the_double_refuses_a_non_http_embed_url_like_discord(
    bot: PaperBot, double: DiscordDouble, world: World, db: Database
) -> None:
    message = {"embeds": [{"title": "x", "url": "javascript:alert(1)"}]}
    with pytest.raises(MessageRejected, match="50035"):
        await BotPoster(bot, db).post("discord_channel", world.papers_channel, message, nonce="n1")
    assert double.messages[world.papers_channel] == []


async def test_unsafe_links_are_dropped_or_escaped_and_their_neighbours_delivered(
    bot: PaperBot, double: DiscordDouble, world: World, db: Database
) -> None:
    sid = subscriber_for(bot, db, world, "discord_channel", world.papers_channel)
    ids = add_papers(db, [(f"Diffusion study {n}", "A diffusion model result.") for n in range(6)])
    make_hostile(db, ids)
    report = await deliver(bot, db, sid)

    assert (report.papers, report.failed, report.rejected) == (6, 0, [])
    [message] = double.messages[world.papers_channel]
    embeds = {e["title"]: e for e in message["embeds"]}
    assert len(embeds) == 6
    assert [n for n in range(6) if "url" in embeds[f"Diffusion study {n}"]] == [3, 4, 5]
    for embed in embeds.values():
        for _, href in masked_links(embed["description"]):
            assert href.startswith("https://") and "(" not in href and ")" not in href and " " not in href
    links = dict(masked_links(embeds["Diffusion study 3"]["description"]))
    assert links["PDF"] == "https://example.org/x%29%5BFree%5D%28https://evil.example"
    assert links["Code"] == "https://github.com/o/r%29%5D%28https://evil.example"
    with db.session() as session:
        statuses = {d.status for d in session.exec(select(Delivery).where(Delivery.subscriber_id == sid))}
    assert statuses == {DeliveryStatus.SENT.value}


def buttons_of(message: dict[str, Any]) -> list[str]:
    return [c["custom_id"] for row in message.get("components", []) for c in row["components"]]


TARGETS = ["plain", "role", "compact", "titles", "forum", "thread", "webhook", "dm"]


async def target_of(kind: str, bot: PaperBot, double: DiscordDouble, world: World, db: Database
                    ) -> tuple[int, str]:
    """A subscriber posting to `kind`, and the channel (or thread) its posts land in."""
    channel = world.papers_channel
    if kind == "dm":
        return subscriber_for(bot, db, world, "discord_user", world.member, schedule="instant"), ""
    if kind == "forum":
        forum = double.add_forum(world.guild, "papers-forum")
        return subscriber_for(bot, db, world, "discord_channel", forum, schedule="instant", kind="forum"), forum
    if kind == "thread":
        thread = double.add_thread(channel, "reading")
        return subscriber_for(bot, db, world, "discord_channel", channel, kind="thread", thread_id=thread), thread
    if kind == "webhook":
        double.set_overwrite(channel, world.guild, allow=MANAGE_WEBHOOKS)
        hook = await BotPoster(bot, db).placer.channel_webhook(channel, "papers", str(bot.application_id))
        return subscriber_for(bot, db, world, "discord_channel", channel, kind="webhook", webhook_id=hook["id"],
                              webhook_token=hook["token"], webhook_name="papers"), channel
    options: dict[str, Any] = {"role_id": double.add_role(world.guild, "readers")} if kind == "role" else {}
    if kind in ("compact", "titles"):
        options["style"] = kind
    return subscriber_for(bot, db, world, "discord_channel", channel, **options), channel


@pytest.mark.parametrize("kind", TARGETS)
async def test_every_target_kind_carries_the_vote_buttons(
    bot: PaperBot, double: DiscordDouble, world: World, db: Database, kind: str
) -> None:
    sid, channel = await target_of(kind, bot, double, world, db)
    paper_ids = add_papers(db, [(f"Diffusion study {n}", "A diffusion model result.") for n in range(3)])
    report = await deliver(bot, db, sid)

    assert report.paused == [] and report.papers == len(paper_ids)
    if kind == "dm":
        [channel] = double.dm_channels
    if kind == "forum":
        posted = [double.thread_starter(t["id"]) for t in double.threads_of(channel)]
    else:
        posted = double.messages[channel]
    assert posted, kind
    voted = sorted(int(custom.split(":")[2]) for m in posted for custom in buttons_of(m) if custom.endswith(":up"))
    assert voted == sorted(paper_ids), f"{kind}: every posted paper has its 👍 (and 👎) button"
