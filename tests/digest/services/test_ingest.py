"""ingest_sources against a real database: merging, versions, re-ingestion, run records, isolation."""

from __future__ import annotations

import json
from pathlib import Path

from sqlmodel import col, select

from digest.services.ingest import ingest_sources
from digest.settings import Settings
from storage.db import Database
from storage.models import Paper, SourceRun, SourceState
from tests.conftest import data_path
from tests.digest.sources.builders import api_entry, api_feed, hf_body, hf_item
from tests.digest.sources.http_server import FixtureServer, Reply

BUNDLED = Path(__file__).resolve().parents[3] / "digest" / "data"
DEMO = [
    BUNDLED / "seed_papers.jsonl",
    BUNDLED / "fixtures" / "hf_daily_papers" / "2024-10-25.json",
    BUNDLED / "fixtures" / "arxiv_rss" / "quant-ph-2025-04-28.xml",
    BUNDLED / "fixtures" / "arxiv_api" / "query.xml",
]


def papers(db: Database) -> list[Paper]:
    with db.session() as session:
        return list(session.exec(select(Paper).order_by(col(Paper.id))))


def paper(db: Database, canonical_id: str) -> Paper:
    with db.session() as session:
        return session.exec(select(Paper).where(Paper.canonical_id == canonical_id)).one()


async def test_demo_sources_twice(settings: Settings, db: Database) -> None:
    specs = [f"file:{path}" for path in DEMO]
    first = await ingest_sources(settings, db, specs)
    assert [(r.status, r.fetched, r.new, r.skipped) for r in first] == [
        ("ok", 393, 393, 0), ("ok", 29, 29, 0), ("ok", 81, 50, 31), ("ok", 10, 10, 0)
    ]
    stored = papers(db)
    assert len(stored) == 482
    ids = [p.id for p in stored]
    assert ids == sorted(ids) and [p.canonical_id for p in stored[:393]] == [
        p.canonical_id for p in stored if p.canonical_id.startswith("hash:")
    ]
    second = await ingest_sources(settings, db, specs)
    assert [(r.new, r.updated) for r in second] == [(0, 0)] * 4
    assert [(p.id, p.first_seen_at) for p in papers(db)] == [(p.id, p.first_seen_at) for p in stored]
    seeded = next(p for p in stored if p.title.startswith("AriEL"))
    assert seeded.published_at is not None and seeded.published_at.year == 2020


async def test_same_paper_from_arxiv_and_hf_is_one_row(settings: Settings, db: Database, tmp_path: Path) -> None:
    arxiv_file = tmp_path / "api.xml"
    arxiv_file.write_bytes(api_feed(api_entry("2410.17243", 1, title="Breaking the Memory Barrier")))
    hf_file = tmp_path / "hf.json"
    hf_file.write_bytes(hf_body(hf_item("2410.17243", title="Breaking the Memory Barrier", upvotes=64, comments=3,
                                        ai_summary="Short.", ai_keywords=["batch"], githubRepo="https://github.com/x/y",
                                        projectPage="https://x.io")))
    api_report, hf_report = await ingest_sources(settings, db, [f"file:{arxiv_file}", f"file:{hf_file}"])
    assert (api_report.new, hf_report.new, hf_report.updated) == (1, 0, 1)
    [row] = papers(db)
    assert row.canonical_id == "2410.17243" and row.version == 1 and row.categories == ["cs.LG"]
    assert row.extras == {
        "hf_url": "https://huggingface.co/papers/2410.17243", "upvotes": 64, "num_comments": 3, "ai_summary": "Short.",
        "ai_keywords": ["batch"], "github_repo": "https://github.com/x/y", "project_page": "https://x.io",
    }
    assert row.sources == [f"file:{arxiv_file}", f"file:{hf_file}"]
    # HF first, arXiv second: still one row, arXiv fills version and categories
    again = await ingest_sources(settings, db, [f"file:{hf_file}", f"file:{arxiv_file}"])
    assert [(r.new, r.updated) for r in again] == [(0, 0), (0, 0)]


async def test_newer_version_updates_but_is_not_new(settings: Settings, db: Database, tmp_path: Path) -> None:
    v1 = tmp_path / "v1.xml"
    v1.write_bytes(api_feed(api_entry("2501.00001", 1, title="Old title", abstract="Old.")))
    v2 = tmp_path / "v2.xml"
    v2.write_bytes(api_feed(api_entry("2501.00001", 2, title="New   title", abstract="New.",
                                      updated="2025-02-01T00:00:00Z")))
    [first] = await ingest_sources(settings, db, [f"file:{v1}"])
    before = paper(db, "2501.00001")
    [second] = await ingest_sources(settings, db, [f"file:{v2}"])
    after = paper(db, "2501.00001")
    assert (first.new, second.new, second.updated) == (1, 0, 1)
    assert (after.id, after.first_seen_at) == (before.id, before.first_seen_at)
    assert (after.version, after.title, after.abstract) == (2, "New title", "New.")
    assert after.pdf_url == "https://arxiv.org/pdf/2501.00001v2"
    assert after.updated_at is not None and after.updated_at.month == 2
    # an older version arriving late changes nothing
    [late] = await ingest_sources(settings, db, [f"file:{v1}"])
    assert (late.new, late.updated, paper(db, "2501.00001").version) == (0, 0, 2)


async def test_replacement_announcement_updates_known_paper_only(settings: Settings, db: Database,
                                                                 tmp_path: Path) -> None:
    feed = data_path("fixtures/arxiv_rss/quant-ph-2025-04-28.xml").read_bytes()
    known = tmp_path / "known.json"
    known.write_text(json.dumps([{"id": "2112.14988v3", "title": "Deniable Encryption", "abstract": "x"}]))
    saved = tmp_path / "feed.xml"
    saved.write_bytes(feed)
    await ingest_sources(settings, db, [f"file:{known}"])
    [report] = await ingest_sources(settings, db, [f"file:{saved}"])
    assert report.new == 50 and report.updated == 1
    assert report.skipped_reasons == {"replacement_of_unknown": 30}
    row = paper(db, "2112.14988")
    assert row.version == 4 and row.title == "Deniable Encryption in a Quantum World"
    assert row.extras["announce_type"] == "replace"


async def test_dry_run_stores_nothing(settings: Settings, db: Database) -> None:
    [report] = await ingest_sources(settings, db, [f"file:{DEMO[1]}"], dry_run=True)
    assert (report.status, report.new) == ("ok", 29)
    assert papers(db) == []
    with db.session() as session:
        assert session.exec(select(SourceRun)).all() == []


async def test_runs_and_state_are_recorded_and_failures_isolated(settings: Settings, db: Database,
                                                                 tmp_path: Path) -> None:
    bad = tmp_path / "bad.xml"
    bad.write_bytes(b"<rss><channel><item>")
    reports = await ingest_sources(settings, db, [f"file:{bad}", "nope:x", f"file:{DEMO[1]}"])
    assert [r.status for r in reports] == ["error", "error", "ok"]
    assert "malformed XML" in (reports[0].error or "") and "unknown source" in (reports[1].error or "")
    with db.session() as session:
        runs = {r.source: r for r in session.exec(select(SourceRun))}
        states = {s.source: s for s in session.exec(select(SourceState))}
    assert runs[f"file:{bad}"].status == "error" and runs[f"file:{DEMO[1]}"].new == 29
    assert states[f"file:{DEMO[1]}"].last_status == "ok"
    assert states[f"file:{DEMO[1]}"].last_counts["new"] == 29
    assert states[f"file:{DEMO[1]}"].watermark == "2024-10-25T21:19:46.101000+00:00"
    assert "nope:x" not in runs  # a spec that cannot be understood never started a run


async def test_arxiv_and_hf_over_http_merge(settings: Settings, db: Database) -> None:
    with FixtureServer() as server:
        atom = api_feed(api_entry("2501.00007", 2))
        server.route("/api/query", Reply(body=atom, content_type="application/atom+xml"))
        server.route("/hf/daily_papers", Reply(body=hf_body(hf_item("2501.00007", upvotes=9)),
                                               content_type="application/json"))
        live = settings.model_copy(update={"arxiv_api_url": server.url("/api/query"), "hf_api_url": server.url("/hf")})
        reports = await ingest_sources(live, db, ["arxiv-api:all:x", "hf:daily"])
    assert [(r.new, r.updated) for r in reports] == [(1, 0), (0, 1)]
    [row] = papers(db)
    assert (row.version, row.extras["upvotes"], row.sources) == (2, 9, ["arxiv-api:all:x", "hf:daily"])


async def test_records_with_bad_numbers_are_skipped_and_the_rest_stored(
    settings: Settings, db: Database, tmp_path: Path
) -> None:
    # json.loads turns 1e999 into inf and accepts NaN/Infinity: exactly what a hostile file sends.
    body = (
        '[{"id": "2501.00001", "title": "Good one", "abstract": "a", "upvotes": 12},'
        ' {"id": "2501.00002", "title": "Huge", "abstract": "a", "upvotes": 1e999},'
        ' {"id": "2501.00003", "title": "Not a number", "abstract": "a", "upvotes": NaN},'
        ' {"id": "2501.00004", "title": "Minus infinity", "abstract": "a", "n_authors": -Infinity},'
        ' {"id": "2501.00005", "title": "Too big", "abstract": "a", "page": 123456789012345678901234567890},'
        ' {"id": "2501.00006", "title": "Good two", "abstract": "a", "upvotes": 3.5}]'
    )
    path = tmp_path / "poison.json"
    path.write_text(body)
    [report] = await ingest_sources(settings, db, [f"file:{path}"])
    assert report.status == "ok" and report.new == 2
    assert report.skipped_reasons == {"invalid_number": 4} and report.skipped == 4
    assert [p.canonical_id for p in papers(db)] == ["2501.00001", "2501.00006"]


async def test_records_the_database_cannot_store_are_skipped_and_the_rest_stored(
    settings: Settings, db: Database, tmp_path: Path
) -> None:
    """NUL characters and lone surrogates (PostgreSQL stores neither) and a too-long value: those records
    are skipped and counted, the clean ones of the same file stored, on both databases alike."""
    body = (
        '[{"id": "2501.00011", "title": "Clean one", "abstract": "a"},'
        ' {"id": "2501.00012", "title": "NUL in the\\u0000 title", "abstract": "a"},'
        ' {"id": "2501.00013", "title": "NUL abstract", "abstract": "a\\u0000b"},'
        ' {"id": "2501.00014", "title": "NUL author", "abstract": "a", "authors": ["Ada\\u0000 L"]},'
        ' {"id": "2501.00015", "title": "NUL extra", "abstract": "a", "ai_summary": "x\\u0000"},'
        ' {"id": "2501.00016", "title": "Lone surrogate \\ud800", "abstract": "a"},'
        ' {"id": "2501.00017", "title": "Huge version", "abstract": "a", "version": 99999999999},'
        ' {"id": "2501.00018", "title": "Clean two", "abstract": "a"}]'
    )
    path = tmp_path / "poison.json"
    path.write_text(body)
    for _ in range(2):  # a retry of the same file stores nothing new and fails nothing
        [report] = await ingest_sources(settings, db, [f"file:{path}"])
        assert report.status == "ok", report.error
        assert report.skipped_reasons == {"unstorable_text": 5, "invalid_number": 1} and report.skipped == 6
    assert [p.canonical_id for p in papers(db)] == ["2501.00011", "2501.00018"]


async def test_a_value_only_postgresql_refuses_costs_that_record_alone(
    settings: Settings, db: Database, tmp_path: Path
) -> None:
    """A category longer than its column: PostgreSQL refuses it (SQLite does not check lengths); the batch
    is retried without it and it is counted as `refused_by_database`."""
    rows = [{"id": "2501.00021", "title": "Clean", "abstract": "a"},
            {"id": "2501.00022", "title": "Long category", "abstract": "a", "primary_category": "x" * 100},
            {"id": "2501.00023", "title": "Clean too", "abstract": "a"}]
    path = tmp_path / "long.json"
    path.write_text(json.dumps(rows))
    [report] = await ingest_sources(settings, db, [f"file:{path}"])
    assert report.status == "ok", report.error
    stored = [p.canonical_id for p in papers(db)]
    if db.is_postgres:
        assert report.skipped_reasons == {"refused_by_database": 1} and report.new == 2
        assert stored == ["2501.00021", "2501.00023"]
    else:
        assert report.new == 3 and len(stored) == 3
