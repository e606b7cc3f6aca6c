"""Benchmark: post 1,000 matched papers to 50 Discord targets through the local Discord double.

Runs the real pipeline (run_match_cycle → deliver_discord → BotPoster → discord.py → the double) with
the double enforcing Discord's global limit (50 requests/s, a 429 with `global: true` beyond it) and
per-route buckets with real X-RateLimit-* headers: messages per channel, thread creation per forum and
webhook executions per webhook (each 5 per 0.25 s, Discord's 5-per-5s scaled down 20x). The targets
are a realistic mix: 10 % forums (one post per paper), 10 % threads, 10 % webhooks, the rest channels.
Measured: the whole delivery pass (what subscribers wait for), messages/s, invalid requests,
when each channel's last paper arrived (p50/p90/max), and every 429 (none is planned: any is a
pacing failure). Baseline, same process and workload: the poster WITHOUT the global pacer (rate
1000/s), leaving pacing to discord.py alone. Three runs each; min and median. Prints ONE JSON line.

    .venv/bin/python -m bench.discord [--papers 1000] [--channels 50] [--runs 3]   (from the repository root)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.client import create_bot
from bot.poster import BotPoster
from digest.discord.delivery import deliver_discord
from digest.discord.targets import set_target
from digest.services.matching import run_match_cycle
from digest.services.subscribers import add_subscriber, add_subscription
from digest.settings import Settings
from storage.db import Database
from storage.migrate import upgrade
from storage.models import Paper
from storage.types import utcnow
from tests.bot.discord_double import DiscordDouble
from tests.bot.discord_double.payloads import MANAGE_WEBHOOKS
from tests.bot.discord_double.rules import GlobalLimit

WORDS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet"]


def topic(i: int) -> str:
    return f"{WORDS[i % 10]}{WORDS[(i // 10) % 10]}"  # 100 distinct single-token topics


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 3) if ordered else 0.0


async def run(folder: Path, papers: int, channels: int, rate: float) -> dict[str, Any]:
    double = await DiscordDouble().start()
    double.message_bucket = (5, 0.25)
    double.route_buckets.update(threads=(5, 0.25), webhooks=(5, 0.25), dm=(5, 0.25))
    double.global_limit = GlobalLimit(50)
    guild = double.add_guild("bench")
    kinds = [("forum", "thread", "webhook")[i % 3] if i % 10 < 3 and i < channels else "channel"
             for i in range(channels)]
    channel_ids = [double.add_forum(guild, f"forum-{i}") if kind == "forum" else double.add_channel(guild, f"feed-{i}")
                   for i, kind in enumerate(kinds)]
    for channel, kind in zip(channel_ids, kinds, strict=True):
        if kind == "webhook":
            double.set_overwrite(channel, guild, allow=MANAGE_WEBHOOKS)
    settings = Settings(_env_file=None, data_dir=folder, discord_api_base=double.api_base,
                        secret_key="bench-secret-key-0123456789-0123456789")
    upgrade(settings.resolved_database_url())
    db = Database(settings.resolved_database_url())
    subscriber_ids = []
    for i, channel in enumerate(channel_ids):
        subscriber = add_subscriber(db, settings, "discord_channel", channel, guild_id=guild)
        add_subscription(db, settings, subscriber.id or 0, topic(i))
        subscriber_ids.append(subscriber.id or 0)
        if kinds[i] == "forum":
            set_target(db, subscriber.id or 0, kind="forum")
        elif kinds[i] == "thread":
            set_target(db, subscriber.id or 0, kind="thread", thread_id=double.add_thread(channel, "papers"))
    now = utcnow()
    with db.session() as session:
        for n in range(papers):
            word = topic(n % channels)
            session.add(Paper(
                canonical_id=f"2501.{n:05d}", title=f"A study of {word} number {n}",
                abstract=f"We look at {word} again. The results hold for case {n}. More work is needed.",
                authors=["A. Author"], categories=["cs.LG"], first_seen_at=now - timedelta(minutes=1),
            ))
    matched = run_match_cycle(db, settings)
    bot = create_bot(settings, db, guild_ready_timeout=0.01)
    runner = asyncio.create_task(bot.start(double.token))
    await asyncio.wait_for(bot.wait_until_ready(), 30)
    for i, channel in enumerate(channel_ids):
        if kinds[i] == "webhook":
            hook = await BotPoster(bot, db).placer.channel_webhook(channel, "bench", str(bot.application_id))
            set_target(db, subscriber_ids[i], kind="webhook", webhook_id=str(hook["id"]),
                       webhook_token=str(hook["token"]), webhook_name="bench")
    invalid_before = double.invalid_requests
    started_at = time.monotonic()
    started = time.perf_counter()
    report = await deliver_discord(settings, db, BotPoster(bot, db, rate=rate))
    wall = time.perf_counter() - started
    posted = sum(len(messages) for messages in double.messages.values())  # channels, threads and forum posts
    last_per_channel: dict[str, float] = {}
    for r in double.requests:
        if r.method == "POST" and r.status == 200 and r.at >= started_at:
            last_per_channel[r.path] = r.at - started_at
    await bot.close()
    await asyncio.gather(runner, return_exceptions=True)
    await double.close()
    db.dispose()
    done = list(last_per_channel.values())
    return {"wall_s": round(wall, 3), "matches": matched.matches_recorded, "messages_sent": posted,
            "papers_marked_sent": report.papers, "http_429": double.rate_limited, "global_429": double.global_429s,
            "msgs_per_s": round(posted / wall, 1), "errors": len(report.errors),
            "invalid_requests": double.invalid_requests - invalid_before,
            "targets": {kind: kinds.count(kind) for kind in sorted(set(kinds))},
            "channel_done_s": {"p50": quantile(done, 0.5), "p90": quantile(done, 0.9), "max": quantile(done, 1.0)}}


def summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    rates = sorted(r["msgs_per_s"] for r in runs)
    walls = sorted(r["wall_s"] for r in runs)
    return {"msgs_per_s_min": rates[0], "msgs_per_s_median": rates[len(rates) // 2], "wall_s_min": walls[0],
            "wall_s_median": walls[len(walls) // 2], "http_429_total": sum(r["http_429"] for r in runs),
            "global_429_total": sum(r["global_429"] for r in runs),
            "invalid_requests_total": sum(r["invalid_requests"] for r in runs), "runs": runs}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--papers", type=int, default=1000)
    parser.add_argument("--channels", type=int, default=50)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    logging.basicConfig(level=logging.CRITICAL)  # discord.py logs every 429 it handles; the counts say it
    paced: list[dict[str, Any]] = []
    unpaced: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in range(args.runs):
            paced.append(await run(Path(tmp) / f"paced{n}", args.papers, args.channels, rate=40.0))
            unpaced.append(await run(Path(tmp) / f"unpaced{n}", args.papers, args.channels, rate=1000.0))
    print(json.dumps({
        "bench": "discord_delivery", "papers": args.papers, "channels": args.channels,
        "limits": "global 50 req/s (429 global:true); 5 per 0.25 s per channel, forum, webhook",
        "poster": "global pacer 40 req/s", **summary(paced),
        "baseline": {"name": "same runs, no global pacer (discord.py's limiter only)", **summary(unpaced)},
    }))


if __name__ == "__main__":
    asyncio.run(main())
