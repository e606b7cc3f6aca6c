"""The preview of a query on recently stored papers (real database) and the `paperbell match` command."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from digest.cli.main import app
from digest.query import QueryError
from digest.services import preview as preview_module
from digest.services.preview import paper_to_doc, preview_query
from digest.settings import Settings
from storage.db import Database
from storage.models import Paper
from tests.conftest import data_path

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def add_paper(db: Database, number: int, title: str, age_days: float, abstract: str = "Plain abstract.") -> int:
    with db.session() as session:
        paper = Paper(
            canonical_id=f"2611.{number:05d}",
            title=title,
            abstract=abstract,
            authors=["Ada Lovelace"],
            categories=["cs.LG"],
            first_seen_at=NOW - timedelta(days=age_days),
        )
        session.add(paper)
        session.flush()
        assert paper.id is not None
        return paper.id


def test_preview_counts_recent_matches_and_shows_the_newest(db: Database, settings: Settings) -> None:
    add_paper(db, 1, "Sparse autoencoders, old", 10)
    add_paper(db, 2, "Sparse autoencoders in vision", 3)
    add_paper(db, 3, "Diffusion models", 1)
    add_paper(db, 4, "Auto-encoders made sparse", 2, abstract="We train a sparse auto-encoder.")
    add_paper(db, 5, "Sparse Autoencoders (SAEs) today", 0.5)

    preview = preview_query(db, settings, '"sparse autoencoder"', days=7, limit=2, now=NOW)
    assert preview.count == 3
    assert [p.canonical_id for p, _ in preview.examples] == ["2611.00005", "2611.00004"]
    assert preview.examples[0][1].matched_words == ["Sparse", "Autoencoders"]
    assert preview.examples[1][1].clauses[0].fields == ["abstract"]

    assert preview_query(db, settings, '"sparse autoencoder"', days=30, now=NOW).count == 4
    assert preview_query(db, settings, "cat:cs.* au:lovelace", days=30, limit=0, now=NOW).count == 5
    assert preview_query(db, settings, "transformer", now=NOW).count == 0


def test_preview_pages_through_many_papers(db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(preview_module, "BATCH", 2)
    for number in range(5):
        add_paper(db, number, f"Graph paper {number}", 1)  # same first_seen_at: ties broken by id
    preview = preview_query(db, settings, "graph", limit=10, now=NOW)
    assert preview.count == 5
    assert [p.canonical_id for p, _ in preview.examples] == [f"2611.{n:05d}" for n in (4, 3, 2, 1, 0)]


def test_invalid_query_is_refused_with_the_settings_limits(db: Database, settings: Settings) -> None:
    with pytest.raises(QueryError, match="unbalanced quote at position 1"):
        preview_query(db, settings, '"open', now=NOW)
    strict = settings.model_copy(update={"query_max_clauses": 1})
    with pytest.raises(QueryError, match="at most 1 terms"):
        preview_query(db, strict, "a b", now=NOW)


def test_paper_to_doc(db: Database) -> None:
    paper = Paper(canonical_id="2410.17243", title="T", abstract="A", authors=["X"], categories=["cs.CL"])
    doc = paper_to_doc(paper)
    assert (doc.id, doc.title, doc.abstract, list(doc.authors), list(doc.categories)) == (
        "2410.17243", "T", "A", ["X"], ["cs.CL"]
    )


@pytest.fixture
def cli(settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PAPERBELL_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("PAPERBELL_DATABASE_URL", settings.resolved_database_url())
    return CliRunner()


def test_match_command_on_the_seed_corpus(cli: CliRunner) -> None:
    seed = str(data_path("corpus/seed_papers.jsonl"))
    result = cli.invoke(app, ["match", "--papers", seed, "--query", '"sparse autoencoder" -ti:sparse', "--json"])
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)
    assert len(rows) >= 3
    for row in rows:
        assert row["id"] is None
        assert "sparse" not in row["title"].lower()
        assert [w.lower() for w in row["matched_words"][:2]] in (["sparse", "autoencoders"], ["sparse", "autoencoder"])


def test_match_command_reads_json_arrays_with_ids(cli: CliRunner, tmp_path: Path) -> None:
    papers = tmp_path / "papers.json"
    papers.write_text(json.dumps([
        {"id": "1", "title": "Tokenizer-free models", "abstract": "x", "authors": ["Ada"], "categories": ["cs.CL"]},
        {"id": "2", "title": "Vision", "abstract": "tokenization matters"},
    ]))
    result = cli.invoke(app, ["match", "--papers", str(papers), "--query", "tokeniz* cat:cs.*", "--json"])
    assert result.exit_code == 0, result.stderr
    rows = [(r["id"], r["matched_words"]) for r in json.loads(result.stdout)]
    assert rows == [("1", ["Tokenizer", "Tokenizer-free", "cs.CL"])]  # the joined compound starts with tokeniz
    text = cli.invoke(app, ["match", "--papers", str(papers), "--query", "tokeniz*"])
    assert text.exit_code == 0 and "2 matching papers" in text.stdout


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ('"sparse autoencoder', 'unbalanced quote at position 1: expected a closing "'),
        ("-diffusion", "query can only exclude at position 1"),
        ("foo:bar", "unknown field foo: at position 1"),
        ("ab*", "at least 3 characters before *"),
    ],
)
def test_match_command_refuses_invalid_queries(cli: CliRunner, query: str, message: str) -> None:
    seed = str(data_path("corpus/seed_papers.jsonl"))
    result = cli.invoke(app, ["match", "--papers", seed, "--query", query])
    assert result.exit_code != 0
    assert message in result.stderr and result.stderr.count("\n") == 1


def test_match_command_refuses_bad_files(cli: CliRunner, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"title": "no abstract"}\n')
    result = cli.invoke(app, ["match", "--papers", str(bad), "--query", "x"])
    assert result.exit_code != 0 and "record 1 has no abstract" in result.stderr


def test_match_command_previews_stored_papers(cli: CliRunner, db: Database) -> None:
    with db.session() as session:
        session.add(Paper(canonical_id="2611.00001", title="Fresh diffusion paper", abstract="."))
        session.add(Paper(canonical_id="2611.00002", title="Old diffusion paper", abstract=".",
                          first_seen_at=datetime.now(UTC) - timedelta(days=30)))
    result = cli.invoke(app, ["match", "--query", "diffusion", "--days", "7", "--json"])
    assert result.exit_code == 0, result.stderr
    assert [r["id"] for r in json.loads(result.stdout)] == ["2611.00001"]
    result = cli.invoke(app, ["match", "--query", "diffusion", "--days", "60"])
    assert result.exit_code == 0 and "2 matching papers" in result.stdout


def test_preview_carries_the_query_warnings(db: Database, settings: Settings) -> None:
    add_paper(db, 1, "Diffusion or flow matching", 1)
    preview = preview_query(db, settings, "diffusion or flow", now=NOW)
    assert preview.count == 1
    assert preview.warnings == ['"or" is searched as a word; did you mean OR? (operators are upper-case)']
    assert preview_query(db, settings, "diffusion OR flow", now=NOW).warnings == []


def test_match_command_prints_warnings_on_stderr(cli: CliRunner, db: Database) -> None:
    seed = str(data_path("corpus/seed_papers.jsonl"))
    for extra in (["--papers", seed], []):
        result = cli.invoke(app, ["match", *extra, "--query", '"tokeniz*" OR cat:cs', "--json"])
        assert result.exit_code == 0, result.stderr
        json.loads(result.stdout)  # the JSON stays clean
        assert "warning: \"tokeniz*\": * inside quotes is not a wildcard" in result.stderr
        assert "warning: cat:cs names a whole archive" in result.stderr


def test_every_preview_names_the_clause_that_found_nothing_in_30_days(db: Database, settings: Settings) -> None:
    add_paper(db, 1, "Diffusion models", 1)
    add_paper(db, 2, "Flow matching", 20)  # outside the 7-day preview, inside the 30-day report
    preview = preview_query(db, settings, "diffusion OR flow OR ti:difusion", days=7, now=NOW)
    assert preview.count == 1
    assert preview.warnings == ['"ti:difusion" matched no paper in the last 30 days']
    preview = preview_query(db, settings, "quantum", days=7, now=NOW)
    assert preview.count == 0 and preview.warnings == ['"quantum" matched no paper in the last 30 days']
