"""The day page and search over HTTP: ranking, navigation, empty-day reasons, hostile dates and queries."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest

from digest.settings import Settings
from digest.web.days import MAX_DAY_PAPERS
from digest.web.periods import PAGE_SIZE
from storage.db import Database
from storage.models import Paper, SourceRun
from tests.digest.web.front import MONDAY, asgi_client, store_papers


@pytest.fixture
async def client(settings: Settings, db: Database) -> AsyncIterator[httpx.AsyncClient]:
    async for http in asgi_client(settings, db):
        yield http


def set_upvotes(db: Database, paper_id: int, upvotes: int | None) -> None:
    with db.session() as session:
        paper = session.get(Paper, paper_id)
        assert paper is not None
        paper.extras = {} if upvotes is None else {"upvotes": upvotes}
        paper.last_seen_at = datetime.now(UTC)  # an update, as ingestion does
        session.add(paper)


async def test_front_page_is_the_latest_day_ranked_by_upvotes(client: httpx.AsyncClient, db: Database) -> None:
    friday = MONDAY - timedelta(days=3)
    ids = store_papers(db, 6, [friday, MONDAY])
    for paper_id, votes in zip(ids[1::2], (3, None, 40), strict=True):  # Monday's papers
        set_upvotes(db, paper_id, votes)
    page = await client.get("/")
    assert page.status_code == 200
    text = page.text
    assert "Monday 02 March 2026" in text and 'href="/day/2026-02-27"' in text and 'rel="next"' not in text
    # 40 upvotes, then 3, then the paper without a count
    positions = [text.index(f'id="p{pid}"') for pid in (ids[5], ids[1], ids[3])]
    assert positions == sorted(positions)
    assert "TL;DR" in text and "https://arxiv.org/pdf/2603.00001" in text
    assert page.headers["content-security-policy"].startswith("default-src 'none'")
    friday_page = await client.get("/day/2026-02-27")
    assert friday_page.status_code == 200 and 'href="/day/2026-03-02"' in friday_page.text


async def test_day_cache_is_invalidated_by_an_update(client: httpx.AsyncClient, db: Database) -> None:
    ids = store_papers(db, 2, [MONDAY])
    set_upvotes(db, ids[0], 1)
    set_upvotes(db, ids[1], 2)
    first = (await client.get("/day/2026-03-02")).text
    assert first.index(f'id="p{ids[1]}"') < first.index(f'id="p{ids[0]}"')
    set_upvotes(db, ids[0], 99)
    second = (await client.get("/day/2026-03-02")).text
    assert second.index(f'id="p{ids[0]}"') < second.index(f'id="p{ids[1]}"') and "▲ 99" in second


async def test_unsafe_links_are_not_rendered(client: httpx.AsyncClient, db: Database) -> None:
    [paper_id] = store_papers(db, 1)
    with db.session() as session:
        paper = session.get(Paper, paper_id)
        assert paper is not None
        paper.pdf_url, paper.abs_url = "javascript:alert(1)", "data:text/html,x"
        paper.extras = {"github_repo": "vbscript:evil", "upvotes": 1}
        paper.title = "<script>alert(1)</script> title"
        paper.last_seen_at = datetime.now(UTC)
        session.add(paper)
    text = (await client.get("/")).text
    assert "javascript:" not in text and "data:text" not in text and "vbscript" not in text
    assert "<script>alert" not in text and "&lt;script&gt;" in text


@pytest.mark.parametrize(
    ("runs", "day", "reason"),
    [
        ([], "2026-02-28", "weekend"),
        ([("arxiv:cs.LG", "error", "HTTP 503")], "2026-02-25", "Every source failed"),
        ([("arxiv:cs.LG", "empty", None)], "2026-02-25", "announced no new papers"),
        ([], "2026-02-25", "No source ran"),
        ([], "2031-01-01", "not happened yet"),
    ],
)
async def test_an_empty_day_says_why(
    client: httpx.AsyncClient, db: Database, runs: list[tuple[str, str, str | None]], day: str, reason: str
) -> None:
    store_papers(db, 1)
    started = datetime.combine(date.fromisoformat(day), datetime.min.time(), tzinfo=UTC) + timedelta(hours=7)
    with db.session() as session:
        for source, status, error in runs:
            session.add(SourceRun(source=source, started_at=started, finished_at=started, status=status, error=error))
    page = await client.get(f"/day/{day}")
    assert page.status_code == 200 and "No papers this day." in page.text and reason in page.text
    if runs and runs[0][2]:
        assert "HTTP 503" in page.text


@pytest.mark.parametrize("bad", ["2026-13-01", "yesterday", "2026-3-2", "0001-01-01", "2026-03-02x", "%00"])
async def test_a_bad_date_is_a_404(client: httpx.AsyncClient, db: Database, bad: str) -> None:
    store_papers(db, 1)
    assert (await client.get(f"/day/{bad}")).status_code == 404


async def test_a_day_over_the_bound_says_how_many_were_left_out(client: httpx.AsyncClient, db: Database) -> None:
    store_papers(db, MAX_DAY_PAPERS + 7, [MONDAY])
    top = await client.get("/day/2026-03-02")
    assert top.status_code == 200 and top.text.count('<article class="paper"') == PAGE_SIZE
    page = await client.get("/day/2026-03-02?show=all")
    assert page.status_code == 200
    assert page.text.count('<article class="paper"') == MAX_DAY_PAPERS
    for text in (top.text, page.text):
        assert f"ranks the first {MAX_DAY_PAPERS} papers to arrive; 7 more arrived after them" in text
    api = (await client.get("/api/papers", params={"date": "2026-03-02"})).json()
    assert api["total"] == MAX_DAY_PAPERS and api["left_out"] == 7
    small = store_papers(db, 2, [MONDAY - timedelta(days=3)], start=MAX_DAY_PAPERS + 7)
    friday = await client.get("/day/2026-02-27")
    assert len(small) == 2 and "more arrived after them" not in friday.text


async def test_no_papers_at_all_says_so(client: httpx.AsyncClient) -> None:
    page = await client.get("/")
    assert page.status_code == 200 and "No papers yet" in page.text


async def test_search_highlights_explains_and_pages(db: Database, settings: Settings) -> None:
    store_papers(db, 60, [MONDAY - timedelta(days=d) for d in range(5)])
    async for client in asgi_client(settings.model_copy(update={"web_page_size": 3}), db):
        await _search_pages(client)


async def _search_pages(client: httpx.AsyncClient) -> None:
    page = await client.get("/search", params={"q": "sparse"})
    assert page.status_code == 200
    assert "<mark>" in page.text.lower() and "<summary>Why it matched</summary>" in page.text
    assert "page 1 of" in page.text and 'rel="next"' in page.text
    second = await client.get("/search", params={"q": "sparse", "page": "2"})
    assert second.status_code == 200 and "page 2 of" in second.text
    huge_page = await client.get("/search", params={"q": "sparse", "page": "999999999999"})
    assert huge_page.status_code == 200


async def test_search_sees_a_paper_stored_after_the_index_was_prepared(client: httpx.AsyncClient,
                                                                      db: Database) -> None:
    """The prepared search index belongs to one store version: a new paper makes the next search rebuild it."""
    store_papers(db, 4, [MONDAY])
    before = await client.get("/search", params={"q": "zanzibarian"})
    assert before.status_code == 200 and "0 matches" in before.text
    with db.session() as session:
        seen = datetime.combine(MONDAY, datetime.min.time(), tzinfo=UTC)
        session.add(Paper(canonical_id="2603.99999", title="Zanzibarian sparse coding", abstract="New.",
                          first_seen_at=seen, last_seen_at=seen))
    after = await client.get("/search", params={"q": "zanzibarian"})
    assert after.status_code == 200 and "1 match" in after.text and "Zanzibarian" in after.text


@pytest.mark.parametrize(
    ("query", "fragment"),
    [('"unclosed', "position"), ("a AND", "position"), ("(((", "position"), ("x" * 5000, "longer than")],
)
async def test_search_shows_the_parsers_pointed_error(
    client: httpx.AsyncClient, db: Database, query: str, fragment: str
) -> None:
    store_papers(db, 3)
    page = await client.get("/search", params={"q": query})
    assert page.status_code == 400 and 'role="alert"' in page.text and fragment in page.text
