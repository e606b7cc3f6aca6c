"""`paperbell run` as real processes: end to end, /healthz + /metrics over HTTP, SIGTERM, crash safety, many workers.

The crash and multi-worker tests need PostgreSQL (several processes, SKIP LOCKED, advisory locks):
they run when PAPERBELL_DATABASE_URL names a PostgreSQL database and are skipped on SQLite.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
from sqlmodel import select

from digest.runtime.state import heartbeat
from digest.services import subscribers as service
from digest.settings import Settings
from storage.db import Database
from storage.models import Delivery, Subscriber
from tests.conftest import POSTGRES_URL, data_path
from tests.digest.runtime.procs import (
    Service,
    SmtpSink,
    check_mail,
    ledger,
    make_due_again,
    seed_digests,
    service_env,
    wait_for,
)

needs_postgres = pytest.mark.skipif(
    not (POSTGRES_URL or "").startswith("postgresql"),
    reason="several processes on one database need PostgreSQL (set PAPERBELL_DATABASE_URL=postgresql+psycopg://…)",
)


def test_end_to_end_health_metrics_and_sigterm(db: Database, settings: Settings, database_url: str,
                                               tmp_path: Path) -> None:
    """Embedded default roles: ingest a local feed, match, mail on schedule; /healthz 200, /metrics; SIGTERM → 0."""
    sub = service.add_subscriber(db, settings, "email", "ada@example.org", confirmed=True, digest_hour=0)
    service.add_subscription(db, settings, sub.id or 0, "transformer")
    seed = data_path("corpus/seed_papers.jsonl")
    with SmtpSink() as smtp:
        env = service_env(database_url, tmp_path / "data", smtp, PAPERBELL_SOURCES=f"file:{seed}",
                          PAPERBELL_OPS_TOKEN="ops-token-for-tests")
        svc = Service.start(env, tmp_path / "run.log")
        try:
            port = svc.web_port()
            # ingest job runs at start, then matching: deliveries appear, waiting for the subscriber's slot
            wait_for(lambda: ledger(db).get("pending", 0) > 0, 60, "matches in the ledger")
            make_due_again(db)  # the slot comes
            wait_for(lambda: smtp.count() >= 1, 60, "the digest mail")
            # marked: what fit under the digest size cap is sent, the rest waits for the next digest
            wait_for(lambda: ledger(db).get("sent", 0) > 0 and ledger(db).get("sending", 0) == 0, 30, "marked")
            health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10)
            assert health.status_code == 200, health.text
            assert health.json() == {"status": "ok", "database": {"ok": True}, "scheduler": {"alive": True}}
            assert httpx.get(f"http://127.0.0.1:{port}/ops/status", timeout=10).status_code == 401
            body = httpx.get(f"http://127.0.0.1:{port}/ops/status", timeout=10,
                             headers={"Authorization": "Bearer ops-token-for-tests"}).json()
            assert body["status"] == "ok" and body["database"]["ok"] and body["scheduler"]["alive"]
            assert [s["status"] for s in body["sources"]] == ["ok"]
            assert "match" in body["scheduler"]["next_runs"]
            metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
            assert f'paperbell_papers_ingested_total{{source="file:{seed}"}}' in metrics
            assert 'paperbell_deliveries_sent_total{kind="email"}' in metrics
            assert "# TYPE paperbell_summary_fallbacks_total counter" in metrics
            assert "paperbell_job_duration_seconds_bucket" in metrics
            assert "paperbell_outbox_oldest_pending_seconds" in metrics
            assert svc.terminate() == 0
        finally:
            svc.stop_quietly()
    text = svc.text()
    assert "job=ingest:file:" in text and "job=match status=ok" in text and "stopped cleanly" in text
    mail = smtp.snapshot()[0]
    assert mail.to == "ada@example.org"
    with db.session() as session:
        rows = session.exec(select(Delivery)).all()
    assert {r.status for r in rows} <= {"sent", "pending"}
    assert {r.message_id for r in rows if r.status == "sent"} == {mail.message_id}


def test_healthz_503_without_a_scheduler(db: Database, settings: Settings, database_url: str,
                                         tmp_path: Path) -> None:
    svc = Service.start(service_env(database_url, tmp_path / "data"), tmp_path / "web.log", "web")
    try:
        port = svc.web_port()
        response = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10)
        assert response.status_code == 503
        assert response.json()["scheduler"]["alive"] is False and response.json()["database"]["ok"] is True
        assert svc.terminate() == 0
    finally:
        svc.stop_quietly()


@needs_postgres
def test_three_workers_deliver_5000_matches_once_and_leadership_moves(db: Database, settings: Settings,
                                                                      database_url: str, tmp_path: Path) -> None:
    from digest.services.matching import run_match_cycle

    subscribers, papers_each = 500, 10
    expected = seed_digests(db, subscribers=subscribers, papers_each=papers_each)
    assert ledger(db) == {"pending": 5000}
    assert run_match_cycle(db, settings).matches_recorded == 0  # the cursor moves past them; nothing doubled
    started = time.monotonic()
    with SmtpSink() as smtp:
        env = service_env(database_url, tmp_path / "data", smtp)
        services = [Service.start(env, tmp_path / f"w{n}.log") for n in range(3)]
        try:
            wait_for(lambda: ledger(db) == {"sent": 5000}, 150, "5,000 deliveries sent by three workers")
            elapsed = time.monotonic() - started
            wait_for(lambda: smtp.count() >= subscribers, 30, "the last mails")
            mails = smtp.snapshot()
            duplicates, _ = check_mail(expected, mails, db)
            with db.session() as session:
                claimers = Counter(
                    (d.claimed_by or "").split("/")[0] for d in session.exec(select(Delivery)).all()
                )
            pids = {str(s.proc.pid) for s in services}
            assert len(claimers) >= 2 and all(c.split(":")[-1] in pids for c in claimers)
            # leadership: exactly one heartbeat writer; kill it, another takes over within a minute
            beat = wait_for(lambda: heartbeat(db), 30, "a scheduler heartbeat")
            leader = next(s for s in services if s.proc.pid == beat[0])
            killed_at = time.monotonic()
            leader.kill()
            others = {s.proc.pid for s in services if s is not leader}
            new = wait_for(lambda: (h := heartbeat(db)) and h[0] in others and h[0], 60, "a new leader")
            handover = time.monotonic() - killed_at
            for svc in services:
                if svc is not leader:
                    assert svc.terminate() == 0
        finally:
            for svc in services:
                svc.stop_quietly()
    print(json.dumps({"workers": 3, "matches": 5000, "digests": len(mails), "duplicates": duplicates,
                      "per_worker_rows": dict(claimers), "send_seconds": round(elapsed, 1),
                      "leader_killed": beat[0], "new_leader": new, "handover_seconds": round(handover, 1)}))
    assert duplicates == 0 and len(mails) == subscribers
    assert handover < 60


@needs_postgres
def test_sigterm_during_a_send_exits_0_with_a_consistent_ledger(db: Database, settings: Settings,
                                                                database_url: str, tmp_path: Path) -> None:
    """SIGTERM mid-send: in-flight sends get the grace period (1 s here), the rest is released; exit 0."""
    expected = seed_digests(db, subscribers=400, papers_each=2)
    concurrency = 2
    with SmtpSink() as smtp:
        env = service_env(database_url, tmp_path / "data", smtp, PAPERBELL_SMTP_CONCURRENCY=str(concurrency),
                          PAPERBELL_SHUTDOWN_TIMEOUT_SECONDS="1")
        svc = Service.start(env, tmp_path / "term.log", "worker")
        try:
            wait_for(lambda: smtp.count() >= 20, 60, "the send to be under way")
            began = time.monotonic()
            assert svc.terminate(timeout=30) == 0
            stop_seconds = time.monotonic() - began
        finally:
            svc.stop_quietly()
        mails = smtp.snapshot()
    state = ledger(db)
    assert "sending" not in state, state  # nothing left claimed by the stopped process
    assert state.get("pending", 0) > 0, "SIGTERM came too late to test anything"
    with db.session() as session:
        rows = session.exec(select(Delivery, Subscriber).join(Subscriber)).all()
    sent_to = {s.address for d, s in rows if d.status == "sent"}
    received = {m.to: m.message_id for m in mails}
    assert len(mails) == len(received)  # nothing sent twice
    assert sent_to <= set(received)  # the ledger never claims a mail that did not arrive
    # a send cut off by the grace period may have arrived although its rows went back to pending:
    # at most the sends in flight, and their rows keep the Message-ID the resend will carry
    unrecorded = set(received) - sent_to
    assert len(unrecorded) <= 2 * concurrency, unrecorded
    for delivery, subscriber in rows:
        if subscriber.address in unrecorded:
            assert delivery.message_id == received[subscriber.address]
    assert set(received) <= set(expected)
    print(json.dumps({"sigterm_stop_seconds": round(stop_seconds, 2), "mails_before_stop": len(mails),
                      "unrecorded_in_flight": len(unrecorded), "ledger": state}))
