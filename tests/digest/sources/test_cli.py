"""`paperbell ingest` and `paperbell sources` through Typer's runner on a real database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from digest.cli import ingest_cmd
from digest.settings import Settings
from tests.conftest import data_path

HF = data_path("fixtures/hf_daily_papers/2024-10-25.json")


@pytest.fixture
def cli(settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> typer.Typer:
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("PAPERBELL_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("PAPERBELL_DATABASE_URL", settings.resolved_database_url())
    monkeypatch.setenv("PAPERBELL_SOURCES", f"file:{HF},hf:daily")
    app = typer.Typer()
    ingest_cmd.register(app)
    return app


def test_ingest_json_then_sources(cli: typer.Typer) -> None:
    runner = CliRunner()
    first = runner.invoke(cli, ["ingest", f"file:{HF}", "--json"])
    assert first.exit_code == 0, first.output
    [report] = json.loads(first.stdout)
    assert (report["status"], report["fetched"], report["new"]) == ("ok", 29, 29)
    again = runner.invoke(cli, ["ingest", f"file:{HF}", "--json"])
    assert json.loads(again.stdout)[0]["new"] == 0
    listed = runner.invoke(cli, ["sources", "--json"])
    rows = {row["source"]: row for row in json.loads(listed.stdout)}
    assert rows[f"file:{HF}"]["last_status"] == "ok" and rows[f"file:{HF}"]["configured"] is True
    assert rows["hf:daily"]["last_status"] is None


def test_ingest_table_dry_run_and_progress_lines(cli: typer.Typer) -> None:
    result = CliRunner().invoke(cli, ["ingest", f"file:{HF}", "--dry-run", "--since", "2024-10-01"])
    assert result.exit_code == 0, result.output
    assert "dry run" in result.stdout and "29" in result.stdout
    assert f"file:{HF}: 1/1" in result.stderr  # not a TTY: plain progress lines


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [(["ingest", "file:/nonexistent/x.json"], 1, "cannot read"), (["ingest", "x", "--since", "soon"], 1, "--since")],
)
def test_ingest_failures_exit_non_zero(cli: typer.Typer, args: list[str], code: int, message: str) -> None:
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == code and message in result.output


def test_sources_table_says_what_each_source_fetched_and_why_it_failed(cli: typer.Typer) -> None:
    runner = CliRunner()
    bad = "openalex:type:article"  # no API key configured: fails with the setting to set
    runner.invoke(cli, ["ingest", f"file:{HF}", bad])
    listed = runner.invoke(cli, ["sources"], env={"COLUMNS": "400"})
    assert listed.exit_code == 0, listed.output
    line = next(text for text in listed.stdout.splitlines() if "2024-10-25.json" in text)
    assert "ok" in line and "29" in line
    failed = next(text for text in listed.stdout.splitlines() if bad in text)
    assert "error" in failed and "PAPERBELL_OPENALEX_API_KEY" in failed
