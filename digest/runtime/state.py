"""Shared runtime facts for /healthz, /metrics and `paperbell status`: leader heartbeat, sources, next runs.

The scheduler leader writes a heartbeat row (cursor `runtime:scheduler`) every
`leader_retry_seconds`; any process (and `paperbell status`) can then tell whether a scheduler is
alive anywhere in the cluster, on SQLite and PostgreSQL alike. Every `paperbell run` process also
writes a row of its own (cursor `runtime:roles:HOST:PID`, value = which roles it runs) on the same
beat, so `status` can say that `run --role web --role worker` is up even though no scheduler is.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, text
from sqlmodel import select

from digest.email import failures as email_failures
from digest.runtime.channels import CHAT
from digest.runtime.job_table import stored_next_runs
from digest.services import outbox_counts
from digest.services.chat_status import chat_facts
from digest.services.query_health import silent_queries
from storage.db import Database
from storage.models import Cursor, SourceState
from storage.types import utcnow

HEARTBEAT = "runtime:scheduler"
ONCE = "runtime:once"  # when the last `paperbell run --once` cycle finished (value: 0 ok, 1 failed)
ONCE_FRESH_SECONDS = 2 * 3600  # a cron/timer deployment is healthy while its last cycle is this recent


def write_once_mark(db: Database, ok: bool, now: datetime | None = None) -> None:
    """Record that a one-shot cycle finished (so status and /healthz know a cron deployment is alive)."""
    with db.session() as session:
        row = session.get(Cursor, ONCE) or Cursor(name=ONCE)
        row.value = 0 if ok else 1
        row.updated_at = now or utcnow()
        session.add(row)


def once_report(db: Database, now: datetime | None = None) -> dict[str, Any]:
    with db.session() as session:
        row = session.get(Cursor, ONCE)
    if row is None:
        return {"last_cycle_at": None, "age_seconds": None, "ok": None, "fresh": False}
    age = ((now or utcnow()) - row.updated_at).total_seconds()
    return {"last_cycle_at": row.updated_at.isoformat(), "age_seconds": round(age, 1), "ok": int(row.value) == 0,
            "fresh": age <= ONCE_FRESH_SECONDS}


def write_heartbeat(db: Database, now: datetime | None = None) -> None:
    with db.session() as session:
        row = session.get(Cursor, HEARTBEAT) or Cursor(name=HEARTBEAT)
        row.value = os.getpid()
        row.updated_at = now or utcnow()
        session.add(row)


ROLE_BEAT = "runtime:roles:"
ROLE_BITS = ("scheduler", "worker", "web", "bot", "inbound")  # a process's roles as bits of the row's value


def _role_row_name() -> str:
    return f"{ROLE_BEAT}{socket.gethostname()[:36]}:{os.getpid()}"  # cursor names are at most 64 characters


def write_role_beat(db: Database, roles: frozenset[str] | set[str], now: datetime | None = None) -> None:
    """This process is alive and runs `roles` (called on every leader-election step, by every process)."""
    with db.session() as session:
        name = _role_row_name()
        row = session.get(Cursor, name) or Cursor(name=name)
        row.value = sum(1 << bit for bit, role in enumerate(ROLE_BITS) if role in roles)
        row.updated_at = now or utcnow()
        session.add(row)


def clear_role_beat(db: Database) -> None:
    """A clean shutdown removes this process's row at once (a killed one just goes stale)."""
    with db.session() as session:
        session.execute(delete(Cursor).where(Cursor.name == _role_row_name()))  # type: ignore[arg-type]


def running_processes(db: Database, retry_seconds: float, now: datetime | None = None) -> list[dict[str, Any]]:
    """The `paperbell run` processes whose beat is fresh: host:pid, roles, age; stale rows are left out."""
    with db.session() as session:
        rows = session.exec(select(Cursor).where(Cursor.name.startswith(ROLE_BEAT))).all()
    found = []
    for row in rows:
        age = ((now or utcnow()) - row.updated_at).total_seconds()
        if age <= 3 * retry_seconds + 10:
            roles = [role for bit, role in enumerate(ROLE_BITS) if int(row.value) >> bit & 1]
            found.append({"process": row.name[len(ROLE_BEAT):], "roles": roles, "age_seconds": round(age, 1)})
    return sorted(found, key=lambda item: str(item["process"]))


def mark_scheduler_stopped(db: Database) -> None:
    """A leader that stops cleanly says so (value = -pid), so `status` does not count it alive meanwhile."""
    with db.session() as session:
        row = session.get(Cursor, HEARTBEAT)
        if row is not None and row.value == os.getpid():
            row.value = -os.getpid()
            session.add(row)


def heartbeat(db: Database) -> tuple[int, datetime] | None:
    """(leader pid, last beat) or None if no scheduler ever ran; a stopped leader's pid is negative."""
    with db.session() as session:
        row = session.get(Cursor, HEARTBEAT)
        return None if row is None else (int(row.value), row.updated_at)


def scheduler_alive(db: Database, retry_seconds: float, now: datetime | None = None) -> tuple[bool, dict[str, Any]]:
    beat = heartbeat(db)
    if beat is None:
        return False, {"alive": False, "leader_pid": None, "heartbeat_age_seconds": None}
    age = ((now or utcnow()) - beat[1]).total_seconds()
    # a few missed beats are tolerated before we call it dead; a leader that stopped cleanly is not alive
    alive = age <= 3 * retry_seconds + 10 and beat[0] > 0
    beat = (abs(beat[0]), beat[1])
    return alive, {"alive": alive, "leader_pid": beat[0], "heartbeat_age_seconds": round(age, 1)}


def database_ok(db: Database) -> tuple[bool, str | None]:
    try:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return True, None
    except Exception as exc:
        return False, str(exc).splitlines()[0][:200]


def sources_report(db: Database) -> list[dict[str, Any]]:
    with db.session() as session:
        rows = session.exec(select(SourceState).order_by(SourceState.source)).all()
    return [
        {
            "source": row.source,
            "last_run_at": row.last_run_at.isoformat() if row.last_run_at else None,
            "status": row.last_status,
            "error": row.last_error,
            "counts": row.last_counts,
        }
        for row in rows
    ]


@dataclass
class Snapshot:
    healthy: bool
    facts: dict[str, Any] = field(default_factory=dict)


def snapshot(db: Database, retry_seconds: float, *, scheduler_required: bool = True) -> Snapshot:
    """Everything /healthz and `paperbell status` show; blocking (call via `Database.run`)."""
    ok, error = database_ok(db)
    facts: dict[str, Any] = {"database": {"ok": ok, "error": error, "backend": db.engine.dialect.name}}
    if not ok:
        return Snapshot(False, facts)
    alive, scheduler = scheduler_alive(db, retry_seconds)
    scheduler["next_runs"] = {
        job: (when.isoformat() if when else None) for job, when in stored_next_runs(db).items()
    }
    facts["scheduler"] = scheduler
    facts["processes"] = running_processes(db, retry_seconds)
    facts["one_shot"] = once_report(db)
    facts["sources"] = sources_report(db)
    facts["outbox"] = {
        "pending": outbox_counts.pending_counts(db),
        "oldest_pending_seconds": outbox_counts.oldest_pending_age(db),
        "by_status": outbox_counts.status_counts(db),
    }
    running = alive or facts["one_shot"]["fresh"]  # the service, or a recent `run --once` from cron
    # email isolation: who is paused (with why) or backing off after failures
    facts["email"] = {**email_failures.failing_counts(db), "paused_list": email_failures.paused_subscribers(db)}
    facts["chat"] = chat_facts(db, CHAT)  # each chat channel: targets, paused with why, backing off
    facts["silent_queries"] = silent_queries(db, utcnow())  # readers' queries that matched nothing for 30 days
    return Snapshot(ok and (running or not scheduler_required), facts)
