"""`paperbell summarize` through a real Typer app: from a file (the seed corpus) and from the database."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from digest.cli import summarize_cmd
from digest.settings import Settings
from digest.summaries.extractive import extractive_summary
from storage.db import Database
from storage.models import Paper
from storage.types import utcnow
from tests.conftest import data_path


@pytest.fixture
def app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def root() -> None:  # a group, so the command is invoked by name as in the real CLI
        pass

    summarize_cmd.register(app)
    return app


@pytest.fixture
def cli(settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    monkeypatch.chdir(tmp_path)  # no stray .env is read
    monkeypatch.setenv("PAPERBELL_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("PAPERBELL_DATABASE_URL", settings.resolved_database_url())
    monkeypatch.delenv("PAPERBELL_SUMMARIZER", raising=False)
    return CliRunner()


def test_seed_corpus_as_json(cli: CliRunner, app: typer.Typer) -> None:
    seed = data_path("corpus/seed_papers.jsonl")
    records = [json.loads(line) for line in seed.read_text().splitlines() if line.strip()]
    result = cli.invoke(app, ["summarize", "--papers", str(seed), "--json"])
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [set(row) for row in rows] == [{"id", "title", "summary"}] * len(records)
    assert [row["id"] for row in rows] == list(range(1, len(records) + 1))
    assert rows[0]["summary"] == extractive_summary(records[0]["abstract"])
    assert all(0 < len(row["summary"]) <= 300 for row in rows)


def test_json_array_file_plain_output(cli: CliRunner, app: typer.Typer, tmp_path: Path) -> None:
    path = tmp_path / "papers.json"
    path.write_text(json.dumps([
        {"id": 42, "title": "A", "abstract": "Background here. We propose a method that works."},
        {"title": "B", "abstract": "x", "ai_summary": "From the source."},
    ]))
    result = cli.invoke(app, ["summarize", "--papers", str(path)])
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "[42] A\n    We propose a method that works.\n\n[2] B\n    From the source.\n\n"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "neither a JSON array nor JSON lines"),
        ('[{"abstract": "no title"}]', "record 1 has no title"),
        (None, "cannot read"),
    ],
)
def test_bad_files_fail_in_one_line(
    cli: CliRunner, app: typer.Typer, tmp_path: Path, content: str | None, message: str
) -> None:
    path = tmp_path / "in.jsonl"
    if content is not None:
        path.write_text(content)
    result = cli.invoke(app, ["summarize", "--papers", str(path)])
    assert result.exit_code == 1
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_stored_recent_papers(cli: CliRunner, app: typer.Typer, db: Database) -> None:
    with db.session() as session:
        session.add(Paper(canonical_id="new", title="New", abstract="We introduce Foo. It is great."))
        session.add(Paper(canonical_id="old", title="Old", abstract="Old news.",
                          first_seen_at=utcnow() - timedelta(days=30)))
        session.add(Paper(canonical_id="hf", title="Hf", abstract="Long text.", extras={"ai_summary": "HF says hi."}))
    result = cli.invoke(app, ["summarize", "--json", "--days", "7"])
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [(r["title"], r["summary"]) for r in rows] == [("New", "We introduce Foo."), ("Hf", "HF says hi.")]
    assert all(isinstance(r["id"], int) for r in rows)
