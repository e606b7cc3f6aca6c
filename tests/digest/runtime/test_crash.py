"""Crash safety of e-mail delivery: SIGKILL the sender ten times or more during a send of 400 digests.

Two senders are killed and restarted: the service's worker role (`paperbell run --role worker`) and
the one-shot `paperbell digest send` (with and without `--now`). After the last restart each test
asserts the README's promise: nothing lost, every subscriber served in the same period (none pushed
to its next slot: "late"), at most `smtp_concurrency` duplicates per kill, each duplicate carrying the
first copy's Message-ID, nothing left in `sending`. Each prints one JSON line with its figures.

Several processes on one database: PostgreSQL only (a killed process's claims are recognised by
its lost advisory lock); skipped on SQLite.
"""

from __future__ import annotations

import json
import random
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlmodel import select

from storage.db import Database
from storage.models import Delivery, Subscriber
from tests.conftest import POSTGRES_URL
from tests.digest.runtime.procs import Service, SmtpSink, check_mail, ledger, seed_digests, service_env, wait_for

pytestmark = pytest.mark.skipif(
    not (POSTGRES_URL or "").startswith("postgresql"),
    reason="several processes on one database need PostgreSQL (set PAPERBELL_DATABASE_URL=postgresql+psycopg://…)",
)

SUBSCRIBERS = 400
PAPERS_EACH = 2
CONCURRENCY = 4
KILLS = 10


@dataclass
class KillRun:
    kills: int = 0
    seconds: float = 0.0


def kill_repeatedly(db: Database, smtp: SmtpSink, start: Callable[[int], Service], kills_wanted: int,
                    rng: random.Random) -> KillRun:
    """Start a sender, let a few more mails through, SIGKILL it mid-send; `kills_wanted` times."""
    run = KillRun()
    began = time.monotonic()
    while run.kills < kills_wanted:
        target = smtp.count() + rng.randint(4, 20)
        sender = start(run.kills)
        try:
            proc = sender.proc

            def flowing(t: int = target, p: subprocess.Popen[bytes] = proc) -> bool:
                return smtp.count() >= t or ledger(db).get("pending", 0) == 0 or p.poll() is not None

            wait_for(flowing, 90, "mail to flow")
            if proc.poll() is not None or ledger(db).get("pending", 0) == 0:
                break  # the send finished before this kill: nothing left to interrupt
            sender.kill()
            run.kills += 1
        finally:
            sender.stop_quietly()
    run.seconds = time.monotonic() - began
    return run


def served_late(db: Database, started: float) -> int:
    """Subscribers not fully served in this period: rows not sent, or no digest recorded since the start."""
    with db.session() as session:
        rows = session.exec(select(Delivery, Subscriber).join(Subscriber)).all()
    late = set()
    for delivery, subscriber in rows:
        recorded = subscriber.last_digest_at is not None and subscriber.last_digest_at.timestamp() >= started - 1
        if delivery.status != "sent" or not recorded:
            late.add(subscriber.id)
    return len(late)


def report(name: str, run: KillRun, expected: dict[str, list[str]], db: Database, smtp: SmtpSink,
           started: float) -> None:
    """Print the figures first (they matter most when an assertion fails), then assert the promise."""
    mails = smtp.snapshot()
    received = {m.to for m in mails}
    figures = {
        "test": name, "kills": run.kills, "digests": len(expected), "messages": len(mails),
        "lost": len(set(expected) - received), "duplicates": len(mails) - len(received),
        "late": served_late(db, started), "smtp_concurrency": CONCURRENCY, "ledger": ledger(db),
        "seconds": round(time.time() - started, 1),
    }
    print(json.dumps(figures))
    assert run.kills >= KILLS, figures
    duplicates, _ = check_mail(expected, mails, db)  # nothing lost; duplicates carry the first Message-ID
    assert duplicates <= run.kills * CONCURRENCY, figures
    assert figures["late"] == 0, figures
    assert set(figures["ledger"]) == {"sent"}, figures


def test_service_sigkilled_ten_times_during_400_digests(db: Database, database_url: str, tmp_path: Path) -> None:
    expected = seed_digests(db, subscribers=SUBSCRIBERS, papers_each=PAPERS_EACH)
    started = time.time()
    with SmtpSink() as smtp:
        env = service_env(database_url, tmp_path / "data", smtp, PAPERBELL_SMTP_CONCURRENCY=str(CONCURRENCY))
        run = kill_repeatedly(db, smtp, lambda k: Service.start(env, tmp_path / f"run{k}.log", "worker"), KILLS,
                              random.Random(11))
        final = Service.start(env, tmp_path / "final.log", "worker")
        try:
            everything = SUBSCRIBERS * PAPERS_EACH
            wait_for(lambda: ledger(db) == {"sent": everything}, 90, "every delivery sent after the restarts")
            assert final.terminate() == 0
        finally:
            final.stop_quietly()
        report("service worker", run, expected, db, smtp, started)


@pytest.mark.parametrize("now_flag", [["--now"], []], ids=["send-now", "send-due"])
def test_digest_send_sigkilled_and_rerun(db: Database, database_url: str, tmp_path: Path,
                                         now_flag: list[str]) -> None:
    """`paperbell digest send [--now]` killed mid-send ten times, then rerun to completion: exit 0."""
    expected = seed_digests(db, subscribers=SUBSCRIBERS, papers_each=PAPERS_EACH)
    started = time.time()
    with SmtpSink() as smtp:
        env = service_env(database_url, tmp_path / "data", smtp, PAPERBELL_SMTP_CONCURRENCY=str(CONCURRENCY))

        def send(k: int | str) -> Service:
            return Service.command(env, tmp_path / f"send{k}.log", "digest", "send", *now_flag, "--json")

        run = kill_repeatedly(db, smtp, send, KILLS, random.Random(12))
        rerun = send("final")
        try:
            code = rerun.proc.wait(timeout=120)
        finally:
            rerun.stop_quietly()
        assert code == 0, rerun.text()[-3000:]
        report("digest send " + " ".join(now_flag), run, expected, db, smtp, started)
