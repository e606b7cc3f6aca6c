"""Every source over real sockets against the local fixture server, including each crafted fault.

Each fault must end with a clear status/reason in the report, a SourceRun row, and the database
exactly as it was (checked by snapshotting the papers table before and after).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlmodel import select

from digest.services.ingest import IngestReport, ingest_sources
from digest.settings import Settings
from storage.db import Database
from storage.models import Paper, SourceRun, SourceState
from tests.conftest import data_path
from tests.digest.sources.builders import XML_BOMB, api_entry, api_feed, hf_body, hf_item
from tests.digest.sources.http_server import FixtureServer, Reply

RSS = data_path("fixtures/arxiv_rss/quant-ph-2025-04-28.xml").read_bytes()
API = data_path("fixtures/arxiv_api/query.xml").read_bytes()
HF = data_path("fixtures/hf_daily_papers/2024-10-25.json").read_bytes()
ATOM_XML = "application/atom+xml; charset=utf-8"


def snapshot(db: Database) -> list[tuple[Any, ...]]:
    with db.session() as session:
        return sorted(
            (p.canonical_id, p.version, p.title, p.abstract, tuple(p.authors), p.first_seen_at, repr(p.extras))
            for p in session.exec(select(Paper))
        )


async def run(settings: Settings, db: Database, *specs: str) -> list[IngestReport]:
    return await ingest_sources(settings, db, list(specs))


async def test_every_live_source_parses_its_fixture(
    net_settings: Settings, db: Database, server: FixtureServer
) -> None:
    server.route("/rss/quant-ph", Reply(body=RSS, content_type="application/rss+xml"))
    server.route("/api/query", Reply(body=API, content_type=ATOM_XML))
    server.route("/hf/api/daily_papers", Reply(body=HF, content_type="application/json"))
    reports = await run(net_settings, db, "arxiv:quant-ph", "arxiv-api:all:electron AND all:proton", "hf:daily")
    assert [(r.status, r.fetched, r.new, r.skipped) for r in reports] == [
        ("ok", 81, 50, 31), ("ok", 10, 10, 0), ("ok", 29, 29, 0)
    ]
    assert reports[0].skipped_reasons == {"replacement_of_unknown": 31}
    api_hit = server.hits("/api/query")[0]
    assert api_hit.query["search_query"] == ["all:electron AND all:proton"]
    assert api_hit.query["sortBy"] == ["submittedDate"] and api_hit.query["start"] == ["0"]
    for seen in server.requests:
        assert "paperbell" in seen.headers["User-Agent"] and "ops@example.org" in seen.headers["User-Agent"]


async def test_announcement_feed_without_cross_lists(
    net_settings: Settings, db: Database, server: FixtureServer
) -> None:
    server.route("/rss/quant-ph", Reply(body=RSS, content_type="application/rss+xml"))
    settings = net_settings.model_copy(update={"keep_cross_lists": False})
    [report] = await run(settings, db, "arxiv:quant-ph")
    assert (report.new, report.skipped_reasons) == (40, {"cross_list": 19, "replacement_of_unknown": 22})


async def test_api_paging_stops_at_total(net_settings: Settings, db: Database, server: FixtureServer,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from digest.sources.arxiv_api import ArxivApiSource

    monkeypatch.setattr(ArxivApiSource, "page_size", 2)
    pages = [api_feed(api_entry(f"2501.{n:05d}", published=f"2025-01-{20 - n:02d}T00:00:00Z"),
                      api_entry(f"2501.{n + 1:05d}", published=f"2025-01-{19 - n:02d}T00:00:00Z"), total=5)
             for n in (0, 2)]
    pages.append(api_feed(api_entry("2501.00004", published="2025-01-10T00:00:00Z"), total=5))
    server.route("/api/query", *(Reply(body=p, content_type=ATOM_XML) for p in pages))
    [report] = await ingest_sources(net_settings, db, ["arxiv-api:cat:cs.LG"],
                                    since=datetime(2025, 1, 1, tzinfo=UTC))
    assert (report.status, report.new) == ("ok", 5)
    assert [h.query["start"] for h in server.hits("/api/query")] == [["0"], ["2"], ["4"]]
    # the next run stops at the watermark: the newest page holds nothing newer
    server.route("/api/query", Reply(body=pages[0], content_type=ATOM_XML))
    [again] = await run(net_settings, db, "arxiv-api:cat:cs.LG")
    assert (again.status, again.new, len(server.hits("/api/query"))) == ("empty", 0, 4)


async def test_retry_after_429_then_success(net_settings: Settings, db: Database, server: FixtureServer) -> None:
    server.route(
        "/hf/api/daily_papers",
        Reply(status=429, headers={"Retry-After": "0"}, content_type="text/plain"),
        Reply(status=503, content_type="text/plain"),
        Reply(body=HF, content_type="application/json"),
    )
    [report] = await run(net_settings, db, "hf:daily")
    assert (report.status, report.new) == ("ok", 29)
    assert len(server.hits("/hf/api/daily_papers")) == 3


async def test_retry_after_is_honoured(net_settings: Settings, db: Database, server: FixtureServer) -> None:
    server.route(
        "/hf/api/daily_papers",
        Reply(status=429, headers={"Retry-After": "1"}, content_type="text/plain"),
        Reply(body=HF, content_type="application/json"),
    )
    settings = net_settings.model_copy(update={"http_backoff_base": 0.0})
    [report] = await run(settings, db, "hf:daily")
    first, second = server.hits("/hf/api/daily_papers")
    assert report.status == "ok" and second.at - first.at >= 0.95


async def test_arxiv_requests_are_spaced(net_settings: Settings, db: Database, server: FixtureServer) -> None:
    server.route("/rss/quant-ph", Reply(body=RSS, content_type="application/rss+xml"))
    server.route("/api/query", Reply(body=API, content_type=ATOM_XML))
    settings = net_settings.model_copy(update={"arxiv_min_interval": 0.3})
    await run(settings, db, "arxiv:quant-ph", "arxiv-api:all:electron")
    times = sorted(seen.at for seen in server.requests)
    assert len(times) == 2 and times[1] - times[0] >= 0.29


async def test_conditional_get(net_settings: Settings, db: Database, server: FixtureServer) -> None:
    server.route("/rss/cs.LG+cs.CL", Reply(body=RSS, content_type="application/rss+xml", etag='"v1"'))
    first, = await run(net_settings, db, "arxiv:cs.LG+cs.CL")
    second, = await run(net_settings, db, "arxiv:cs.LG+cs.CL")
    assert (first.status, second.status, second.new) == ("ok", "not_modified", 0)
    assert server.hits("/rss/cs.LG+cs.CL")[1].headers.get("If-None-Match") == '"v1"'
    with db.session() as session:
        state = session.get(SourceState, "arxiv:cs.LG+cs.CL")
        assert state is not None and state.etag == '"v1"' and state.last_status == "not_modified"
        assert state.watermark == "2025-04-28T04:00:00+00:00"


async def test_empty_listing_is_not_an_error(net_settings: Settings, db: Database, server: FixtureServer) -> None:
    empty = RSS[: RSS.index(b"<item>")] + b"</channel></rss>"
    server.route("/rss/cs.LG", Reply(body=empty, content_type="application/rss+xml"))
    server.route("/api/query", Reply(body=data_path("fixtures/arxiv_api/query_empty.xml").read_bytes(),
                                     content_type=ATOM_XML))
    reports = await run(net_settings, db, "arxiv:cs.LG", "arxiv-api:id:1201.56789")
    assert [(r.status, r.error) for r in reports] == [("empty", None), ("empty", None)]


OVERSIZED = 150_000  # above the HF fixture (88 kB) so the healthy source still fits


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (Reply(status=503, content_type="text/plain"), "HTTP 503 .*gave up after 3 attempts"),
        (Reply(status=429, headers={"Retry-After": "9999"}), "retry after 9999 s"),
        (Reply(status=404, content_type="text/plain"), "HTTP 404"),
        (Reply(body=API, content_type=ATOM_XML, delay=1.0), "timed out"),
        (Reply(body=API[:3000], content_type=ATOM_XML), "malformed XML"),
        (Reply(body=API, content_type=ATOM_XML, declared_length=len(API) + 500), "timed out|connection failed"),
        (Reply(body=XML_BOMB, content_type=ATOM_XML), "unsafe XML"),
        (Reply(body=b"<feed>" + b"x" * OVERSIZED * 2 + b"</feed>", content_type=ATOM_XML), "byte limit"),
        (Reply(body=b"<html><body>Rate limited</body></html>", content_type="text/html"), "unexpected content type"),
        (Reply(body=API.replace(b"Arrington", b"Arr\xffington"), content_type=ATOM_XML), "malformed XML"),
        (Reply(body=b"[1, 2]", content_type="application/json"), "unexpected content type"),
    ],
    ids=["503", "429-too-long", "404", "timeout", "truncated", "short-body", "xml-bomb", "oversized",
         "html", "invalid-utf8", "json-for-xml"],
)
async def test_faults_fail_one_source_and_keep_the_database(
    net_settings: Settings, db: Database, server: FixtureServer, reply: Reply, message: str
) -> None:
    server.route("/hf/api/daily_papers", Reply(body=HF, content_type="application/json"))
    [seeded] = await run(net_settings, db, "hf:daily")
    before = snapshot(db)
    server.route("/api/query", reply)
    settings = net_settings.model_copy(update={"http_timeout": 0.3, "http_max_bytes": OVERSIZED})
    failing, healthy = await run(settings, db, "arxiv-api:all:electron", "hf:daily")
    assert failing.status == "error" and failing.error is not None
    assert failing.error == failing.error.strip() and "\n" not in failing.error
    import re

    assert re.search(message, failing.error), failing.error
    assert healthy.status == "ok" and seeded.new == 29  # the other source still ran
    assert snapshot(db) == before
    with db.session() as session:
        run_row = session.exec(select(SourceRun).where(SourceRun.source == "arxiv-api:all:electron")).one()
        assert (run_row.status, run_row.error, run_row.finished_at is not None) == ("error", failing.error, True)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"not json", "malformed JSON"),
        (b'[{"paper": {"id": "2410.17243", "title": "\xff"}}]', "invalid UTF-8"),
    ],
)
async def test_bad_json_fails(net_settings: Settings, db: Database, server: FixtureServer, body: bytes,
                              reason: str) -> None:
    server.route("/hf/api/daily_papers", Reply(body=body, content_type="application/json"))
    [report] = await run(net_settings, db, "hf:daily")
    assert report.status == "error" and report.error is not None and reason in report.error


async def test_missing_fields_and_duplicates_are_skipped(net_settings: Settings, db: Database,
                                                         server: FixtureServer) -> None:
    body = api_feed(
        api_entry("2501.00001"), api_entry("2501.00002", with_id=False), api_entry("2501.00003", title=""),
        api_entry("2501.00001"), api_entry("2501.00004"),
    )
    server.route("/api/query", Reply(body=body, content_type=ATOM_XML))
    server.route("/hf/api/daily_papers", Reply(body=hf_body(hf_item("2501.00005"), hf_item("2501.00005"),
                                                             {"paper": {"title": "no id"}}),
                                               content_type="application/json"))
    api, hf = await run(net_settings, db, "arxiv-api:x", "hf:daily")
    assert (api.status, api.fetched, api.new, api.skipped, api.skipped_reasons) == (
        "ok", 5, 2, 3, {"malformed": 2, "duplicate": 1})
    assert (hf.new, hf.skipped_reasons) == (1, {"malformed": 1, "duplicate": 1})


async def test_hf_backfill_requests_each_day(net_settings: Settings, db: Database, server: FixtureServer) -> None:
    from datetime import timedelta

    server.route("/hf/api/daily_papers", Reply(body=HF, content_type="application/json"))
    since = datetime.now(UTC) - timedelta(days=2)
    steps: list[tuple[str, int, int | None]] = []
    [report] = await ingest_sources(net_settings, db, ["hf:daily"], since=since,
                                    progress=lambda s, d, t: steps.append((s, d, t)))
    days = [h.query["date"][0] for h in server.hits("/hf/api/daily_papers")]
    assert days == [(since + timedelta(days=n)).date().isoformat() for n in range(3)]
    assert steps == [("hf:daily", n, 3) for n in (1, 2, 3)]
    assert (report.new, report.skipped_reasons) == (29, {"duplicate": 58})
