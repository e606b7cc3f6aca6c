"""`paperbell subscriptions add … --like / --library` on the seed corpus: three seed papers find their topic
in the preview, the subscription is saved with the seeds as 👍, and bad libraries are refused in one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlmodel import col, select
from typer.testing import CliRunner

from digest.cli.main import app
from digest.query import PaperDoc, match_query, parse_query
from digest.services import feedback
from digest.services import subscribers as subscriber_service
from digest.services.ingest import ingest_sources
from digest.settings import Settings
from storage.db import Database
from storage.models import Paper, Subscription
from tests.conftest import data_path

TOPIC = '"sparse autoencoder"'


@pytest.fixture
async def seeded(settings: Settings, db: Database) -> list[Paper]:
    """The seed corpus stored; six sparse-autoencoder papers, the first three given arXiv ids 2501.00001-3
    (the others keep the title hash id-less records are stored under)."""
    await ingest_sources(settings, db, [f"file:{data_path('corpus/seed_papers.jsonl')}"])
    subscriber_service.add_subscriber(db, settings, "email", "ada@example.org", confirmed=True)
    query = parse_query(TOPIC)
    with db.session() as session:
        papers = list(session.exec(select(Paper).order_by(col(Paper.id))).all())
        topic = [p for p in papers if match_query(query, PaperDoc(None, p.title, p.abstract))][:6]
        for number, paper in enumerate(topic[:3], start=1):
            paper.canonical_id = f"2501.{number:05d}"
            session.add(paper)
        session.flush()
        for paper in topic:
            session.refresh(paper)
            session.expunge(paper)
    return topic


def run(settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, *args: str) -> tuple[int, str, str]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PAPERBELL_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("PAPERBELL_DATABASE_URL", settings.resolved_database_url())
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def in_topic(db: Database, canonical_ids: list[str]) -> int:
    query = parse_query(TOPIC)
    with db.session() as session:
        papers = session.exec(select(Paper).where(col(Paper.canonical_id).in_(canonical_ids))).all()
    return sum(1 for p in papers if match_query(query, PaperDoc(None, p.title, p.abstract)))


def test_three_seed_papers_find_their_topic_then_subscribe(
    settings: Settings, db: Database, seeded: list[Paper], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    code, out, err = run(settings, monkeypatch, tmp_path, "subscriptions", "add", "ada@example.org",
                         "--like", "2501.00001,arXiv:2501.00002v3", "--like", "2501.00003", "--preview", "--json")
    assert code == 0, err
    shown = json.loads(out)
    assert shown["seeds"] == 3 and shown["missing"] == [] and "subscription_id" not in shown
    examples = [e["id"] for e in shown["examples"]]
    assert len(examples) == 10 and in_topic(db, examples) >= 7  # ~5% of the corpus is on this topic
    with db.session() as session:
        assert session.exec(select(Subscription)).all() == []  # --preview saves nothing

    code, out, err = run(settings, monkeypatch, tmp_path, "subscriptions", "add", "ada@example.org",
                         "--like", "2501.00001 2501.00002 2501.00003 2999.99999 not-an-id")
    assert code == 0, err
    assert "2999.99999: not stored here" in err and "not an arXiv id or DOI" in err
    assert "added subscription #" in out and "sparse" in out
    owner = subscriber_service.get_subscriber(db, "ada@example.org").id or 0
    assert feedback.votes_for(db, owner) == {p.id: 1 for p in seeded[:3]}


def test_bibtex_and_zotero_libraries(
    settings: Settings, db: Database, seeded: list[Paper], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    bib = tmp_path / "library.bib"
    bib.write_text("\n".join(
        f"@misc{{k{n}, title={{{paper.title}}}}}" for n, paper in enumerate(seeded[3:])  # id-less: by title
    ) + "\n@article{broken, title=", encoding="utf-8")
    code, out, err = run(settings, monkeypatch, tmp_path, "subscriptions", "add", "ada@example.org", "--library",
                         str(bib), "--preview", "--json")
    assert code == 0, err
    assert json.loads(out)["seeds"] == 3
    zotero = tmp_path / "zotero.csv"
    zotero.write_text('"Key","Item Type","Title","Url","DOI","Extra"\n' + "".join(
        f'"Z{n}","preprint","x","","","arXiv: {paper.canonical_id}"\n' for n, paper in enumerate(seeded[:3])
    ), encoding="utf-8")
    code, out, err = run(settings, monkeypatch, tmp_path, "subscriptions", "add", "ada@example.org", "--library",
                         str(zotero), "--json")
    assert code == 0, err
    assert json.loads(out)["seed_votes"] == 3


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [("lib.txt", b"hello", "BibTeX (.bib) or Zotero CSV"), ("lib.bib", b"\xff\xfe\x00bad", "not UTF-8"),
     ("lib.csv", b"a,b\n1,2\n", "no 'Title' column"), ("lib.bib", b"no entries here", "no BibTeX entries")],
)
def test_bad_libraries_are_refused_in_one_line(
    settings: Settings, db: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str, content: bytes,
    reason: str,
) -> None:
    subscriber_service.add_subscriber(db, settings, "email", "ada@example.org")
    path = tmp_path / name
    path.write_bytes(content)
    code, _, err = run(settings, monkeypatch, tmp_path, "subscriptions", "add", "ada@example.org", "--library",
                       str(path))
    assert code == 1 and reason in err and len(err.strip().splitlines()) == 1
    code, _, err = run(settings, monkeypatch, tmp_path, "subscriptions", "add", "ada@example.org")
    assert code == 1 and "give a query" in err


def test_subscription_limits_from_the_cli(
    settings: Settings, db: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    subscription = subscriber_service.add_subscription(
        db, settings, subscriber_service.add_subscriber(db, settings, "email", "ada@example.org").id or 0, "llm"
    )
    sid = str(subscription.id)
    code, out, _ = run(settings, monkeypatch, tmp_path, "subscriptions", "limit", sid, "--max-items", "5",
                       "--min-score", "0.6")
    assert code == 0 and "at most 5 papers, score at least 0.6" in out
    code, _, err = run(settings, monkeypatch, tmp_path, "subscriptions", "limit", sid, "--min-score", "7")
    assert code == 1 and "between 0 and 1" in err
    code, _, err = run(settings, monkeypatch, tmp_path, "subscriptions", "limit", "999")
    assert code == 1 and "no subscription #999" in err
    code, out, _ = run(settings, monkeypatch, tmp_path, "subscriptions", "limit", sid)
    assert code == 0 and "no limits" in out


def test_the_cli_default_threshold_is_the_engines() -> None:
    """The CLI keeps its own copy so `--help` need not import scikit-learn; the two must agree."""
    from digest.cli.like_cmd import DEFAULT_THRESHOLD as cli_default
    from digest.feedback.similar import DEFAULT_THRESHOLD as engine_default

    assert cli_default == engine_default
