"""One paper, one row across sources: preprint <-> journal DOI, PubMed/OpenAlex/Semantic Scholar of the same paper."""

from __future__ import annotations

import json
from pathlib import Path

from sqlmodel import col, select

from digest.runtime import jobs
from digest.runtime.metrics import Metrics
from digest.services.ingest import ingest_sources
from digest.settings import Settings
from storage.db import Database
from storage.models import Paper, SourceState
from tests.digest.sources.builders import api_entry, api_feed
from tests.digest.sources.http_server import FixtureServer, Reply

FIXTURES = Path(__file__).resolve().parents[1] / "sources" / "fixtures"


def rows(db: Database) -> list[Paper]:
    with db.session() as session:
        return list(session.exec(select(Paper).order_by(col(Paper.id))))


def crossref_work(doi: str, title: str, **extra: object) -> dict:
    return {"DOI": doi, "title": [title], "type": "journal-article", "author": [{"given": "Ada", "family": "L"}],
            "issued": {"date-parts": [[2020, 8]]}, **extra}


def crossref_file(tmp_path: Path, name: str, *works: dict) -> str:
    path = tmp_path / name
    path.write_text(json.dumps({"status": "ok", "message-type": "work-list", "message": {"items": list(works)}}))
    return f"file:{path}"


async def test_preprint_and_its_journal_article_are_one_row_in_either_order(
    settings: Settings, db: Database, tmp_path: Path
) -> None:
    preprint = f"file:{FIXTURES / 'biorxiv' / 'details_biorxiv_doi_10.1101_2020.06.11.145425.json'}"
    # the journal DOI in upper case behind a resolver URL: still the same DOI
    journal = crossref_file(tmp_path, "journal.json",
                            crossref_work("https://doi.org/10.1016/J.PATTER.2020.100123", "Journal version"))
    first = await ingest_sources(settings, db, [preprint, journal])
    assert [(r.new, r.updated) for r in first] == [(1, 0), (0, 1)]
    [row] = rows(db)
    assert row.canonical_id == "doi:10.1101/2020.06.11.145425" and row.sources == [preprint, journal]
    await ingest_sources(settings, db, [preprint, journal])  # again: nothing new
    assert len(rows(db)) == 1


async def test_journal_first_then_preprint_and_pubmed_join_the_same_row(
    settings: Settings, db: Database, tmp_path: Path
) -> None:
    medrxiv = f"file:{FIXTURES / 'medrxiv' / 'details_medrxiv_doi_10.1101_2021.12.11.21267504.json'}"
    journal = crossref_file(tmp_path, "jbi.json", crossref_work("10.1016/j.jbi.2022.104265", "In the journal"))
    reports = await ingest_sources(settings, db, [journal, medrxiv])
    assert [r.new for r in reports] == [1, 0]
    [row] = rows(db)
    assert row.canonical_id == "doi:10.1016/j.jbi.2022.104265" and len(row.sources) == 2


async def test_pubmed_openalex_and_semantic_scholar_of_one_paper_are_one_row(settings: Settings, db: Database) -> None:
    specs = [f"file:{FIXTURES / relative}" for relative in (
        "pubmed/efetch_ml_nlp_subset.xml", "openalex/works_search_ml_nlp_subset.json",
        "semantic_scholar/paper_search_relevance_subset.json", "semantic_scholar/paper_search_bulk_subset.json")]
    reports = await ingest_sources(settings, db, specs)
    stored = rows(db)
    fetched = sum(r.fetched for r in reports)
    assert fetched - len(stored) == sum(r.updated for r in reports) >= 3
    by_doi = {p.doi: p for p in stored if p.doi}
    assert len(by_doi["10.1111/jnu.12852"].sources) == 2  # PubMed + Semantic Scholar bulk
    assert len(by_doi["10.56578/ataiml010201"].sources) == 2  # OpenAlex + Semantic Scholar relevance
    both = by_doi["10.1109/hpbdis53214.2021.9658453"]
    assert both.sources == specs[2:]


async def test_arxiv_paper_met_again_as_journal_doi_and_datacite_doi(
    settings: Settings, db: Database, tmp_path: Path
) -> None:
    arxiv = tmp_path / "api.xml"
    arxiv.write_bytes(api_feed(api_entry("2308.11589", 1, title="Indonesian ASR")))
    openalex = f"file:{FIXTURES / 'openalex' / 'works_search_ml_nlp_subset.json'}"
    journal = crossref_file(tmp_path, "isi.json", crossref_work("10.18280/ISI.270614", "Indonesian ASR (journal)"),
                            crossref_work("10.48550/arXiv.2301.00236", "DiRaC-I"))
    await ingest_sources(settings, db, [f"file:{arxiv}", openalex, journal])
    stored = {p.canonical_id: p for p in rows(db)}
    assert len(stored["2308.11589"].sources) == 3  # arXiv API, OpenAlex (arXiv location), Crossref (its DOI)
    assert len(stored["2301.00236"].sources) == 2  # OpenAlex and Crossref's arXiv DataCite DOI
    assert "doi:10.18280/isi.270614" not in stored and not any(cid.startswith("doi:10.48550") for cid in stored)


async def test_biorxiv_through_the_scheduler_job(settings: Settings, db: Database) -> None:
    from datetime import UTC, datetime, timedelta

    recorded = (FIXTURES / "medrxiv" / "details_medrxiv_2020-01-01_2022-12-31_cursor0.json").read_bytes()
    start = (datetime.now(UTC) - timedelta(days=settings.source_first_run_days)).date().isoformat()
    today = datetime.now(UTC).date().isoformat()
    with FixtureServer() as server:
        short = json.dumps({"messages": [{"status": "ok"}], "collection": []}).encode()
        server.route(f"/details/medrxiv/{start}/{today}/0", Reply(body=recorded, content_type="application/json"))
        server.route(f"/details/medrxiv/{start}/{today}/50", Reply(body=short, content_type="application/json"))
        live = settings.model_copy(update={"biorxiv_api_url": server.url(""), "biorxiv_min_interval": 0.0})
        woken: list[bool] = []
        jobs.install(jobs.JobContext(live, db, Metrics(db), wake_senders=lambda: woken.append(True)))
        try:
            await jobs.ingest_job("medrxiv:all")
        finally:
            jobs.install(None)
    with db.session() as session:
        state = session.get(SourceState, "medrxiv:all")
    assert state is not None and state.last_status == "ok" and state.last_counts["new"] == 49
    assert len(rows(db)) == 49


async def test_two_preprints_reporting_one_journal_doi_stay_two_papers(
    settings: Settings, db: Database, tmp_path: Path
) -> None:
    feed = tmp_path / "api.xml"
    first, second = (api_entry(ident, 1, title=f"Paper {ident}") for ident in ("2501.00001", "2501.00002"))
    doi = "<arxiv:doi>10.1000/shared.1</arxiv:doi>\n  </entry>"
    feed.write_bytes(api_feed(first.replace("  </entry>", doi), second.replace("  </entry>", doi)))
    journal = crossref_file(tmp_path, "j.json", crossref_work("10.1000/SHARED.1", "The journal article"))
    reports = await ingest_sources(settings, db, [f"file:{feed}", journal])
    assert [(r.new, r.updated) for r in reports] == [(2, 0), (0, 1)]
    assert [p.canonical_id for p in rows(db)] == ["2501.00001", "2501.00002"]
