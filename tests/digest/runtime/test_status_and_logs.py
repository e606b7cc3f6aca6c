"""`paperbell status` on a real database, the leader lock, and the one-line-per-job log format."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from typer.testing import CliRunner

from digest.cli.main import app
from digest.runtime.leader import LeaderLock
from digest.runtime.logging import JsonFormatter, log_job
from digest.runtime.state import write_heartbeat
from digest.settings import Settings
from storage.db import Database
from tests.conftest import POSTGRES_URL


@pytest.mark.parametrize("beating", [True, False])
def test_status_json_reports_scheduler_and_outbox(db: Database, settings: Settings, database_url: str,
                                                  tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  beating: bool) -> None:
    monkeypatch.setenv("PAPERBELL_DATABASE_URL", database_url)
    monkeypatch.setenv("PAPERBELL_DATA_DIR", str(tmp_path / "data"))
    if beating:
        write_heartbeat(db)
    result = CliRunner().invoke(app, ["status", "--json"])
    body = json.loads(result.stdout)
    assert result.exit_code == (0 if beating else 1)
    assert body["status"] == ("ok" if beating else "unhealthy")
    assert body["scheduler"]["alive"] is beating
    assert body["outbox"]["pending"] == {} and body["database"]["ok"] is True


def test_one_leader_at_a_time(db: Database) -> None:
    first, second = LeaderLock(db), LeaderLock(db)
    try:
        assert first.try_acquire()
        if POSTGRES_URL:
            assert not second.try_acquire()  # the advisory lock is taken
            first.release()
            assert second.try_acquire()  # free again: the next process takes over
            assert second.still_held()
        else:
            assert first.still_held()  # SQLite: the single process is the leader
    finally:
        first.release()
        second.release()


def test_job_log_line_plain_and_json(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="paperbell.jobs"):
        log_job("ingest:hf:daily", "ok", 0.4213, fetched=50, new=3)
    record = caplog.records[-1]
    assert record.getMessage() == "job=ingest:hf:daily status=ok duration=0.42s fetched=50 new=3"
    entry = json.loads(JsonFormatter().format(record))
    assert entry["job"] == "ingest:hf:daily" and entry["new"] == 3 and entry["duration"] == 0.421
    assert entry["level"] == "INFO" and entry["message"].startswith("job=ingest:hf:daily")
