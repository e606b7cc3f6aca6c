"""Leader election: exactly one `paperbell run` process runs the scheduler at a time.

PostgreSQL: a session-level advisory lock (`pg_try_advisory_lock`) held on a dedicated
connection; when the leader dies its connection closes, the lock is freed, and another process
acquires it on its next attempt (every `leader_retry_seconds`). A leader whose connection was lost
(the database restarted) takes the lock again on a new connection at its next check, unless another
process took it first. SQLite: the single process is
the leader. Used by `digest.runtime.app`.
"""

from __future__ import annotations

import logging

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection
from sqlalchemy.pool import NullPool

from storage.db import Database

log = logging.getLogger(__name__)
LEADER_LOCK_KEY = 0x70617065_7262656C & 0x7FFF_FFFF_FFFF_FFFF  # "paperbel": one bigint for the whole cluster


class LeaderLock:
    """Try/keep/release the scheduler lock. Blocking calls: run them via `Database.run`."""

    def __init__(self, db: Database, key: int = LEADER_LOCK_KEY) -> None:
        self.db = db
        self.key = key
        self._connection: Connection | None = None
        self._sqlite_held = False

    def try_acquire(self) -> bool:
        """True if this process is (now) the leader."""
        if not self.db.is_postgres:
            self._sqlite_held = True
            return True
        if self._connection is not None:
            return self.still_held()
        engine = create_engine(self.db.engine.url, poolclass=NullPool)
        connection = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            got = bool(connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key}).scalar())
        except Exception:
            connection.close()
            raise
        if not got:
            connection.close()
            return False
        self._connection = connection
        return True

    def still_held(self) -> bool:
        """Check the dedicated connection is alive (a lost connection means a lost lock)."""
        if not self.db.is_postgres:
            return self._sqlite_held
        if self._connection is None:
            return False
        try:
            self._connection.execute(text("SELECT 1"))
            return True
        except Exception as exc:
            log.warning("leader connection lost: %s", str(exc).splitlines()[0][:200])
            self._drop()
        # a restart frees the lock for everyone: take it again on a new connection if nobody was faster
        try:
            return self.try_acquire()
        except Exception as exc:
            log.warning("leader lock not re-taken (database unavailable), giving up leadership: %s",
                        str(exc).splitlines()[0][:200])
            return False

    def release(self) -> None:
        self._sqlite_held = False
        if self._connection is None:
            return
        try:
            self._connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
        except Exception as exc:  # closing the connection frees it anyway
            log.debug("unlock failed: %s", exc)
        self._drop()

    def _drop(self) -> None:
        if self._connection is not None:
            try:
                self._connection.close()
            except Exception as exc:
                log.debug("close failed: %s", exc)
        self._connection = None
