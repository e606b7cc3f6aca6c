"""`paperbell status` as an operator runs it, on a test's database (shared by the chat channels' tests)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from digest.cli.main import app
from digest.settings import Settings


def status_lines(settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, **env: str) -> str:
    """What `paperbell status` prints for this database, with `env` as extra PAPERBELL_* variables."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PAPERBELL_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("PAPERBELL_DATABASE_URL", settings.resolved_database_url())
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return CliRunner().invoke(app, ["status"]).output
