"""The AsyncIOScheduler of `paperbell run`: which jobs run when, stored in the SQLAlchemy job store.

Built by `digest.runtime.app` inside the running event loop, only in the process holding the
leader lock. `desired_jobs(settings)` is the whole timetable:
  - arXiv announcement feeds (`arxiv:`): shortly after each announcement, Sun–Thu 20:00 US/Eastern
    (plus a later retry run; a day without announcement is recorded as 'empty');
  - Hugging Face daily papers (`hf:`): hourly; every other source: `source_interval_minutes`;
  - matching: every `match_interval_minutes`; delivery wake-up (instant posts, due digests): every minute.
`sync_jobs` adds missing jobs and replaces only those whose trigger changed, so a job's stored
next run time survives restarts: with `coalesce` and no misfire limit a process that was down
runs each missed job exactly once when it comes back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from digest.runtime import jobs
from digest.runtime.job_table import JOBS_TABLE
from digest.settings import Settings
from storage.db import Database

ARXIV_ZONE = "America/New_York"
MANAGED_PREFIXES = ("ingest:", "match", "deliver")


@dataclass(frozen=True)
class JobSpec:
    id: str
    func: Callable[..., Any]
    args: tuple[str, ...]
    trigger: BaseTrigger
    misfire_grace_time: int | None = None  # None = run however late (coalesced to one run)


def source_trigger(source: str, settings: Settings) -> BaseTrigger:
    kind = source.split(":", 1)[0]
    if kind == "arxiv":
        # arXiv announces at 20:00 Eastern Sun–Thu; 20:15 catches it, 22:15 retries a late mailing
        return CronTrigger(day_of_week="sun,mon,tue,wed,thu", hour="20,22", minute=15, timezone=ARXIV_ZONE)
    if kind == "hf":
        return IntervalTrigger(hours=1, timezone=UTC)
    return IntervalTrigger(minutes=settings.source_interval_minutes, timezone=UTC)


def desired_jobs(settings: Settings) -> list[JobSpec]:
    specs = [
        JobSpec(f"ingest:{source}", jobs.ingest_job, (source,), source_trigger(source, settings))
        for source in settings.sources
    ]
    specs.append(JobSpec("match", jobs.match_job, (), IntervalTrigger(minutes=settings.match_interval_minutes)))
    specs.append(JobSpec("deliver", jobs.deliver_job, (), IntervalTrigger(minutes=1), misfire_grace_time=30))
    return specs


def build_scheduler(db: Database) -> AsyncIOScheduler:
    """A scheduler on the persistent job store in the service's own database (start it inside the loop)."""
    return AsyncIOScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=db.engine, tablename=JOBS_TABLE)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        timezone=UTC,
    )


def sync_jobs(scheduler: AsyncIOScheduler, settings: Settings) -> dict[str, str]:
    """Make the stored jobs equal `desired_jobs`; returns {job id: 'kept'|'added'|'replaced'|'removed'}."""
    outcome: dict[str, str] = {}
    wanted = {spec.id: spec for spec in desired_jobs(settings)}
    for job in scheduler.get_jobs():
        if job.id.startswith(MANAGED_PREFIXES) and job.id not in wanted:
            job.remove()
            outcome[job.id] = "removed"
    for spec in wanted.values():
        existing = scheduler.get_job(spec.id)
        if existing is not None and str(existing.trigger) == str(spec.trigger) and tuple(existing.args) == spec.args:
            outcome[spec.id] = "kept"  # keep its stored next run time: missed runs are caught up once
            continue
        extra: dict[str, Any] = {}
        if existing is None and spec.id != "deliver":
            extra["next_run_time"] = datetime.now(UTC)  # a new source/install fetches and matches right away
        scheduler.add_job(
            spec.func,
            trigger=spec.trigger,
            args=list(spec.args),
            id=spec.id,
            name=spec.id,
            replace_existing=True,
            misfire_grace_time=spec.misfire_grace_time,
            **extra,
        )
        outcome[spec.id] = "replaced" if existing is not None else "added"
    return outcome
