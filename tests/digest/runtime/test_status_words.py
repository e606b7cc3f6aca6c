"""`paperbell status` in plain words (and `--json` with the same advice), on a real database, per situation."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from digest.cli.main import app
from digest.runtime.state import write_heartbeat, write_once_mark
from digest.runtime.status_words import ago
from storage.db import Database
from storage.models import SourceState
from storage.types import utcnow
from tests.digest.runtime.procs import REPO, service_env

NO_HEARTBEAT = "no service heartbeat: start `paperbell run`, or use `paperbell run --once` from cron"


def _source(db: Database, status: str = "ok", error: str | None = None) -> None:
    with db.session() as session:
        session.add(SourceState(source="feed:https://example.org/rss", last_run_at=utcnow(), last_status=status,
                                last_error=error, last_counts={"new": 3}))


CASES = [
    # (situation, setup, exit code, lines expected in the text)
    ("fresh install", lambda db: None, 1, ["paperbell: NEEDS ATTENTION", NO_HEARTBEAT,
                                           "service (`paperbell run`): not running (no service heartbeat yet)"]),
    ("service running", lambda db: (write_heartbeat(db), _source(db)), 0,
     ["paperbell: healthy", "what to do next: nothing, all is well"]),
    ("cron one-shot ok", lambda db: write_once_mark(db, True), 0, ["one-shot (`paperbell run --once`): last cycle"]),
    ("failed source", lambda db: (write_heartbeat(db), _source(db, "error", "HTTP 404 from https://example.org/rss")),
     0,
     ["feed:https://example.org/rss: error", "(HTTP 404 from https://example.org/rss): fix it, then "
      "`paperbell ingest feed:https://example.org/rss` retries it now"]),
]


@pytest.mark.parametrize(("situation", "setup", "code", "expected"), CASES, ids=[c[0] for c in CASES])
def test_status_says_what_runs_and_what_to_do(db: Database, database_url: str, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch, situation: str, setup, code: int,
                                              expected: list[str]) -> None:
    monkeypatch.setenv("PAPERBELL_DATABASE_URL", database_url)
    monkeypatch.setenv("PAPERBELL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PAPERBELL_SOURCES", "feed:https://example.org/rss")
    setup(db)
    result = CliRunner().invoke(app, ["status"])
    assert result.exit_code == code, result.stdout
    for line in expected:
        assert line in result.stdout, f"{situation}: {line!r} not in\n{result.stdout}"
    assert "{" not in result.stdout and "None" not in result.stdout  # plain words, no dict dumps
    body = json.loads(CliRunner().invoke(app, ["status", "--json"]).stdout)
    assert body["status"] == ("ok" if code == 0 else "unhealthy")
    assert (NO_HEARTBEAT in body["next_steps"]) == (situation == "fresh install")


def test_status_through_the_real_entry_point_right_after_install(database_url: str, tmp_path: Path) -> None:
    env = service_env(database_url, tmp_path / "data")
    done = subprocess.run([sys.executable, "-m", "digest.cli.main", "status"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert NO_HEARTBEAT in done.stdout and "no sources configured: set PAPERBELL_SOURCES" in done.stdout


@pytest.mark.parametrize(("seconds", "text"), [(None, "never"), (5, "5 s ago"), (600, "10 min ago"),
                                                (7200, "2 h ago"), (3 * 86400, "3 days ago")])
def test_ago(seconds: float | None, text: str) -> None:
    assert ago(seconds) == text
