"""The scheduler's jobs: module-level coroutines referenced by name (the SQLAlchemy job store pickles refs).

Jobs take only picklable arguments (a source spec string); the live objects they need (settings,
database, metrics, the senders' wake-up) come from the `JobContext` the composition root
installs with `install()` before the scheduler starts. Every job is idempotent: ingestion
upserts by canonical id, matching advances a cursor in the same transaction as its ledger rows,
delivery passes only claim what is still pending.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from digest.runtime.logging import log_job
from digest.runtime.metrics import Metrics
from digest.settings import Settings
from digest.sources.http import HostClients
from storage.db import Database

log = logging.getLogger(__name__)


@dataclass
class JobContext:
    settings: Settings
    db: Database
    metrics: Metrics
    http: HostClients | None = None  # the process's clients per host: pacing holds across jobs
    wake_senders: Callable[[], None] = lambda: None
    last_runs: dict[str, tuple[float, str]] = field(default_factory=dict)  # job -> (unix time, status)
    running: set[asyncio.Task[object]] = field(default_factory=set)  # so shutdown can let them finish

    async def cancel_running(self, timeout: float) -> None:
        """Shutdown: cancel the jobs in flight at once (fetches, retry waits) and wait up to `timeout` for them.

        Every job is transactional, so a cancelled one stores nothing partial; the next start redoes it.
        """
        for task in list(self.running):
            task.cancel()
        if self.running:
            await asyncio.wait(set(self.running), timeout=timeout)


_context: JobContext | None = None


def install(context: JobContext | None) -> None:
    global _context
    _context = context


def current() -> JobContext:
    if _context is None:
        raise RuntimeError("job context not installed (jobs run only inside `paperbell run`)")
    return _context


@contextmanager
def _tracked(ctx: JobContext) -> Iterator[None]:
    task = asyncio.current_task()
    if task is not None:
        ctx.running.add(task)
    try:
        yield
    finally:
        if task is not None:
            ctx.running.discard(task)


@contextmanager
def _quiet_cancel(job: str) -> Iterator[None]:
    # A job cancelled at shutdown ends normally: otherwise APScheduler logs the CancelledError as a traceback.
    try:
        yield
    except asyncio.CancelledError:
        log.info("job=%s status=cancelled reason=shutdown", job)


def _done(ctx: JobContext, job: str, status: str, started: float, **counts: Any) -> None:
    duration = time.perf_counter() - started
    ctx.metrics.job_duration.labels(job.split(":", 1)[0]).observe(duration)
    ctx.metrics.job_runs.labels(job.split(":", 1)[0], status).inc()
    ctx.last_runs[job] = (time.time(), status)
    log_job(job, status, duration, logging.WARNING if status == "error" else logging.INFO, **counts)


async def ingest_job(source: str) -> None:
    """Fetch one source; then match at once if it brought new papers."""
    ctx = current()
    with _tracked(ctx), _quiet_cancel(f"ingest:{source}"):
        await _ingest(ctx, source)


async def _ingest(ctx: JobContext, source: str) -> None:
    started = time.perf_counter()
    from digest.services.ingest import ingest_sources  # lazy: owned by the ingestion feature

    try:
        reports = await ingest_sources(ctx.settings, ctx.db, [source], http=ctx.http)
    except Exception as exc:
        ctx.metrics.source_errors.labels(source).inc()
        ctx.metrics.source_runs.labels(source, "error").inc()
        _done(ctx, f"ingest:{source}", "error", started, error=str(exc)[:200])
        return
    new = 0
    for report in reports:
        ctx.metrics.papers_ingested.labels(report.source).inc(report.new)
        ctx.metrics.papers_updated.labels(report.source).inc(report.updated)
        ctx.metrics.source_runs.labels(report.source, report.status).inc()
        if report.status == "error":
            ctx.metrics.source_errors.labels(report.source).inc()
        new += report.new
        # 'empty' (e.g. no arXiv announcement on a weekend) is an ordinary outcome, not a failure
        _done(
            ctx,
            f"ingest:{report.source}",
            report.status,
            started,
            fetched=report.fetched,
            new=report.new,
            updated=report.updated,
            skipped=report.skipped,
            **({"error": report.error} if report.error else {}),
        )
    matched = await _match(ctx) if new else 0
    if source.split(":", 1)[0] == "arxiv":
        await _health_report(ctx, reports, matched)  # after each announcement cycle (twice a day at most)


async def _health_report(ctx: JobContext, reports: list[Any], matched: int) -> None:
    from digest.runtime.health_report import send_health_report
    from digest.runtime.once import CycleReport
    from storage.types import utcnow

    if not (ctx.settings.admin_emails or ctx.settings.admin_discord_channel):
        return
    cycle = CycleReport(started_at=utcnow(), ingest=list(reports), new_deliveries=matched,
                        failures=[f"source {r.source}: {r.error}" for r in reports if r.status == "error"])
    try:
        await send_health_report(ctx.settings, cycle, ctx.db)
    except Exception:  # a report must never break the job that triggered it
        log.exception("health report failed")


async def match_job() -> None:
    """Match papers first seen since the last run; wake the senders when deliveries were created."""
    ctx = current()
    with _tracked(ctx), _quiet_cancel("match"):
        await _match(ctx)


async def _match(ctx: JobContext) -> int:
    """One match run; returns how many deliveries it created (0 on failure, which is logged)."""
    started = time.perf_counter()
    from digest.services.matching import run_match_cycle

    try:
        report = await ctx.db.run(run_match_cycle, ctx.db, ctx.settings)
    except Exception as exc:
        log.exception("match cycle failed")
        _done(ctx, "match", "error", started, error=str(exc)[:200])
        return 0
    ctx.metrics.matches.inc(report.matches_recorded)
    _done(ctx, "match", "ok", started, papers=report.papers, subscriptions=report.subscriptions,
          deliveries=report.matches_recorded)
    if report.matches_recorded:
        ctx.wake_senders()
    return int(report.matches_recorded)


async def deliver_job() -> None:
    """Instant Discord posts and due digests: wake this process's senders (all processes also poll)."""
    ctx = current()
    started = time.perf_counter()
    ctx.wake_senders()
    _done(ctx, "deliver", "ok", started)
