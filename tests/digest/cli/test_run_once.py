"""`paperbell run --once` through the real entry point: one cycle (ingest, match, deliver what is due), then exit."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from digest.services import subscribers as service
from digest.settings import Settings
from storage.db import Database
from tests.conftest import data_path
from tests.digest.runtime.procs import REPO, SmtpSink, ledger, make_due_again, service_env


def _once(env: dict[str, str], *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "digest.cli.main", "run", "--once", *extra], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)


def test_once_ingests_matches_and_mails_then_exits_zero(db: Database, settings: Settings, database_url: str,
                                                        tmp_path: Path) -> None:
    sub = service.add_subscriber(db, settings, "email", "ada@example.org", confirmed=True, digest_hour=0)
    service.add_subscription(db, settings, sub.id or 0, "transformer")
    seed = data_path("corpus/seed_papers.jsonl")
    with SmtpSink() as smtp:
        env = service_env(database_url, tmp_path / "data", smtp, PAPERBELL_SOURCES=f"file:{seed}")
        done = _once(env, "--json")
        assert done.returncode == 0, done.stderr[-2000:]
        report = json.loads(done.stdout)
        assert report["ok"] and report["failures"] == []
        assert report["sources"][0]["status"] == "ok" and report["sources"][0]["new"] > 0
        assert report["match"]["new_deliveries"] > 0
        # the subscriber signed up just now: the first digest waits for their slot (not due yet), nothing is lost
        assert sum(report["email"].values()) == 1
        make_due_again(db)  # the slot comes: the next cycle mails the digest
        again = _once(env)  # nothing new to fetch, the due digest goes out, still ok
        assert again.returncode == 0 and "cycle ok" in again.stdout, again.stdout
        assert "(0 new" in again.stdout and "1 sent" in again.stdout
        assert smtp.count() == 1 and smtp.snapshot()[0].to == "ada@example.org"
    rows = ledger(db)  # one digest, under the size cap: what did not fit waits for the next one (nothing lost)
    assert set(rows) <= {"sent", "pending"} and rows["sent"] > 0
    assert sum(rows.values()) == report["match"]["new_deliveries"]


def test_once_exits_nonzero_with_the_reason_when_a_stage_fails(database_url: str, tmp_path: Path) -> None:
    seed = data_path("corpus/seed_papers.jsonl")
    env = service_env(database_url, tmp_path / "data", PAPERBELL_SOURCES=f"file:{seed},file:{tmp_path}/missing.jsonl")
    done = _once(env)
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert any(line.startswith(f"source file:{seed}: ok") for line in lines), done.stdout
    failed = [line for line in lines if line.startswith("FAILED source file:")]
    assert len(failed) == 1 and "missing.jsonl" in failed[0], done.stdout
    assert "Traceback" not in done.stderr
