"""The scheduler's job table read without the scheduler: next run of each stored job.

`paperbell status` and /healthz show when each job runs next; reading the table that APScheduler's
SQLAlchemy job store keeps needs neither APScheduler nor the jobs themselves (the ingest, match and
delivery code), so those commands do not import them. digest.runtime.scheduler writes the table.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Column, Float, MetaData, String, Table, select

from storage.db import Database

JOBS_TABLE = "apscheduler_jobs"


def stored_next_runs(db: Database) -> dict[str, datetime | None]:
    """Next run of each stored job, read straight from the job table (for status and /healthz)."""
    table = Table(
        JOBS_TABLE, MetaData(), Column("id", String(191), primary_key=True), Column("next_run_time", Float)
    )
    try:
        with db.engine.connect() as connection:
            rows = connection.execute(select(table.c.id, table.c.next_run_time).order_by(table.c.id)).all()
    except Exception:  # no table yet: the scheduler never ran
        return {}
    return {
        str(job_id): (datetime.fromtimestamp(ts, UTC) if ts is not None else None) for job_id, ts in rows
    }
