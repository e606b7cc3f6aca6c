"""A storage outage in the middle of a sending pass, on both databases (the SQLite counterpart of a restart).

Right after the mail server accepts the 10th digest, every statement fails for a while the way a
lost database does (connection gone on PostgreSQL; "disk I/O error" on SQLite). The pass stops;
the rows it had claimed are this live process's, so no lease applies: they must be back to pending
at the next poll, every digest sent exactly once, nothing left in `sending`.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from digest.email.channel import EmailChannel
from digest.runtime.metrics import Metrics
from digest.runtime.senders import Senders
from digest.settings import Settings
from storage.db import Database
from tests.digest.runtime.procs import SmtpSink, check_mail, ledger, seed_digests

OUTAGE_STATEMENTS = 40


class Outage:
    """Fail the next `OUTAGE_STATEMENTS` statements once `begin()` is called, like a database going away."""

    def __init__(self, db: Database) -> None:
        self.remaining = 0
        self.failed = 0
        sqlite = db.engine.dialect.name == "sqlite"
        self.message = "disk I/O error" if sqlite else "server closed the connection unexpectedly"
        event.listen(db.engine, "before_cursor_execute", self._before)

    def begin(self) -> None:
        if not self.failed and not self.remaining:
            self.remaining = OUTAGE_STATEMENTS

    def _before(self, *_: Any) -> None:
        if self.remaining > 0:
            self.remaining -= 1
            self.failed += 1
            raise OperationalError("(injected)", None, Exception(self.message))


class TriggeringSink(SmtpSink):
    def __init__(self, outage: Outage) -> None:
        super().__init__()
        self.outage = outage

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        reply = await super().handle_DATA(server, session, envelope)
        if self.count() >= 10:
            self.outage.begin()
        return reply


async def _until(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.05)


def _ledger_or_none(db: Database) -> dict[str, int] | None:
    try:
        return ledger(db)
    except OperationalError:
        return None


async def test_outage_mid_pass_strands_nothing_and_sends_nothing_twice(settings: Settings, db: Database) -> None:
    expected = seed_digests(db, subscribers=40, papers_each=2)
    outage = Outage(db)
    with TriggeringSink(outage) as smtp:
        configured = settings.model_copy(update={
            "smtp_host": "127.0.0.1", "smtp_port": smtp.port, "smtp_security": "none", "smtp_concurrency": 4,
            "sender_poll_seconds": 0.2, "leader_retry_seconds": 0.2, "database_outage_seconds": 0.5,
        })
        senders = Senders(configured, db, Metrics(), channels=[EmailChannel(configured, db)])
        senders.start()
        try:
            await _until(lambda: outage.failed >= OUTAGE_STATEMENTS, 60, "the outage to happen")
            ended = time.monotonic()
            await _until(lambda: _ledger_or_none(db) == {"sent": 80}, 30, "every delivery sent after the outage")
            recovered_in = time.monotonic() - ended
        finally:
            await senders.stop()
        mails = smtp.snapshot()
    duplicates, _ = check_mail(expected, mails, db)  # nothing lost
    assert duplicates == 0
    assert ledger(db) == {"sent": 80}  # nothing left in `sending`
    assert recovered_in < 10, recovered_in  # next polls, not the 300 s lease

