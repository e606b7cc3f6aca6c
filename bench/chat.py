"""Benchmark: instant posts through each chat channel's double with pacing on; one JSON line per channel.

Runs the real pipeline (run_match_cycle → the channel's `deliver_due` → the shared posting loop →
the platform's client → its local double), the double enforcing the platform's rate limit scaled
up so a run takes seconds:
  - ntfy: one visitor bucket of 60 requests refilled every 0.05 s (ntfy.sh: every 5 s, 100x faster);
    paperbell paced at `ntfy_rate` 18/s after a burst of 50.
  - Slack: per channel a bucket of 3 refilled at 20/s (chat.postMessage: about 1/s per channel, 20x
    faster); paperbell paced at `slack_rate` 19/s per channel.
  - Telegram: the Bot API double's windows 10x shorter (one message a second per chat with Telegram's
    short bursts, 20 a minute per group, 30 a second in all); half the chats groups; paperbell's pacer
    scaled alike (`pacer(0.1)`: 5% under each limit).
  - Matrix: the homeserver's bucket as a bot exempted from Synapse's default (20/s after a burst of 10);
    paperbell paced 10% under it: `matrix_rate` 18/s after a burst of 8.
Measured: the whole delivery pass (what subscribers wait for), posts/s, and every 429 the double
answered (none is planned: any is a pacing failure). Baseline, same process and workload: the same
pass with pacing off (rate 10,000/s), leaving the 429 handling alone to cope. Three runs each; min
and median.

    .venv/bin/python -m bench.chat [--papers 25] [--targets 4] [--runs 3] [--only telegram matrix]
    (from the repository root)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from digest.ntfy.channel import ntfy_channel
from digest.runtime.channels import settings_class
from digest.services.matching import run_match_cycle
from digest.services.subscribers import add_subscriber, add_subscription
from digest.settings import Settings
from digest.slack.channel import slack_channel
from storage.db import Database
from storage.migrate import upgrade
from storage.types import utcnow
from tests.bot.conftest import add_papers
from tests.digest.ntfy.ntfy_double import NtfyDouble
from tests.digest.slack.slack_double import SlackDouble

TELEGRAM_SCALE = 0.1  # 20x shorter windows left too little margin on a loaded machine (2 unplanned 429s in 3 runs)
Run = Callable[[Path, int, int, bool], Awaitable[dict[str, Any]]]


def _setup(folder: Path, papers: int, targets: int, kind: str, addresses: list[str], **extra: Any
           ) -> tuple[Settings, Database]:
    url = f"sqlite:///{folder / 'bench.db'}"
    upgrade(url)
    settings = settings_class()(_env_file=None, data_dir=folder, database_url=url, secret_key="bench-" + "k" * 32,
                                public_url="http://paperbell.test", **extra)
    db = Database(url)
    for address in addresses[:targets]:
        subscriber = add_subscriber(db, settings, kind, address)
        add_subscription(db, settings, subscriber.id or 0, "bench")
    add_papers(db, [(f"Bench paper {n}", "a bench abstract about bench marks") for n in range(papers)])
    run_match_cycle(db, settings)
    return settings, db


async def ntfy_run(folder: Path, papers: int, targets: int, paced: bool) -> dict[str, Any]:
    double = NtfyDouble(burst=60, replenish=0.05)
    await double.start()
    settings, db = _setup(folder, papers, targets, "ntfy_topic", [f"bench-{i}" for i in range(targets)],
                          ntfy_url=double.url, ntfy_rate=18.0 if paced else 10_000.0, ntfy_burst=50)
    channel = ntfy_channel(settings, db)
    try:
        started = time.perf_counter()
        report = await channel.deliver_due(utcnow())
        wall = time.perf_counter() - started
    finally:
        await channel.aclose()
        db.dispose()
        await double.stop()
    return {"posts": report.messages, "wall_s": wall, "http_429": len([r for r in double.refusals if r[0] == 429])}


async def slack_run(folder: Path, papers: int, targets: int, paced: bool) -> dict[str, Any]:
    double = SlackDouble(burst=3, per_second=20.0)
    channels = [f"C0BENCH{i:04d}" for i in range(targets)]
    for channel in channels:
        double.channels[channel] = []
    await double.start()
    settings, db = _setup(folder, papers, targets, "slack_channel", channels, slack_api_url=f"{double.url}/api/",
                          slack_bot_token=SecretStr(double.token), slack_rate=19.0 if paced else 10_000.0,
                          slack_global_rate=80.0 if paced else 10_000.0)  # all channels together: 4 x 20/s
    channel = slack_channel(settings, db)
    try:
        started = time.perf_counter()
        report = await channel.deliver_due(utcnow())
        wall = time.perf_counter() - started
    finally:
        await channel.aclose()
        db.dispose()
        await double.stop()
    return {"posts": report.messages, "wall_s": wall, "http_429": double.limited}


async def telegram_run(folder: Path, papers: int, targets: int, paced: bool) -> dict[str, Any]:
    from digest.telegram.api import TelegramClient
    from digest.telegram.channel import telegram_channel
    from digest.telegram.pacing import pacer
    from tests.digest.telegram.double import TelegramDouble

    double = await TelegramDouble(scale=TELEGRAM_SCALE).start()
    chats = [(-1001000000000 - i) if i % 2 else (1000 + i) for i in range(targets)]
    for chat in chats:
        double.add_chat(chat, "supergroup" if chat < 0 else "private")
    settings, db = _setup(folder, papers, targets, "telegram_chat", [str(c) for c in chats],
                          telegram_token=SecretStr(double.token), telegram_api_url=double.base_url)
    client = TelegramClient(double.token, double.base_url, pacer(TELEGRAM_SCALE if paced else 0.0))
    channel = telegram_channel(settings, db, client)
    try:
        started = time.perf_counter()
        report = await channel.deliver_due(utcnow())
        wall = time.perf_counter() - started
    finally:
        await channel.aclose()
        db.dispose()
        await double.stop()
    return {"posts": report.messages, "wall_s": wall, "http_429": double.rate_limited}


async def matrix_run(folder: Path, papers: int, targets: int, paced: bool) -> dict[str, Any]:
    from digest.matrix.channel import matrix_channel
    from tests.digest.matrix.double import MatrixDouble

    double = await MatrixDouble(rate=20.0, burst=10).start()
    rooms = [f"!bench{i}:double.test" for i in range(targets)]
    for room in rooms:
        double.add_room(room)
    settings, db = _setup(folder, papers, targets, "matrix_room", rooms, matrix_homeserver=double.url,
                          matrix_user_id=double.user_id, matrix_access_token=SecretStr(double.access_token),
                          matrix_rate=18.0 if paced else 10_000.0, matrix_burst=8)
    channel = matrix_channel(settings, db)
    try:
        started = time.perf_counter()
        report = await channel.deliver_due(utcnow())
        wall = time.perf_counter() - started
    finally:
        await channel.aclose()
        db.dispose()
        await double.stop()
    return {"posts": report.messages, "wall_s": wall, "http_429": double.rate_limited}


def summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    rates = sorted(r["posts"] / r["wall_s"] for r in runs)
    walls = sorted(r["wall_s"] for r in runs)
    return {"posts_per_s_min": round(rates[0], 1), "posts_per_s_median": round(rates[len(rates) // 2], 1),
            "wall_s_min": round(walls[0], 3), "wall_s_median": round(walls[len(walls) // 2], 3),
            "posts": runs[0]["posts"], "http_429_total": sum(r["http_429"] for r in runs)}


async def measure(name: str, run: Run, papers: int, targets: int, runs: int) -> dict[str, Any]:
    results: dict[bool, list[dict[str, Any]]] = {True: [], False: []}
    for _ in range(runs):
        for paced in (True, False):
            with tempfile.TemporaryDirectory() as folder:
                results[paced].append(await run(Path(folder), papers, targets, paced))
    return {"bench": f"chat.{name}", "papers": papers, "targets": targets, "runs": runs, **summary(results[True]),
            "unplanned_429": sum(r["http_429"] for r in results[True]),
            "baseline": {"name": "same runs, pacing off (429 handling only)", **summary(results[False])}}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--papers", type=int, default=25)
    parser.add_argument("--targets", type=int, default=4)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", nargs="*", default=None, help="channels to measure (default: all)")
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # the baseline's 429 waits are logged; the JSON line is the report
    for name, run in (("ntfy", ntfy_run), ("slack", slack_run), ("telegram", telegram_run), ("matrix", matrix_run)):
        if args.only and name not in args.only:
            continue
        print(json.dumps(await measure(name, run, args.papers, args.targets, args.runs)), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
