"""Benchmark: the morning DM digests of many members, after a bot restart, through the local Discord double.

What a member waits for on day two: from the start of the Discord delivery pass to the last DM
accepted. Each of `--members` members (more than discord.py's 128 cached DM channels) has one saved
query and gets a daily digest; day one delivers everyone once (opening every DM), the bot restarts
(a deploy, a crash: discord.py's DM cache is gone), new papers arrive, and day two is measured.
The double enforces Discord's global limit (50 requests/s, `global: true` 429 beyond it) and the
per-route buckets. Arms, same run, same workload:
  remembered   the production poster: each member's DM channel is stored when first opened, so day
               two costs one request per member (digest.discord.dm_channels)
  reopened     the poster without a database: every DM is opened again first (two requests per
               member), as before DM channels were stored
Three runs each; min and median of the day-two wall time, requests and 429s. Prints ONE JSON line.

    .venv/bin/python -m bench.discord_dms [--members 300] [--runs 3]   (from the repository root)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.client import create_bot
from bot.poster import BotPoster
from digest.discord.delivery import deliver_discord
from digest.services.matching import run_match_cycle
from digest.services.subscribers import add_subscriber, add_subscription
from digest.settings import Settings
from storage.db import Database
from storage.migrate import upgrade
from storage.models import Paper
from storage.types import utcnow
from tests.bot.discord_double import DiscordDouble
from tests.bot.discord_double.rules import GlobalLimit

TOPICS = ["diffusion", "attention", "graphs", "retrieval", "robotics", "speech", "vision", "proteins"]


def add_day(db: Database, day: int, now: Any) -> None:
    """Two papers per topic, first seen just now (the morning's announcement)."""
    with db.session() as session:
        for n, word in enumerate(TOPICS * 2):
            session.add(Paper(canonical_id=f"2501.{day}{n:04d}", title=f"New results on {word}, day {day} ({n})",
                              abstract=f"We study {word}. It works. More work is needed.", authors=["A. Author"],
                              categories=["cs.LG"], first_seen_at=now - timedelta(minutes=1)))


async def deliver(settings: Settings, db: Database, double: DiscordDouble, remembered: bool, now: Any
                  ) -> tuple[float, Any]:
    """Start a bot (empty discord.py caches), run one Discord pass, stop it: (wall s, report)."""
    bot = create_bot(settings, db, guild_ready_timeout=0.01)
    runner = asyncio.create_task(bot.start(double.token))
    await asyncio.wait_for(bot.wait_until_ready(), 30)
    started = time.perf_counter()
    report = await deliver_discord(settings, db, BotPoster(bot, db if remembered else None), now)
    wall = time.perf_counter() - started
    await bot.close()
    await asyncio.gather(runner, return_exceptions=True)
    return wall, report


async def run(folder: Path, members: int, remembered: bool) -> dict[str, Any]:
    double = await DiscordDouble().start()
    double.message_bucket = (5, 0.25)
    double.route_buckets.update(dm=(5, 0.25))
    double.global_limit = GlobalLimit(50)
    guild = double.add_guild("bench")
    settings = Settings(_env_file=None, data_dir=folder, discord_api_base=double.api_base,
                        secret_key="bench-secret-key-0123456789-0123456789", subscription_backfill_days=0)
    upgrade(settings.resolved_database_url())
    db = Database(settings.resolved_database_url())
    for i in range(members):
        member = add_subscriber(db, settings, "discord_user", double.add_member(guild, f"m{i}"), guild_id=guild)
        add_subscription(db, settings, member.id or 0, TOPICS[i % len(TOPICS)])
    for day in (1, 2):  # each morning's pass runs a day later, so every member's 08:00 digest is due
        add_day(db, day, utcnow())
        run_match_cycle(db, settings)
        before, limited, global_limited = len(double.requests), double.rate_limited, double.global_429s
        wall, report = await deliver(settings, db, double, remembered, utcnow() + timedelta(days=day))
    day_two = double.requests[before:]
    result = {"wall_s": round(wall, 3), "messages": report.messages, "requests": len(day_two),
              "dm_opened": sum(1 for r in day_two if r.path == "/users/@me/channels"),
              "http_429": double.rate_limited - limited, "global_429": double.global_429s - global_limited}
    await double.close()
    db.dispose()
    return result


def summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    walls = [r["wall_s"] for r in runs]
    return {"wall_s_min": min(walls), "wall_s_median": statistics.median(walls),
            "requests_median": statistics.median(r["requests"] for r in runs),
            "http_429_total": sum(r["http_429"] for r in runs), "runs": runs}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=300)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    logging.basicConfig(level=logging.CRITICAL)  # discord.py logs every 429 it handles; the counts say it
    arms: dict[str, list[dict[str, Any]]] = {"remembered": [], "reopened": []}
    with tempfile.TemporaryDirectory() as tmp:
        for run_no in range(args.runs):
            for arm in arms:
                folder = Path(tmp) / f"{arm}-{run_no}"
                folder.mkdir()
                arms[arm].append(await run(folder, args.members, arm == "remembered"))
    result = {name: summary(runs) for name, runs in arms.items()}
    speedup = result["reopened"]["wall_s_median"] / max(result["remembered"]["wall_s_median"], 1e-9)
    print(json.dumps({"benchmark": "discord_dms", "members": args.members, "runs": args.runs,
                      "day_two_speedup": round(speedup, 2), **result}))


if __name__ == "__main__":
    asyncio.run(main())
