"""Day pages show the top of the day with pages and "show all"; week and month pages; hostile period names."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, timedelta

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from digest.settings import Settings
from digest.web.periods import PAGE_SIZE, month_period, parse_month, parse_week, week_period
from storage.db import Database
from tests.digest.web.front import MONDAY, asgi_client, store_papers

CARD = '<article class="paper"'


@pytest.fixture
async def client(settings: Settings, db: Database) -> AsyncIterator[httpx.AsyncClient]:
    async for http in asgi_client(settings, db):
        yield http


async def test_a_busy_day_shows_its_top_with_pages_and_show_all(client: httpx.AsyncClient, db: Database) -> None:
    store_papers(db, 2 * PAGE_SIZE + 5, [MONDAY])
    first = (await client.get("/day/2026-03-02")).text
    assert first.count(CARD) == PAGE_SIZE and "page 1 of 3" in first and 'href="/day/2026-03-02?page=2"' in first
    assert 'href="/day/2026-03-02?show=all"' in first and 'href="/week/2026-W10"' in first
    assert 'href="/month/2026-03"' in first
    last = (await client.get("/day/2026-03-02?page=3")).text
    assert last.count(CARD) == 5 and 'rel="next"' not in last.split("Pages")[1] and 'start="61"' in last
    shown = [chunk.split('"')[0] for chunk in (first + (await client.get("/day/2026-03-02?page=2")).text
                                                 + last).split('id="p')[1:]]
    assert len(shown) == len(set(shown)) == 2 * PAGE_SIZE + 5  # every paper once across the pages
    everything = (await client.get("/day/2026-03-02?show=all")).text
    assert everything.count(CARD) == 2 * PAGE_SIZE + 5 and "Show the top 30" in everything


@pytest.mark.parametrize("page", ["999999", "0", "-1", "abc", "²", "1" * 40])
async def test_a_page_out_of_range_or_malformed_shows_a_real_page(client: httpx.AsyncClient, db: Database,
                                                                  page: str) -> None:
    store_papers(db, PAGE_SIZE + 1, [MONDAY])
    answer = await client.get("/day/2026-03-02", params={"page": page})
    assert answer.status_code == 200 and answer.text.count(CARD) in (1, PAGE_SIZE)


async def test_week_and_month_pages_rank_across_days(client: httpx.AsyncClient, db: Database) -> None:
    days = [MONDAY + timedelta(days=n) for n in range(5)] + [MONDAY - timedelta(days=1)]  # Sunday 1 March: week 9
    store_papers(db, 36, days)
    week = await client.get("/week/2026-W10")
    assert week.status_code == 200 and week.text.count(CARD) == 30 and "Week 10, 2026 (02 Mar – 08 Mar)" in week.text
    assert "30 papers first seen this week" in week.text
    assert 'href="/week/2026-W09"' in week.text and 'href="/week/2026-W11"' in week.text
    assert 'href="/month/2026-03"' in week.text
    month = await client.get("/month/2026-03")
    assert month.status_code == 200 and "March 2026" in month.text and "36 papers first seen this month" in month.text
    assert 'href="/month/2026-02"' in month.text and 'href="/month/2026-04"' in month.text
    assert 'href="/week/2026-W14"' in month.text  # a month links to every week that touches it
    sunday = await client.get("/week/2026-W09")
    assert sunday.status_code == 200 and sunday.text.count(CARD) == 6
    empty = await client.get("/week/2031-W02")
    assert empty.status_code == 200 and "No papers this week." in empty.text
    assert 'rel="next"' not in empty.text and 'rel="prev"' in empty.text  # no link into the future


@pytest.mark.parametrize("path", ["/week/2026-W54", "/week/2026-W00", "/week/2026W10", "/week/1800-W01",
                                  "/week/2026-W1", "/month/2026-13", "/month/2026-1", "/month/99999-01",
                                  "/month/2026-00", "/week/%00", "/month/2026-03x"])
async def test_a_bad_week_or_month_is_a_404_that_says_the_form(client: httpx.AsyncClient, db: Database,
                                                               path: str) -> None:
    store_papers(db, 1)
    answer = await client.get(path)
    assert answer.status_code == 404 and ("Weeks look like" in answer.text or "Months look like" in answer.text)


@given(st.text(max_size=12))
def test_period_parsers_never_raise(text: str) -> None:
    for parsed in (parse_week(text), parse_month(text)):
        assert parsed is None or parsed.start < parsed.end


@given(st.dates(min_value=date(1991, 1, 1), max_value=date(2199, 12, 1)))
def test_periods_hold_their_day_and_neighbours_touch(day: date) -> None:
    for period in (week_period(day), month_period(day)):
        assert period.start <= day < period.end
        assert period.neighbour(1).start == period.end and period.neighbour(-1).end == period.start
    assert parse_week(week_period(day).path.split("/")[-1]) == week_period(day)
    assert parse_month(month_period(day).path.split("/")[-1]) == month_period(day)
