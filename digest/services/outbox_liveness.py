"""Who holds a claim, and is it still alive? Lets the outbox return a dead process's claims, and only those.

Used by digest.services.outbox (every `claim` stamps `claimed_by` with `host:pid[/worker]` and, on
PostgreSQL, makes the process hold a per-process advisory lock) and by the runtime's senders
(`keep_presence` periodically, `recover_abandoned` at start-up and periodically, `release_own_claims`
at shutdown).

A claim is given back only when its owner is provably gone:
- its PID no longer exists on this host (SQLite, and PostgreSQL claimers on the same host); or
- PostgreSQL: its presence lock was free at two looks at least `grace_seconds` apart. A database
  restart frees every lock at once, but a live process takes its lock again on a new connection
  within `PRESENCE_CHECK_SECONDS` (`keep_presence`), so a free lock alone proves nothing.
This process's own SENDING rows that nothing in it holds any more (a pass that failed during a
database restart) are given back by the process itself (digest.services.outbox_holds).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import or_, select, text, update
from sqlalchemy.engine import Connection, create_engine
from sqlalchemy.pool import NullPool
from sqlalchemy.sql.elements import ColumnElement

from digest.services import outbox_holds
from storage.db import Database
from storage.models import Delivery, DeliveryStatus

_D = Delivery.__table__  # type: ignore[attr-defined]
log = logging.getLogger(__name__)

_PRESENCE_CLASS = 0x5042_0001  # advisory-lock namespace: "a paperbell process with this worker id is alive"
PRESENCE_CHECK_SECONDS = 5.0  # how often a running process makes sure it (still) holds its presence lock
DEFAULT_GRACE_SECONDS = 30.0  # a free lock counts as death only when seen free this long (> the check above)


@dataclass
class _Presence:
    worker: str
    connection: Connection
    checked_at: float


_presence: dict[str, _Presence] = {}
_presence_guard = threading.Lock()
_free_since: dict[tuple[str, str], float] = {}  # (database, claimer process) -> when its lock was first seen free


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


def announce_presence(db: Database, *, max_age: float = 1.0) -> None:
    """PostgreSQL: hold a session advisory lock named after the worker id for the life of this process.

    When the process dies its connection closes and the lock goes with it, which is how
    `recover_abandoned` (in any other process) learns its SENDING rows will never be finished.
    A connection lost while the process lives (the server restarted) is noticed here, at most
    `max_age` seconds after the last check, and the lock is taken again on a new connection.
    """
    if not db.is_postgres:
        return
    worker = default_worker_id()
    with _presence_guard:
        held = _presence.get(db.url)
        if held is not None and held.worker == worker:
            if time.monotonic() - held.checked_at < max_age:
                return
            try:
                held.connection.execute(text("SELECT 1"))
                held.checked_at = time.monotonic()
                return
            except Exception as exc:
                log.warning("presence lock lost with its database connection; taking it again: %s",
                            str(exc).splitlines()[0][:200])
                _close_quietly(held.connection)
                del _presence[db.url]
        engine = create_engine(db.engine.url, poolclass=NullPool)
        connection = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            key = {"c": _PRESENCE_CLASS, "k": _presence_key(worker)}
            connection.execute(text("SELECT pg_advisory_lock(:c, :k)"), key)
        except Exception:
            _close_quietly(connection)
            raise
        _presence[db.url] = _Presence(worker, connection, time.monotonic())


def keep_presence(db: Database) -> None:
    """Check the presence lock now and take it again if its connection was lost (run periodically)."""
    announce_presence(db, max_age=0.0)


def _close_quietly(connection: Connection) -> None:
    try:
        connection.close()
    except Exception as exc:  # a dead connection cannot be closed cleanly; it is gone either way
        log.debug("closing a lost connection failed: %s", exc)


def _local_process_alive(worker_id: str) -> bool | None:
    """True/False for a `host:pid` on this host, None for another host or a tag that is not `host:pid`."""
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


def _presence_lock_free(db: Database, worker_id: str) -> bool:
    with db.engine.connect() as connection:
        key = {"c": _PRESENCE_CLASS, "k": _presence_key(worker_id)}
        got = bool(connection.execute(text("SELECT pg_try_advisory_lock(:c, :k)"), key).scalar())
        if got:
            connection.execute(text("SELECT pg_advisory_unlock(:c, :k)"), key)
        connection.commit()
        return got


def _is_alive(db: Database, claimed_by: str, grace_seconds: float = DEFAULT_GRACE_SECONDS) -> bool | None:
    """True/False when the claimer's liveness can be told, None when it can't (then only the lease applies).

    This process counts as alive: its own stranded rows are `_recover_own`'s business.
    """
    worker_id = _process_of(claimed_by)
    if worker_id == default_worker_id():
        return True
    local = _local_process_alive(worker_id)
    if local is False:
        return False  # the PID is gone from this host: proof enough on either database
    if not db.is_postgres:
        return local
    seen = (db.url, worker_id)
    if not _presence_lock_free(db, worker_id):
        _free_since.pop(seen, None)
        return True
    if ":" not in worker_id:
        return None  # not a presence-announcing claimer
    first = _free_since.setdefault(seen, time.monotonic())
    # free now, but a live process may not have re-taken its lock yet after a restart: wait out the grace
    return False if time.monotonic() - first >= grace_seconds else None


def recover_abandoned(db: Database, *, grace_seconds: float = DEFAULT_GRACE_SECONDS) -> int:
    """Put SENDING rows of provably dead claimers back to PENDING (message id kept); returns how many.

    Run at start-up and periodically by the runtime, so a kill -9 costs no lease wait. Rows of this
    process that nothing in it holds any more are given back too.
    """
    recovered = _recover_own(db)
    with db.session() as session:
        claimers = list(
            session.execute(
                select(_D.c.claimed_by).where(_D.c.status == DeliveryStatus.SENDING.value).distinct()
            ).scalars()
        )
    dead = [worker for worker in claimers if worker and _is_alive(db, worker, grace_seconds) is False]
    if not dead:
        return recovered
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
        for worker in dead:
            _free_since.pop((db.url, _process_of(worker)), None)
        return recovered + int(result.rowcount or 0)  # type: ignore[attr-defined]


def _own_claims() -> ColumnElement[bool]:
    me = default_worker_id()
    return or_(_D.c.claimed_by == me, _D.c.claimed_by.startswith(f"{me}/"))


def _recover_own(db: Database) -> int:
    """Give back this process's SENDING rows that no pass here holds (it failed mid-way): provably not in flight.

    Claims are held off meanwhile, so a claim committed but not yet registered is never mistaken for one.
    """
    global _recovering_own
    with _claims:
        if not _claims.wait_for(lambda: _claims_in_flight == 0, timeout=CLAIM_DRAIN_SECONDS):
            return 0
        _recovering_own = True
    try:
        with db.session() as session:
            mine = set(session.execute(
                select(_D.c.id).where(_D.c.status == DeliveryStatus.SENDING.value, _own_claims())
            ).scalars())
            stranded = sorted(mine - outbox_holds.held())
            if not stranded:
                return 0
            result = session.execute(
                update(_D)
                .where(_D.c.id.in_(stranded), _D.c.status == DeliveryStatus.SENDING.value, _own_claims())
                .values(status=DeliveryStatus.PENDING.value, last_error="the sending pass failed before finishing",
                        claimed_by=None, claimed_at=None)
            )
            count = int(result.rowcount or 0)  # type: ignore[attr-defined]
        log.warning("outbox: %d deliveries this process had claimed but no longer works on returned to pending",
                    count)
        return count
    finally:
        with _claims:
            _recovering_own = False
            _claims.notify_all()


_claims = threading.Condition()
_claims_in_flight = 0
_recovering_own = False
CLAIM_DRAIN_SECONDS = 10.0  # a claim is one short transaction; this only bounds a stuck database


@contextmanager
def claim_in_flight() -> Iterator[None]:
    """Count a claim transaction running in this process (see `release_own_claims`)."""
    global _claims_in_flight
    with _claims:
        _claims.wait_for(lambda: not _recovering_own)
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
    accepted = [i for ids in outbox_holds.unrecorded().values() for i in ids]  # sent: never released
    with db.session() as session:
        result = session.execute(
            update(_D)
            .where(_D.c.status == DeliveryStatus.SENDING.value, _own_claims(), _D.c.id.not_in(accepted))
            .values(status=DeliveryStatus.PENDING.value, last_error=error, claimed_by=None, claimed_at=None)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
