"""Benchmark: post 1,000 matched papers to 50 Discord channels through the local Discord double.

Runs the real pipeline (run_match_cycle → deliver_discord → BotPoster → discord.py → the double) with
the double enforcing a per-channel message bucket (5 messages per 0.25 s, Discord's 5-per-5s scaled down
20x) and sending real X-RateLimit-* headers, so discord.py's own limiter has to pace the posts.
Baseline (same process): the same run with no bucket, i.e. the cost of pacing. Prints ONE JSON line.

    .venv/bin/python -m bench.discord [--papers 1000] [--channels 50]     (from the repository root)
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
from digest.services.discord_delivery import deliver_discord
from digest.services.matching import run_match_cycle
from digest.services.subscribers import add_subscriber, add_subscription
from digest.settings import Settings
from storage.db import Database
from storage.migrate import upgrade
from storage.models import Paper
from storage.types import utcnow
from tests.bot.discord_double import DiscordDouble

WORDS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet"]


def topic(i: int) -> str:
    return f"{WORDS[i % 10]}{WORDS[(i // 10) % 10]}"  # 100 distinct single-token topics


async def run(folder: Path, papers: int, channels: int, bucket: tuple[int, float] | None) -> dict[str, Any]:
    double = await DiscordDouble().start()
    double.message_bucket = bucket
    guild = double.add_guild("bench")
    channel_ids = [double.add_channel(guild, f"feed-{i}") for i in range(channels)]
    settings = Settings(_env_file=None, data_dir=folder, discord_api_base=double.api_base,
                        secret_key="bench-secret-key-0123456789-abcdefghij")
    upgrade(settings.resolved_database_url())
    db = Database(settings.resolved_database_url())
    for i, channel in enumerate(channel_ids):
        subscriber = add_subscriber(db, settings, "discord_channel", channel, guild_id=guild)
        add_subscription(db, settings, subscriber.id or 0, topic(i))
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
    started = time.perf_counter()
    report = await deliver_discord(settings, db, BotPoster(bot, db))
    wall = time.perf_counter() - started
    posted = sum(len(double.messages[c]) for c in channel_ids)
    await bot.close()
    await asyncio.gather(runner, return_exceptions=True)
    await double.close()
    db.dispose()
    return {"wall_s": round(wall, 3), "matches": matched.deliveries_created, "messages_sent": posted,
            "papers_marked_sent": report.papers, "http_429": double.rate_limited,
            "msgs_per_s": round(posted / wall, 1), "errors": len(report.errors)}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--papers", type=int, default=1000)
    parser.add_argument("--channels", type=int, default=50)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    with tempfile.TemporaryDirectory() as tmp:
        paced = await run(Path(tmp) / "paced", args.papers, args.channels, bucket=(5, 0.25))
        unpaced = await run(Path(tmp) / "unpaced", args.papers, args.channels, bucket=None)
    print(json.dumps({
        "bench": "discord_delivery", "papers": args.papers, "channels": args.channels,
        "bucket": "5 msgs / 0.25 s per channel", **paced,
        "baseline": {"name": "same run, no rate-limit bucket", **unpaced},
    }))


if __name__ == "__main__":
    asyncio.run(main())
