"""Each scholarly source over real sockets: paging, 429 + Retry-After, bad records, restart without duplicates."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from digest.services.ingest import IngestReport, ingest_sources
from digest.settings import Settings
from storage.db import Database
from storage.models import Paper, SourceState
from tests.digest.sources.http_server import FixtureServer, Reply

FIXTURES = Path(__file__).parent / "fixtures"
JSON = "application/json"


def fixture(relative: str) -> bytes:
    return (FIXTURES / relative).read_bytes()


def details_page(collection: list[Any], cursor: int, total: int) -> bytes:
    message = {"status": "ok", "category": "all", "cursor": cursor, "count": 100, "total": str(total)}
    return json.dumps({"messages": [message], "collection": collection}).encode()


def count_papers(db: Database) -> int:
    with db.session() as session:
        return len(session.exec(select(Paper)).all())


async def run(settings: Settings, db: Database, spec: str) -> IngestReport:
    [report] = await ingest_sources(settings, db, [spec])
    return report


def biorxiv_pages() -> tuple[list[Any], str]:
    """Page 1 = the recorded page (50 records, count says 100); page 2 = 3 more records, short: the end."""
    recorded = json.loads(fixture("biorxiv/details_biorxiv_2020-01-01_2022-12-31_cursor0.json"))
    extra = [
        dict(recorded["collection"][0], doi=f"10.64898/2025.01.0{n}.60000{n}", version="1", published="NA")
        for n in (1, 2, 3)
    ]
    return [recorded["collection"], extra], "biorxiv:all"


def _all_interval_paths(settings: Settings, server_name: str) -> list[str]:
    from datetime import UTC, datetime, timedelta

    start = (datetime.now(UTC) - timedelta(days=settings.source_first_run_days)).date().isoformat()
    today = datetime.now(UTC).date().isoformat()
    return [f"/biorxiv/details/{server_name}/{start}/{today}/0"]


async def test_biorxiv_pages_on_records_received_not_count(
    net_settings: Settings, db: Database, server: FixtureServer
) -> None:
    (first, second), spec = biorxiv_pages()
    [path] = _all_interval_paths(net_settings, "biorxiv")
    prefix, today = "/biorxiv/details/biorxiv/", path.rsplit("/", 2)[1]
    server.route(path, Reply(body=details_page(first, 0, 53), content_type=JSON))
    server.route(path[:-1] + "50", Reply(body=details_page(second, 50, 53), content_type=JSON))
    report = await run(net_settings, db, spec)
    # 53 records received: 50 versions of 40 papers on the recorded page, 3 papers on the short page
    assert (report.status, report.fetched, report.new) == ("ok", 53, 43)
    assert report.skipped_reasons == {"older_version": 10}
    assert [h.path.rsplit("/", 1)[-1] for h in server.requests] == ["0", "50"]  # never cursor 100
    again = await run(net_settings, db, spec)  # a restart reads the watermark's day again: no duplicates
    assert (again.new, count_papers(db)) == (0, 43)
    with db.session() as session:
        state = session.get(SourceState, spec)
    assert state is not None and state.watermark == "2022-10-22T00:00:00+00:00"
    assert f"{prefix}2022-10-22/{today}/0" == server.requests[-1].path  # the second run starts at the watermark


async def test_biorxiv_subject_filter_and_bad_records(
    net_settings: Settings, db: Database, server: FixtureServer
) -> None:
    recorded = json.loads(fixture("biorxiv/details_biorxiv_2020-01-01_2022-12-31_cursor0.json"))["collection"]
    poison = [*recorded[:5], {"doi": None, "title": "no doi"}, "not a record", {**recorded[6], "version": "v1e999"}]
    body = details_page(poison, 0, len(poison))
    for path in _all_interval_paths(net_settings, "biorxiv"):
        server.route(path, Reply(body=body, content_type=JSON))
    report = await run(net_settings, db, "biorxiv:systems_biology")
    assert report.status == "ok" and report.skipped_reasons.get("malformed") == 2
    assert report.new == sum(1 for r in recorded[:7] if r["category"] == "systems biology" and r is not recorded[5])
    assert server.requests[0].query["category"] == ["systems_biology"]


async def test_biorxiv_rss_fallback(net_settings: Settings, db: Database, server: FixtureServer) -> None:
    feed = fixture("biorxiv/rss_connect_biorxiv_xml_subject_all_2018-03-23.xml")
    server.route("/connect/biorxiv_xml.php", Reply(body=feed, content_type='application/xml;")', etag='"a"'))
    report = await run(net_settings, db, "biorxiv-rss:all")
    assert (report.status, report.new) == ("ok", 30)
    with db.session() as session:
        paper = session.exec(select(Paper).where(Paper.canonical_id == "doi:10.1101/286609")).one()
    assert paper.version == 1 and paper.authors[0] == "Kumar, V. G." and paper.extras["server"] == "bioRxiv"
    again = await run(net_settings, db, "biorxiv-rss:all")
    assert again.status == "not_modified"


async def test_pubmed_search_then_fetch_in_batches_with_ncbi_parameters(
    net_settings: Settings, db: Database, server: FixtureServer
) -> None:
    efetch = fixture("pubmed/efetch_ml_nlp_subset.xml")
    pmids = [line.split('<PMID Version="1">')[1].split("<")[0] for line in efetch.decode().split("<PubmedArticle>")[1:]]
    search = {
        "header": {},
        "esearchresult": {"count": str(len(pmids)), "retmax": "1000", "retstart": "0", "idlist": pmids},
    }
    server.route(
        "/eutils/esearch.fcgi",
        Reply(status=429, headers={"Retry-After": "0"}),
        Reply(body=json.dumps(search).encode(), content_type=JSON),
    )
    server.route("/eutils/efetch.fcgi", Reply(body=efetch, content_type="text/xml"))
    settings = net_settings.model_copy(
        update={"pubmed_batch_size": 5, "ncbi_api_key": "k-123", "ncbi_email": "me@x.org"}
    )
    report = await run(settings, db, 'pubmed:"machine learning"[tiab]')
    assert (report.status, report.new) == ("ok", 12)
    searches, fetches = server.hits("/eutils/esearch.fcgi"), server.hits("/eutils/efetch.fcgi")
    assert len(searches) == 2 and len(fetches) == 3  # one 429 retried; 12 PMIDs in batches of 5
    query = searches[-1].query
    assert query["datetype"] == ["edat"] and query["tool"] == ["paperbell"] and query["email"] == ["me@x.org"]
    assert query["api_key"] == ["k-123"] and "mindate" in query
    assert fetches[0].query["id"] == [",".join(pmids[:5])]
    gaps = [b.at - a.at for a, b in itertools.pairwise(fetches)]
    assert min(gaps) >= 0.09  # NCBI's 10 requests/s with a key


async def test_openalex_cursor_paging_and_missing_key(
    net_settings: Settings, db: Database, server: FixtureServer
) -> None:
    page = json.loads(fixture("openalex/works_search_ml_nlp_subset.json"))
    first = {**page, "meta": {**page["meta"], "next_cursor": "c2"}, "results": page["results"][:6]}
    second = {**page, "meta": {**page["meta"], "next_cursor": None}, "results": page["results"][6:]}
    server.route(
        "/openalex/works",
        Reply(body=json.dumps(first).encode(), content_type=JSON),
        Reply(body=json.dumps(second).encode(), content_type=JSON),
    )
    report = await run(net_settings, db, "openalex:topics.id:T10181")
    assert (report.status, report.new) == ("ok", 10)
    hits = server.hits("/openalex/works")
    assert [h.query["cursor"] for h in hits] == [["*"], ["c2"]] and hits[0].query["api_key"] == ["test-openalex-key"]
    assert hits[0].query["filter"][0].startswith("topics.id:T10181,from_created_date:")
    keyless = net_settings.model_copy(update={"openalex_api_key": None})
    failed = await run(keyless, db, "openalex:topics.id:T10181")
    assert failed.status == "error" and "PAPERBELL_OPENALEX_API_KEY" in (failed.error or "")


async def test_crossref_stops_on_empty_page_although_the_cursor_repeats(
    net_settings: Settings, db: Database, server: FixtureServer
) -> None:
    page1 = fixture("crossref/works_query_widget_cursor_page1.json")
    page2 = fixture("crossref/works_query_widget_cursor_page2.json")
    empty = json.loads(page2)
    empty["message"]["items"] = []
    server.route(
        "/crossref/works",
        Reply(status=503, headers={"Retry-After": "0"}),
        Reply(body=page1, content_type=JSON),
        Reply(body=page2, content_type=JSON),
        Reply(body=json.dumps(empty).encode(), content_type=JSON),
    )
    report = await run(net_settings, db, "crossref:type:journal-article")
    # 40 works, one row fewer: 10.59350/895qm-mnq80 says it is a version of 10.59350/7mtwq-q3661
    assert (report.status, report.fetched, report.new, report.updated) == ("ok", 40, 39, 0)
    hits = server.hits("/crossref/works")
    cursor = json.loads(page1)["message"]["next-cursor"]
    assert [h.query["cursor"] for h in hits[1:]] == [["*"], [cursor], [cursor]]
    assert hits[1].query["mailto"] == ["ops@example.org"]


async def test_semantic_scholar_author_papers_until_no_next(
    net_settings: Settings, db: Database, server: FixtureServer
) -> None:
    first = fixture("semantic_scholar/author_1723755_papers_offset0.json")
    last = fixture("semantic_scholar/author_1723755_papers_offset800_last.json")
    server.route(
        "/s2/graph/v1/author/1723755/papers", Reply(body=first, content_type=JSON), Reply(body=last, content_type=JSON)
    )
    keyed = net_settings.model_copy(update={"semantic_scholar_api_key": "s2-key"})
    report = await run(keyed, db, "s2:author:1723755")
    assert (report.status, report.new) == ("ok", 175)
    hits = server.hits("/s2/graph/v1/author/1723755/papers")
    assert [h.query["offset"] for h in hits] == [["0"], ["100"]] and hits[0].headers["x-api-key"] == "s2-key"
    again = await run(keyed, db, "s2:author:1723755")
    assert (again.new, count_papers(db)) == (0, 175)


async def test_semantic_scholar_recommendations_and_a_long_retry_after_fails_clearly(
    net_settings: Settings, db: Database, server: FixtureServer
) -> None:
    path = "/s2/recommendations/v1/papers/forpaper/DOI:10.2139/ssrn.2250500"
    server.route(path, Reply(status=429, headers={"Retry-After": "3600"}))
    failed = await run(net_settings, db, "s2:recommend:DOI:10.2139/ssrn.2250500")
    assert failed.status == "error" and "retry after 3600 s" in (failed.error or "")
    body = fixture("semantic_scholar/recommendations_forpaper_10.2139_ssrn.2250500.json")
    server.route(path, Reply(status=429, headers={"Retry-After": "0"}), Reply(body=body, content_type=JSON))
    report = await run(net_settings, db, "s2:recommend:DOI:10.2139/ssrn.2250500")
    assert (report.status, report.new) == ("ok", 100)


@pytest.mark.parametrize("spec", ["biorxiv:bad subject!", "openalex:nofilter", "s2:paper:1", "crossref:"])
async def test_bad_specs_say_what_is_expected(settings: Settings, db: Database, spec: str) -> None:
    report = await run(settings, db, spec)
    assert report.status == "error" and ("expected" in (report.error or "") or "needs a value" in (report.error or ""))


@pytest.mark.parametrize(
    ("spec", "routes", "new"),
    [
        (
            "biorxiv-rss:all",
            {"/connect/biorxiv_xml.php": "biorxiv/rss_connect_biorxiv_xml_subject_all_2018-03-23.xml"},
            30,
        ),
        ("openalex:type:article", {"/openalex/works": "openalex/works_search_ml_nlp_subset.json"}, 10),
        ("crossref:type:journal-article", {"/crossref/works": "crossref/works_query_ecology_rows2.json"}, 2),
        (
            "s2:author:1723755",
            {"/s2/graph/v1/author/1723755/papers": "semantic_scholar/author_1723755_papers_offset800_last.json"},
            75,
        ),
        (
            "pubmed:nlp",
            {
                "/eutils/esearch.fcgi": "pubmed/esearch_biopython.xml",
                "/eutils/efetch.fcgi": "pubmed/efetch_29963580_mathml.xml",
            },
            1,
        ),
    ],
)
async def test_each_source_through_the_scheduler_job(
    net_settings: Settings, db: Database, server: FixtureServer, spec: str, routes: dict[str, str], new: int
) -> None:
    from digest.runtime import jobs
    from digest.runtime.metrics import Metrics

    for path, relative in routes.items():
        replies = [Reply(body=fixture(relative), content_type=JSON if relative.endswith(".json") else "text/xml")]
        if spec.startswith("crossref"):  # the recorded page, then the empty page that ends a cursor run
            empty = json.loads(fixture(relative))
            empty["message"]["items"] = []
            replies.append(Reply(body=json.dumps(empty).encode(), content_type=JSON))
        server.route(path, *replies)
    metrics = Metrics(db)
    jobs.install(jobs.JobContext(net_settings, db, metrics, wake_senders=lambda: None))
    try:
        await jobs.ingest_job(spec)
    finally:
        jobs.install(None)
    with db.session() as session:
        state = session.get(SourceState, spec)
    assert state is not None and (state.last_status, state.last_counts["new"]) == ("ok", new), state.last_error
    assert f'paperbell_source_runs_total{{source="{spec}",status="ok"}} 1.0' in metrics.render().decode()


async def test_a_failed_request_never_shows_the_api_key(net_settings: Settings, db: Database,
                                                        server: FixtureServer) -> None:
    server.route("/openalex/works", Reply(status=403, body=b"forbidden", content_type="text/plain"))
    report = await run(net_settings, db, "openalex:type:article")
    assert report.status == "error" and "HTTP 403" in (report.error or "")
    assert "test-openalex-key" not in (report.error or "") and "api_key=***" in (report.error or "")
