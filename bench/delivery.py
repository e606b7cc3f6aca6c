"""Benchmark: from the start of the match cycle to the last message accepted, as a reader waits for it.

Run (from the repository root; PostgreSQL optional):

    createdb -h 127.0.0.1 -U postgres paperbell_delivery
    .venv/bin/python bench/delivery.py --subscribers 10000 --runs 3 \
        --pg-url postgresql+psycopg://postgres@127.0.0.1:5432/paperbell_delivery --workers 1,2,4

Workload: N subscribers (70 % e-mail, 20 % Discord DMs, 10 % Discord channels), each with 1-3 saved
queries drawn from the match-cycle benchmark's queries (bench/cycle_workload.py) and its 2,000 new
papers; every digest is due in the same minute. One run: a fresh database, `run_match_cycle`, then W
e-mail worker processes each run ONE delivery pass of the real service path (`send_due_digests`) and
one bot process runs `deliver_discord` through discord.py (the bot role), against a local aiosmtpd
server and the local Discord double (global limit 50 req/s, per-route buckets on), both in child
processes. Measured from the start of the match cycle: time to the last message accepted, digests/s,
per-subscriber latency (p50/p99, when their last message was accepted), the e-mail workers' CPU ms
per digest split into claim/expand, load (papers, re-check, summaries), render, building the message,
ledger and the rest (send + event loop), peak RSS per process, and the digests no worker sent in that first
pass, by reason.
Baselines, same run, same digests (the first B e-mail subscribers' items): render only, render +
send through the pooled transport, send only. SQLite runs one e-mail worker; PostgreSQL each of
--workers. Three runs: min and median. Prints ONE JSON line per configuration.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import resource
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# run as a script, bench/ would come first on the path and bench/email.py would shadow the stdlib
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

from bench.delivery_support import STEPS, Server, discord_server, instrument, smtp_server  # noqa: E402 - after the path fix

SECRET = "bench-key-0123456789-abcdefghijklmnop"
KINDS = ("email",) * 7 + ("discord_user",) * 2 + ("discord_channel",)  # 70 / 20 / 10 %


# --- the database ------------------------------------------------------------------------------------
def build(url: str, subscribers: int, seed: int, users: list[str], channels: list[str]) -> Any:
    """A fresh schema: N due subscribers (1-3 of the cycle workload's queries each) and 2,000 new papers."""
    from sqlalchemy import insert, text

    from bench.cycle_workload import workload
    from storage.db import Database
    from storage.migrate import upgrade
    from storage.models import Paper, Subscriber, Subscription
    from storage.types import utcnow

    papers, texts, _owners, _labels = workload(subscribers, seed)
    db = Database(url)
    if db.is_postgres:
        with db.engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    else:
        Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
    db.dispose()
    upgrade(url)
    db = Database(url)
    now = utcnow()
    created = now - timedelta(days=1)
    rng = random.Random(seed)
    rows, subscriptions = [], []
    dm, channel = iter(users), iter(channels)
    for i in range(subscribers):
        kind = KINDS[i % len(KINDS)]
        address = f"reader{i}@example.org" if kind == "email" else next(dm if kind == "discord_user" else channel,
                                                                       str(10**17 + i))  # no double: never posted
        rows.append({"id": i + 1, "kind": kind, "address": address, "timezone": "UTC", "schedule": "daily",
                     "digest_hour": now.hour, "digest_weekday": 0, "confirmed_at": created, "paused": False,
                     "bounce_count": 0, "send_failures": 0, "created_at": created})
        subscriptions += [{"subscriber_id": i + 1, "query": q, "paused": False, "created_at": created}
                          for q in rng.sample(texts, rng.randint(1, 3))]
    with db.engine.begin() as connection:
        connection.execute(insert(Subscriber), rows)  # type: ignore[arg-type]
        for start in range(0, len(subscriptions), 50_000):
            connection.execute(insert(Subscription), subscriptions[start : start + 50_000])  # type: ignore[arg-type]
        connection.execute(insert(Paper), [  # type: ignore[arg-type]
            {"canonical_id": f"2612.{i:05d}", "title": p.title, "abstract": p.abstract, "authors": list(p.authors),
             "categories": list(p.categories), "extras": {}, "sources": ["arxiv"], "first_seen_at": now,
             "published_at": now - timedelta(hours=2)} for i, p in enumerate(papers)])
        if db.is_postgres:
            for table in ("subscribers", "subscriptions"):
                connection.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                        f"(SELECT max(id) FROM {table}))"))
            connection.execute(text("ANALYZE"))
    return db


def autovacuum(db: Any) -> str | None:
    """PostgreSQL's `autovacuum` setting ("on"/"off"; None on SQLite), reported with every run: when it is off,
    nothing analyses the ledger the pass fills (the planner keeps the empty table's statistics and may scan
    it whole) and nothing vacuums the versions each claim and send leave behind. Production runs with it on."""
    if not db.is_postgres:
        return None
    from sqlalchemy import text

    with db.engine.connect() as connection:
        return str(connection.execute(text("SHOW autovacuum")).scalar())


def settings_for(url: str, folder: Path, smtp_port: int, discord: dict[str, Any] | None) -> Any:
    from digest.settings import Settings, SmtpSecurity

    extra = {"discord_api_base": discord["api_base"], "discord_token": discord["token"]} if discord else {}
    return Settings(_env_file=None, secret_key=SECRET, database_url=url, data_dir=folder,  # type: ignore[call-arg]
                    smtp_host="127.0.0.1", smtp_port=smtp_port, smtp_security=SmtpSecurity.NONE,
                    public_url="https://paperbell.example", mail_from="paperbell <digest@paperbell.example>",
                    **extra)


def worker(gate: Any, url: str, folder: str, smtp_port: int, discord: dict[str, Any] | None, out: Any) -> None:
    """One sender process: one e-mail delivery pass, or (given `discord`) the bot's Discord pass; its figures.

    Imports first; then it waits for the gate (the end of the match cycle), as a running service would."""
    import logging

    logging.basicConfig(level=logging.CRITICAL)
    totals = instrument()
    from digest.email.digests import send_due_digests
    from storage.db import Database
    from storage.types import utcnow

    settings = settings_for(url, Path(folder), smtp_port, discord)
    db = Database(url)
    while gate.value == 0.0:  # all workers start together, when the match cycle is done
        time.sleep(0.005)
    wall, cpu = time.perf_counter(), time.process_time()
    now = utcnow()

    profile = None
    if os.environ.get("BENCH_PROFILE") and not discord:  # the event loop thread's profile, to find its costs
        import cProfile

        profile = cProfile.Profile(time.thread_time)  # CPU, not wall: waits for the GIL or the network do not count
        profile.enable()
    if discord:  # the bot role: its own process, as in a deployment with one process per role
        results, discord_report = [], asyncio.run(run_discord(settings, db, now))
    else:
        results, discord_report = asyncio.run(send_due_digests(settings, db, now)), None
    if profile is not None:
        profile.disable()
        profile.dump_stats(f"{os.environ['BENCH_PROFILE']}.{os.getpid()}")
    statuses = Counter(r.status for r in results)
    errors = Counter((r.error or r.status)[:60] for r in results if r.status not in ("sent", "not_due"))
    out.put({"wall_s": time.perf_counter() - wall, "cpu_s": time.process_time() - cpu,
             "cpu_steps_s": totals, "statuses": dict(statuses), "errors": dict(errors.most_common(5)),
             "by_subscriber": {r.subscriber_id: r.status for r in results},
             "email_sent": statuses.get("sent", 0),
             "discord": discord_report,
             "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)})
    db.dispose()


async def run_discord(settings: Any, db: Any, now: Any) -> dict[str, Any]:
    from bot.client import create_bot
    from bot.poster import BotPoster
    from digest.discord.delivery import deliver_discord

    bot = create_bot(settings, db, guild_ready_timeout=0.01, sync_dev_guild=False)
    runner = asyncio.create_task(bot.start(settings.discord_token.get_secret_value()))
    await asyncio.wait_for(bot.wait_until_ready(), 120)
    report = await deliver_discord(settings, db, BotPoster(bot, db), now)
    await bot.close()
    await asyncio.gather(runner, return_exceptions=True)
    return {"subscribers": report.subscribers, "messages": report.messages, "papers": report.papers,
            "errors": len(report.errors), "paused": len(report.paused), "backing_off": report.backing_off}


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2) if ordered else 0.0


def cpu_split(per_worker: list[dict[str, Any]], email_sent: int) -> dict[str, float]:
    """The e-mail workers' CPU ms per digest, by step; the rest is sending and the event loop."""
    steps = {k: sum(w["cpu_steps_s"][k] for w in per_worker) for k in STEPS}
    email_cpu = sum(w["cpu_s"] for w in per_worker)
    cpu_ms = {k: round(1000 * v / max(1, email_sent), 2) for k, v in steps.items()}
    cpu_ms["send_and_loop"] = round(1000 * (email_cpu - sum(steps.values())) / max(1, email_sent), 2)
    cpu_ms["total"] = round(1000 * email_cpu / max(1, email_sent), 2)
    return cpu_ms


def first_pass_outcomes(per_worker: list[dict[str, Any]]) -> Counter[str]:
    """Subscribers by outcome: "sent" when any worker sent them, else the first reason a worker gave (with
    several workers, one worker's "busy" is another's sent)."""
    outcome: dict[int, str] = {}
    for w in per_worker:
        for subscriber_id, status in w["by_subscriber"].items():
            if status == "sent" or subscriber_id not in outcome:
                outcome[subscriber_id] = status
    return Counter(outcome.values())


def start_senders(url: str, folder: Path, smtp_port: int, workers: int, discord_info: dict[str, Any] | None
                  ) -> tuple[Any, Any, list[Any]]:
    """`workers` e-mail sender processes, then the bot (given the double): (their start gate, results, them).

    They are started (imports done) before the clock starts, and begin when the gate opens (the cycle ends)."""
    context = multiprocessing.get_context("spawn")
    results: Any = context.Queue()
    gate = context.Value("d", 0.0)
    roles = [None] * workers + ([discord_info] if discord_info else [])
    procs = [context.Process(target=worker, args=(gate, url, str(folder), smtp_port, role, results))
             for role in roles]
    for proc in procs:
        proc.start()
    return gate, results, procs


def one_run(url: str, args: argparse.Namespace, workers: int, folder: Path) -> dict[str, Any]:
    """A fresh database, the match cycle, then `workers` sender processes; the servers say when each arrived."""
    from digest.services.matching import run_match_cycle

    n = args.subscribers
    smtp = Server(smtp_server)
    double = Server(discord_server, n * 2 // 10, n // 10) if args.discord else None
    discord_info = double.info if double else None
    db = build(url, n, args.seed, discord_info["users"] if discord_info else [],
               discord_info["channels"] if discord_info else [])
    vacuum = autovacuum(db)
    if vacuum == "off":
        print("warning: autovacuum is off on this PostgreSQL server: the ledger's statistics stay those of the "
              "empty table during the pass; production runs with it on", file=sys.stderr)
    settings = settings_for(url, folder, smtp.info, discord_info)
    gate, results, procs = start_senders(url, folder, smtp.info, workers, discord_info)
    time.sleep(3.0)  # let the workers import (not part of what a reader waits for in a running service)
    t0, cycle_cpu = time.monotonic(), time.process_time()
    report = run_match_cycle(db, settings)
    cycle_s, cycle_cpu = time.monotonic() - t0, time.process_time() - cycle_cpu
    db.dispose()
    gate.value = time.monotonic()
    finished = [results.get(timeout=args.timeout) for _ in procs]
    per_worker = [w for w in finished if w["discord"] is None]
    bot = [w for w in finished if w["discord"] is not None]
    for proc in procs:
        proc.join(timeout=60)
    accepted = smtp.stop()
    discord_done = double.stop() if double else {"last": {}}
    latencies = [at - t0 for at in list(accepted.values()) + list(discord_done["last"].values())]
    email_sent = sum(w["email_sent"] for w in per_worker)
    discord_messages = sum(w["discord"]["messages"] for w in bot)
    digests = len(latencies)
    last = max(latencies, default=0.0)
    cpu_ms = cpu_split(per_worker, email_sent)
    statuses = first_pass_outcomes(per_worker)
    email_last = max(accepted.values(), default=t0) - t0
    return {
        "autovacuum": vacuum, "match_cycle_s": round(cycle_s, 2), "match_cycle_cpu_s": round(cycle_cpu, 2),
        "matches": report.matches_recorded,
        "time_to_last_inbox_s": round(last, 2), "email_last_s": round(email_last, 2),
        "digests_delivered": digests, "email_accepted": len(accepted),
        "discord_targets_reached": len(discord_done["last"]),
        "digests_per_s": round(digests / last, 1) if last else 0.0,
        "email_digests_per_s_after_cycle": round(len(accepted) / max(1e-9, email_last - cycle_s), 1),
        "latency_s": {"p50": quantile(latencies, 0.5), "p99": quantile(latencies, 0.99)},
        "email_cpu_ms_per_digest": cpu_ms, "discord_messages": discord_messages,
        "discord_429": {k: discord_done.get(k) for k in ("http_429", "global_429", "invalid_requests")},
        "not_sent_first_pass": {k: v for k, v in statuses.items() if k != "sent"},
        "errors": [w["errors"] for w in per_worker if w["errors"]],
        "discord": [{**w["discord"], "wall_s": round(w["wall_s"], 2), "cpu_s": round(w["cpu_s"], 2)} for w in bot],
        "peak_rss_mb": {"workers": [w["peak_rss_mb"] for w in per_worker], "bot": [w["peak_rss_mb"] for w in bot],
                        "cycle_process": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)},
        "worker_wall_s": [round(w["wall_s"], 2) for w in per_worker],
        "worker_cpu_s": [round(w["cpu_s"], 2) for w in per_worker],
    }


# --- baselines: the same digests rendered / sent without the service path around them ---------------
def baselines(url: str, args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    from sqlmodel import col, select

    from bench.email import render_and_send, render_one, send_all
    from digest.services import outbox
    from digest.services.items import load_items, recipient_of
    from digest.services.matching import run_match_cycle
    from storage.models import Subscriber

    smtp = Server(smtp_server)
    db = build(url, args.subscribers, args.seed, [], [])
    settings = settings_for(url, folder, smtp.info, None)
    run_match_cycle(db, settings)
    batch = []
    with db.session() as session:
        subscribers = list(session.exec(select(Subscriber).where(Subscriber.kind == "email")
                                        .order_by(col(Subscriber.id)).limit(args.baseline)))
        session.expunge_all()
    for subscriber in subscribers:
        rows = outbox.pending_rows(db, subscriber.id or 0)
        batch.append((recipient_of(subscriber), asyncio.run(load_items(settings, db, rows))))
    db.dispose()
    figures: dict[str, list[float]] = {key: [] for key in (
        "render_only_per_s", "render_send_per_s", "send_only_per_s", "render_only_cpu_ms", "render_send_cpu_ms",
        "send_only_cpu_ms")}
    for _ in range(args.runs):  # wall (what a reader waits for) and this process's CPU (what the load hides)
        started, cpu = time.perf_counter(), time.process_time()
        messages = [render_one(settings, r, items) for r, items in batch]
        figures["render_only_per_s"].append(len(batch) / (time.perf_counter() - started))
        figures["render_only_cpu_ms"].append(1000 * (time.process_time() - cpu) / len(batch))
        started, cpu = time.perf_counter(), time.process_time()
        sent = asyncio.run(render_and_send(settings, batch))
        figures["render_send_per_s"].append(sent / (time.perf_counter() - started))
        figures["render_send_cpu_ms"].append(1000 * (time.process_time() - cpu) / len(batch))
        started, cpu = time.perf_counter(), time.process_time()
        sent = asyncio.run(send_all(settings, messages))
        figures["send_only_per_s"].append(sent / (time.perf_counter() - started))
        figures["send_only_cpu_ms"].append(1000 * (time.process_time() - cpu) / len(batch))
    smtp.stop()
    out: dict[str, Any] = {"digests": len(batch),
                           "papers_per_digest_avg": round(sum(len(i) for _, i in batch) / max(1, len(batch)), 1)}
    for key, values in figures.items():
        out[key] = {"min": round(min(values), 1), "median": round(statistics.median(values), 1)}
    return out


def summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    def stats(key: str) -> dict[str, float]:
        values = [r[key] for r in runs]
        return {"min": min(values), "median": statistics.median(values)}

    return {"time_to_last_inbox_s": stats("time_to_last_inbox_s"), "digests_per_s": stats("digests_per_s"),
            "email_digests_per_s_after_cycle": stats("email_digests_per_s_after_cycle"),
            "email_cpu_ms_per_digest_total": {"min": min(r["email_cpu_ms_per_digest"]["total"] for r in runs),
                                              "median": statistics.median(r["email_cpu_ms_per_digest"]["total"]
                                                                          for r in runs)},
            "runs": runs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--pg-url", default=None)
    parser.add_argument("--workers", default="1,2,4", help="PostgreSQL worker processes to run, comma-separated")
    parser.add_argument("--baseline", type=int, default=1000, help="digests in the render/send baselines")
    parser.add_argument("--no-discord", dest="discord", action="store_false")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=3600.0)
    args = parser.parse_args()
    configurations: list[tuple[str, int]] = []
    for backend in args.backends.split(","):
        if backend == "sqlite":
            configurations.append(("sqlite", 1))
        elif backend == "postgresql" and args.pg_url:
            configurations += [("postgresql", int(w)) for w in args.workers.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        sqlite_url = f"sqlite:///{tmp}/bench.db"
        base = baselines(args.pg_url if args.backends == "postgresql" else sqlite_url, args, Path(tmp))
        for backend, workers in configurations:
            url = sqlite_url if backend == "sqlite" else args.pg_url
            runs = [one_run(url, args, workers, Path(tmp)) for _ in range(args.runs)]
            print(json.dumps({
                "benchmark": "delivery", "command": " ".join(["python", *sys.argv]), "backend": backend,
                "workers": workers, "subscribers": args.subscribers, "mix": "70% e-mail, 20% Discord DMs, 10% channels",
                "discord": args.discord, "cpus": os.cpu_count(), "loadavg": os.getloadavg(),
                "baselines": base, **summary(runs),
            }), flush=True)


if __name__ == "__main__":
    main()
