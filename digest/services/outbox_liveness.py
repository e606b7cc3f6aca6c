"""Who holds a claim, and is it still alive? Lets the outbox return a dead process's claims at once.

Used by digest.services.outbox (every `claim` stamps `claimed_by` with `host:pid[/worker]` and, on
PostgreSQL, makes the process hold a per-process advisory lock) and by the runtime's senders
(`recover_abandoned` at start-up and periodically, `release_own_claims` at shutdown). A process killed
with -9 loses its database connection and so its lock; on SQLite the PID is checked on this host.
"""

from __future__ import annotations

import os
import socket
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import or_, select, text, update
from sqlalchemy.engine import Connection, create_engine
from sqlalchemy.pool import NullPool

from storage.db import Database
from storage.models import Delivery, DeliveryStatus

_D = Delivery.__table__  # type: ignore[attr-defined]

_PRESENCE_CLASS = 0x5042_0001  # advisory-lock namespace: "a paperbell process with this worker id is alive"
_presence: dict[str, tuple[str, Connection]] = {}
_presence_guard = threading.Lock()


def default_worker_id() -> str:
    """`host:pid`: what every claimer in this process should pass, so a dead process's claims are recognisable."""
    return f"{socket.gethostname()}:{os.getpid()}"


def claimer_tag(worker_id: str | None = None) -> str:
    """What goes into `claimed_by`: always starts with this process's `host:pid`, so its death is detectable."""
    me = default_worker_id()
    if worker_id is None or worker_id == me:
        return me
    return f"{me}/{worker_id}"[:128]


def _process_of(claimed_by: str) -> str:
    return claimed_by.split("/", 1)[0]


def _presence_key(worker_id: str) -> int:
    return zlib.crc32(worker_id.encode()) - 2**31  # signed int4 for pg_advisory_lock(int4, int4)


def announce_presence(db: Database) -> None:
    """PostgreSQL: hold a session advisory lock named after the worker id for the life of this process.

    When the process dies its connection closes and the lock goes with it, which is how
    `recover_abandoned` (in any other process) knows its SENDING rows will never be finished.
    """
    if not db.is_postgres:
        return
    worker = default_worker_id()
    with _presence_guard:
        held = _presence.get(db.url)
        if held is not None and held[0] == worker:
            return
        engine = create_engine(db.engine.url, poolclass=NullPool)
        connection = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        connection.execute(text("SELECT pg_advisory_lock(:c, :k)"), {"c": _PRESENCE_CLASS, "k": _presence_key(worker)})
        _presence[db.url] = (worker, connection)


def _is_alive(db: Database, claimed_by: str) -> bool | None:
    """True/False when the claimer's liveness can be told, None when it can't (then only the lease applies)."""
    worker_id = _process_of(claimed_by)
    if db.is_postgres:
        with _presence_guard:
            held = _presence.get(db.url)
        if held is not None and held[0] == worker_id:
            return True
        with db.engine.connect() as connection:
            key = {"c": _PRESENCE_CLASS, "k": _presence_key(worker_id)}
            got = connection.execute(text("SELECT pg_try_advisory_lock(:c, :k)"), key).scalar()
            if got:
                connection.execute(text("SELECT pg_advisory_unlock(:c, :k)"), key)
                connection.commit()
                # nobody holds it: dead if it was a presence-announcing claimer (host:pid form)
                return False if ":" in worker_id else None
            connection.commit()
            return True
    host, _, pid = worker_id.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return None
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def recover_abandoned(db: Database) -> int:
    """Put SENDING rows of dead claimers back to PENDING (message id kept); returns how many.

    Run at start-up and periodically by the runtime, so a kill -9 costs no lease wait.
    """
    with db.session() as session:
        claimers = list(
            session.execute(
                select(_D.c.claimed_by).where(_D.c.status == DeliveryStatus.SENDING.value).distinct()
            ).scalars()
        )
    dead = [worker for worker in claimers if worker and _is_alive(db, worker) is False]
    if not dead:
        return 0
    with db.session() as session:
        result = session.execute(
            update(_D)
            .where(_D.c.status == DeliveryStatus.SENDING.value, _D.c.claimed_by.in_(dead))
            .values(
                status=DeliveryStatus.PENDING.value,
                attempts=_D.c.attempts + 1,
                last_error="claimer died while sending",
                claimed_by=None,
                claimed_at=None,
            )
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


_claims = threading.Condition()
_claims_in_flight = 0
CLAIM_DRAIN_SECONDS = 10.0  # a claim is one short transaction; this only bounds a stuck database


@contextmanager
def claim_in_flight() -> Iterator[None]:
    """Count a claim transaction running in this process (see `release_own_claims`)."""
    global _claims_in_flight
    with _claims:
        _claims_in_flight += 1
    try:
        yield
    finally:
        with _claims:
            _claims_in_flight -= 1
            _claims.notify_all()


def release_own_claims(db: Database, error: str = "released at shutdown") -> int:
    """Give back every row this process still holds (shutdown after the grace period); message ids kept.

    Claims still running in worker threads (their pass was cancelled, their thread was not) are waited
    for first, so none commits after this release and leaves rows in SENDING.
    """
    with _claims:
        _claims.wait_for(lambda: _claims_in_flight == 0, timeout=CLAIM_DRAIN_SECONDS)
    me = default_worker_id()
    with db.session() as session:
        result = session.execute(
            update(_D)
            .where(
                _D.c.status == DeliveryStatus.SENDING.value,
                or_(_D.c.claimed_by == me, _D.c.claimed_by.startswith(f"{me}/")),
            )
            .values(status=DeliveryStatus.PENDING.value, last_error=error, claimed_by=None, claimed_at=None)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
