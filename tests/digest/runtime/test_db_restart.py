"""Delivery through a PostgreSQL restart: workers keep their liveness, nothing is lost, nothing sent twice.

A private cluster (tests.digest.runtime.pg_cluster) is restarted with `pg_ctl restart -m fast` while 1 or
3 `paperbell run --role worker` processes send digests to a real SMTP sink. A restart drops every
connection and so every advisory lock: each worker must take its presence lock again, no worker may
take back another's live claims, and a worker's own claims stranded by the failed pass must be back
to pending at its next poll (not after the 300 s lease). Each case prints one JSON line of figures.
It starts its own cluster, so it runs in both the SQLite and the PostgreSQL suite runs.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from digest.services.outbox import DEFAULT_LEASE_SECONDS as LEASE_SECONDS
from storage.db import Database
from storage.migrate import upgrade
from tests.digest.runtime.pg_cluster import PrivateCluster
from tests.digest.runtime.procs import Service, SmtpSink, check_mail, ledger, seed_digests, service_env, wait_for

SUBSCRIBERS = 150
PAPERS_EACH = 2
CONCURRENCY = 4


class SlowSmtpSink(SmtpSink):
    """A mail server taking ~10 ms per message, so the restart lands in the middle of the sends."""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.sleep(0.01)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def cluster() -> Iterator[PrivateCluster]:
    private = PrivateCluster()
    private.start()
    try:
        yield private
    finally:
        private.stop()


def _ledger_or_none(db: Database) -> dict[str, int] | None:
    try:
        return ledger(db)
    except Exception:  # the test's own connection is dropped by the restart too
        return None


@pytest.mark.parametrize("workers", [1, 3])
def test_postgres_restart_during_sends_loses_nothing_and_sends_nothing_twice(
    cluster: PrivateCluster, tmp_path: Path, workers: int
) -> None:
    url = cluster.create_database()
    upgrade(url)
    db = Database(url)
    expected = seed_digests(db, subscribers=SUBSCRIBERS, papers_each=PAPERS_EACH)
    everything = SUBSCRIBERS * PAPERS_EACH
    with SlowSmtpSink() as smtp:
        env = service_env(url, tmp_path / "data", smtp, PAPERBELL_SMTP_CONCURRENCY=str(CONCURRENCY),
                          PAPERBELL_PRESENCE_GRACE_SECONDS="3")
        services = [Service.start(env, tmp_path / f"worker{n}.log", "worker") for n in range(workers)]
        try:
            wait_for(lambda: smtp.count() >= 20, 120, "mail to flow")
            at_restart = smtp.count()
            cluster.restart()
            restarted = time.monotonic()
            wait_for(lambda: _ledger_or_none(db) == {"sent": everything}, LEASE_SECONDS - 60,
                     "every delivery sent after the restart, well before a claim lease could lapse")
            drained = time.monotonic() - restarted
            codes = [service.terminate() for service in services]
        finally:
            for service in services:
                service.stop_quietly()
        mails = smtp.snapshot()
    received = {m.to for m in mails}
    figures = {
        "test": f"postgres restart, {workers} worker(s)", "digests": len(expected), "messages": len(mails),
        "sent_before_restart": at_restart, "lost": len(set(expected) - received),
        "duplicates": len(mails) - len(received), "seconds_restart_to_all_sent": round(drained, 1),
        "ledger": _ledger_or_none(db),
    }
    print(json.dumps(figures))
    db.dispose()
    logs = "".join(service.text() for service in services)
    assert codes == [0] * workers, logs[-3000:]
    duplicates, _ = check_mail(expected, mails, db=Database(url))  # nothing lost
    assert duplicates == 0, figures
    assert figures["ledger"] == {"sent": everything}, figures  # nothing left in `sending`
    assert drained < LEASE_SECONDS - 60, figures  # no claim waited for its lease (7-13 s on an idle machine)
    assert "Traceback" not in logs, logs[-3000:]
