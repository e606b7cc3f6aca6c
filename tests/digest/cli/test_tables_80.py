"""Every table the CLI prints fits 80 columns without cutting a value; a typo'd `file:` source is one line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from digest.cli.main import app
from digest.services import subscribers as service
from digest.services import suppression
from digest.settings import Settings
from storage.db import Database
from tests.digest.runtime.procs import REPO, service_env

LONG_ADDRESS = "a.very.long.mailbox.name.for.testing.tables@subdomain.of.a-long-example-domain.org"
LONG_QUERY = '"sparse autoencoder" AND (interpretability OR "mechanistic interpretability") AND NOT survey'


@pytest.fixture
def seeded(settings: Settings, db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PAPERBELL_DATABASE_URL", settings.resolved_database_url())
    monkeypatch.setenv("PAPERBELL_DATA_DIR", str(settings.data_dir))
    feed = tmp_path / "a-rather-long-directory-name" / "with-another-level" / "papers-of-the-week.jsonl"
    feed.parent.mkdir(parents=True)
    feed.write_text('{"title": "Sparse autoencoders at scale", "abstract": "We scale SAEs.", "id": "2501.00001"}\n')
    monkeypatch.setenv("PAPERBELL_SOURCES", f"file:{feed}")
    service.add_subscriber(db, settings, "email", LONG_ADDRESS, confirmed=True)
    service.add_subscription(db, settings, LONG_ADDRESS, LONG_QUERY)
    suppression.suppress(db, LONG_ADDRESS.replace("a.very", "another.very"),
                         suppression.SuppressionReason.HARD_BOUNCE, source="test",
                         detail="550 5.1.1 the mailbox does not exist on this server, no such user here")
    return feed


COMMANDS = [["subscribers", "list"], ["subscriptions", "list"], ["config", "show"], ["ingest"], ["sources"],
            ["suppression", "list"], ["digest", "send", "--dry-run"]]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_tables_fit_80_columns_and_cut_nothing(seeded: Path, command: list[str]) -> None:
    result = CliRunner().invoke(app, command, env={"COLUMNS": "80"})
    assert result.exit_code in (0, 1), result.output
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80, result.stdout
    assert "…" not in result.stdout, result.stdout  # never cut
    whole = "".join(line.strip() for line in lines)  # a wrapped value, joined again
    expected = {"subscribers": LONG_ADDRESS, "ingest": f"file:{seeded}", "sources": f"file:{seeded}",
                "digest": LONG_ADDRESS}.get(command[0])
    if expected:
        assert expected in whole, result.stdout
    assert LONG_QUERY.replace(" ", "") in whole.replace(" ", "") or command[0] != "subscriptions"


def test_a_typod_file_source_is_one_line(tmp_path: Path) -> None:
    env = service_env(f"sqlite:///{tmp_path}/pb.db", tmp_path / "data")
    done = subprocess.run([sys.executable, "-m", "digest.cli.main", "ingest", "file:/no/such/papers.jsonl"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "Traceback" not in done.stderr and done.stdout == ""
    assert done.stderr == ("error: file:/no/such/papers.jsonl: cannot read /no/such/papers.jsonl: no such file; "
                           "check the path (PAPERBELL_SOURCES or the command line)\n")
    listed = subprocess.run([sys.executable, "-m", "digest.cli.main", "sources", "--json"], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=60)
    assert "/no/such" not in listed.stdout  # not remembered, so not listed forever
