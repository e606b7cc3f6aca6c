"""Riding out a database outage: retry a short write while the connection is lost, then give up.

Used where losing a write costs more than waiting for it: the ledger write after a message was
accepted (a lost "sent" would send the message again once its claim is recovered). A database
restart drops every connection; SQLAlchemy's pool (pre-ping on PostgreSQL) then hands out fresh
ones, so retrying the whole short transaction is enough. Anything else (a constraint, bad SQL) is
not an outage and is raised at once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

T = TypeVar("T")
log = logging.getLogger(__name__)

DEFAULT_OUTAGE_SECONDS = 60.0  # a restart takes seconds; a longer outage is reported, not waited out


def is_outage(exc: BaseException) -> bool:
    """True for a lost or refused connection (the server restarting, unreachable, shutting down)."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, (OperationalError, InterfaceError)):
        text = str(exc.orig if isinstance(exc, DBAPIError) else exc).lower()
        return any(sign in text for sign in _OUTAGE_SIGNS)
    return False


_OUTAGE_SIGNS = (
    "connection", "server closed", "terminating", "shutting down", "starting up", "could not connect",
    "not accepting", "ssl syscall", "eof detected", "recovery mode", "broken pipe",
    # SQLite: the file is held by another process past the busy timeout, or the storage is failing
    "database is locked", "disk i/o error", "unable to open database file",
)


def storage_reason(exc: BaseException) -> str:
    """A database error in one line for an operator (the driver's first line, never the SQL or its values)."""
    orig = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    first = (str(orig).strip().splitlines() or [""])[0][:300]
    return f"{first} ({type(orig).__module__.split('.')[0]}.{type(orig).__name__})" if first else type(orig).__name__


def through_outage(func: Callable[[], T], *, seconds: float = DEFAULT_OUTAGE_SECONDS, what: str = "write",
                   sleep: Callable[[float], None] = time.sleep) -> T:
    """Call `func` (one whole transaction) until it succeeds; retry only outages, for up to `seconds`.

    Blocking (run it via `Database.run`); waits grow from 0.1 s to 2 s between tries.
    """
    deadline = time.monotonic() + seconds
    wait = 0.1
    while True:
        try:
            return func()
        except Exception as exc:
            if not is_outage(exc) or time.monotonic() + wait > deadline:
                raise
            log.warning("database unavailable during %s, retrying in %.1fs: %s", what, wait,
                        str(exc).splitlines()[0][:200])
            sleep(wait)
            wait = min(2.0, wait * 2)
