"""Schedules with an injected clock: arXiv feed times across DST, digests across zones/DST, catch-up, weekends."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp import web
from apscheduler.triggers.cron import CronTrigger
from sqlmodel import select

from digest.email.channel import EmailChannel
from digest.runtime import jobs
from digest.runtime.metrics import Metrics
from digest.runtime.scheduler import build_scheduler, desired_jobs, source_trigger, sync_jobs
from digest.runtime.senders import Senders
from digest.services import subscribers as service
from digest.settings import Settings
from storage.db import Database
from storage.models import SourceState, Subscriber

EMPTY_ARXIV_FEED = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:arxiv="http://arxiv.org/schemas/atom"><channel>
<title>cs.LG updates on arXiv.org</title><link>http://rss.arxiv.org/rss/cs.LG</link>
<description>cs.LG updates</description><skipDays><day>Saturday</day><day>Sunday</day></skipDays>
</channel></rss>"""


def fire_times(trigger: CronTrigger, start: datetime, count: int) -> list[datetime]:
    times, previous, now = [], None, start
    for _ in range(count):
        nxt = trigger.get_next_fire_time(previous, now)
        assert nxt is not None
        times.append(nxt.astimezone(UTC))
        previous, now = nxt, nxt + timedelta(seconds=1)
    return times


@pytest.mark.parametrize(
    ("start", "expected_utc"),
    [
        # Friday before the US spring change (2026-03-08): nothing Fri/Sat; Sunday 20:15 EDT is 00:15Z Monday
        (datetime(2026, 3, 6, 12, tzinfo=UTC), ["2026-03-09T00:15", "2026-03-09T02:15", "2026-03-10T00:15"]),
        # Friday before the autumn change (2026-11-01): Sunday 20:15 EST is 01:15Z Monday
        (datetime(2026, 10, 30, 12, tzinfo=UTC), ["2026-11-02T01:15", "2026-11-02T03:15", "2026-11-03T01:15"]),
        # Thursday evening runs, then nothing until Sunday
        (datetime(2026, 6, 11, 12, tzinfo=UTC), ["2026-06-12T00:15", "2026-06-12T02:15", "2026-06-15T00:15"]),
    ],
)
def test_arxiv_feeds_run_after_each_announcement_sun_to_thu_eastern(
    settings: Settings, start: datetime, expected_utc: list[str]
) -> None:
    trigger = source_trigger("arxiv:cs.LG", settings)
    assert isinstance(trigger, CronTrigger)
    got = [t.strftime("%Y-%m-%dT%H:%M") for t in fire_times(trigger, start, 3)]
    assert got == expected_utc


def test_timetable_per_source_kind(settings: Settings) -> None:
    settings.sources = ["arxiv:cs.LG", "hf:daily", "feed:http://x.test/rss", "file:/tmp/x.jsonl"]
    settings.source_interval_minutes = 45
    settings.match_interval_minutes = 7
    specs = {spec.id: str(spec.trigger) for spec in desired_jobs(settings)}
    assert specs["ingest:hf:daily"] == "interval[1:00:00]"
    assert specs["ingest:feed:http://x.test/rss"] == specs["ingest:file:/tmp/x.jsonl"] == "interval[0:45:00]"
    assert specs["match"] == "interval[0:07:00]"
    assert specs["ingest:arxiv:cs.LG"].startswith("cron[day_of_week='sun,mon,tue,wed,thu', hour='20,22'")


async def walk(senders: Senders, clock: list[datetime], start: datetime, hours: int, step_minutes: int = 20) -> dict[
    str, int
]:
    """Advance the injected clock in steps, running one sender pass per step; count consumed digest slots."""
    consumed: dict[str, int] = {}
    steps = hours * 60 // step_minutes
    for n in range(steps + 1):
        clock[0] = start + timedelta(minutes=n * step_minutes)
        counts = (await senders.deliver("email")).statuses
        for status, count in counts.items():
            if status in ("sent", "empty"):
                consumed[status] = consumed.get(status, 0) + count
    return consumed


def add_email(db: Database, settings: Settings, address: str, tz: str, schedule: str, created: datetime,
              weekday: int = 0) -> int:
    sub = service.add_subscriber(db, settings, "email", address, timezone=tz, schedule=schedule, digest_hour=8,
                                 digest_weekday=weekday, confirmed=True)
    with db.session() as session:
        row = session.get(Subscriber, sub.id)
        assert row is not None
        row.created_at = created
        session.add(row)
    assert sub.id is not None
    return sub.id


def digest_times(db: Database, subscriber_id: int) -> datetime | None:
    with db.session() as session:
        row = session.get(Subscriber, subscriber_id)
        assert row is not None
        return row.last_digest_at


@pytest.mark.parametrize(
    ("tz", "start"),
    [
        ("America/New_York", datetime(2026, 3, 6, 0, tzinfo=UTC)),  # spring forward 2026-03-08
        ("America/New_York", datetime(2026, 10, 30, 0, tzinfo=UTC)),  # fall back 2026-11-01
        ("Europe/Berlin", datetime(2026, 3, 27, 0, tzinfo=UTC)),  # 2026-03-29
        ("Europe/Berlin", datetime(2026, 10, 23, 0, tzinfo=UTC)),  # 2026-10-25
        ("Asia/Kolkata", datetime(2026, 3, 6, 0, tzinfo=UTC)),  # no DST, +05:30
    ],
)
async def test_daily_digest_once_per_local_day_across_dst(db: Database, settings: Settings, tz: str,
                                                          start: datetime) -> None:
    clock = [start]
    sid = add_email(db, settings, "ada@example.org", tz, "daily", start)
    senders = Senders(settings, db, Metrics(), channels=[EmailChannel(settings, db)], clock=lambda: clock[0])
    consumed = await walk(senders, clock, start, hours=4 * 24)
    # four local days in the window (the 8:00 slot of each), never two in one day, never one skipped
    assert sum(consumed.values()) == 4
    last = digest_times(db, sid)
    assert last is not None
    from zoneinfo import ZoneInfo

    local = last.astimezone(ZoneInfo(tz))
    assert local.hour == 8 and local.minute < 20  # taken within one step after the local slot


async def test_weekly_digest_and_downtime_catch_up(db: Database, settings: Settings) -> None:
    start = datetime(2026, 3, 2, 0, tzinfo=UTC)  # a Monday
    clock = [start]
    add_email(db, settings, "w@example.org", "America/Los_Angeles", "weekly", start, weekday=2)
    add_email(db, settings, "d@example.org", "Europe/London", "daily", start)
    senders = Senders(settings, db, Metrics(), channels=[EmailChannel(settings, db)], clock=lambda: clock[0])
    consumed = await walk(senders, clock, start, hours=15 * 24, step_minutes=60)
    # Wednesdays 2026-03-04, 03-11 (03-08 is the US DST change in between) + 15 London days (16 slots from
    # 03-02 08:00 to 03-16 08:00... the walk ends 03-17 00:00, so 03-02..03-16 = 15 slots)
    assert sum(consumed.values()) == 2 + 15

    # the process is down for three days: on return each subscriber gets ONE catch-up digest, not three
    resume = start + timedelta(days=18, hours=12)
    clock[0] = resume
    first = (await senders.deliver("email")).statuses
    again = (await senders.deliver("email")).statuses
    assert first.get("empty", 0) + first.get("sent", 0) == 2  # weekly (missed 03-18) and daily
    assert again.get("not_due") == 2


@pytest.fixture
async def empty_arxiv_server() -> AsyncIterator[str]:
    async def feed(request: web.Request) -> web.Response:
        return web.Response(text=EMPTY_ARXIV_FEED, content_type="application/rss+xml")

    app = web.Application()
    app.router.add_get("/{tail:.*}", feed)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


async def test_arxiv_weekend_is_recorded_empty_not_an_error(db: Database, settings: Settings,
                                                            empty_arxiv_server: str) -> None:
    settings.arxiv_rss_url = empty_arxiv_server
    metrics = Metrics(db)
    woken: list[bool] = []
    jobs.install(jobs.JobContext(settings, db, metrics, wake_senders=lambda: woken.append(True)))
    try:
        await jobs.ingest_job("arxiv:cs.LG")
    finally:
        jobs.install(None)
    with db.session() as session:
        state = session.exec(select(SourceState)).one()
    assert state.source == "arxiv:cs.LG" and state.last_status == "empty" and not state.last_error
    text = metrics.render().decode()
    assert 'paperbell_source_runs_total{source="arxiv:cs.LG",status="empty"} 1.0' in text
    assert 'paperbell_source_errors_total{source="arxiv:cs.LG"}' not in text
    assert not woken  # no papers, no match run


async def test_scheduler_catches_up_a_missed_run_exactly_once(db: Database, settings: Settings) -> None:
    """A job whose stored next run passed while the process was down fires once (coalesced) on start."""
    settings.sources = []
    settings.match_interval_minutes = 10
    ran: list[datetime] = []
    done = asyncio.Event()

    scheduler = build_scheduler(db)
    scheduler.start(paused=True)
    try:
        sync_jobs(scheduler, settings)
        scheduler.remove_all_jobs()
        # the stored state a process left behind three days ago
        scheduler.add_job(_record_run, "interval", minutes=10, id="match", args=[], replace_existing=True,
                          next_run_time=datetime.now(UTC) - timedelta(days=3))
        _RUNS.clear()
        _RUNS.append((ran, done))
        scheduler.resume()
        await asyncio.wait_for(done.wait(), timeout=10)
        await asyncio.sleep(0)  # let a second (wrong) run be dispatched if one were pending
        job = scheduler.get_job("match")
        assert job is not None and job.next_run_time > datetime.now(UTC)
    finally:
        scheduler.shutdown(wait=False)
        with db.engine.begin() as connection:
            from sqlalchemy import text

            connection.execute(text("DELETE FROM apscheduler_jobs"))
    assert len(ran) == 1


_RUNS: list[tuple[list[datetime], asyncio.Event]] = []


async def _record_run() -> None:
    ran, done = _RUNS[0]
    ran.append(datetime.now(UTC))
    done.set()
