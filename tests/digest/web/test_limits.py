"""Pure limits of the web front, property-tested: the rate limiter, the origin check, date and page parsing."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from starlette.exceptions import HTTPException
from starlette.requests import Request

from digest.core.links import safe_http_url
from digest.query import QueryError, analyze_doc
from digest.services.preview import paper_to_doc
from digest.settings import Settings
from digest.web.day_routes import page_number, parse_day
from digest.web.ratelimit import RateLimiter
from digest.web.search import Corpus, search_corpus
from digest.web.security import origin_of, require_same_origin
from storage.models import Paper
from tests.digest.web.front import seed_records

NOW = datetime(2026, 3, 2, 9, tzinfo=UTC)


@given(st.lists(st.tuples(st.floats(0, 5, allow_nan=False), st.sampled_from("abc")), max_size=60),
       st.integers(1, 5), st.floats(0.5, 3))
def test_rate_limiter_never_allows_more_than_the_limit_per_window(
    hits: list[tuple[float, str]], limit: int, window: float
) -> None:
    clock = [0.0]
    limiter = RateLimiter(limit, window, clock=lambda: clock[0])
    allowed: dict[str, list[float]] = {}
    for step, key in hits:
        clock[0] += step
        if limiter.allow(key):
            allowed.setdefault(key, []).append(clock[0])
    for times in allowed.values():
        for start in times:  # any window holds at most `limit` allowed hits
            assert sum(1 for t in times if start <= t < start + window) <= limit


def test_rate_limiter_forgets_the_oldest_keys_beyond_its_bound() -> None:
    limiter = RateLimiter(1, 60, max_keys=3, clock=lambda: 0.0)
    for key in "abcd":
        assert limiter.allow(key)
    assert limiter.allow("a")  # "a" was forgotten when "d" arrived: memory stays bounded
    assert not limiter.allow("d")


def _request(headers: dict[str, str]) -> Request:
    raw = [(k.encode(), v.encode()) for k, v in headers.items()]
    return Request({"type": "http", "method": "POST", "path": "/", "headers": raw, "query_string": b""})


@pytest.mark.parametrize(
    ("headers", "ok"),
    [
        ({"origin": "https://papers.example.org"}, True),
        ({"origin": "https://PAPERS.example.org:443"}, True),
        ({"referer": "https://papers.example.org/subscribe?q=x"}, True),
        ({"origin": "http://papers.example.org"}, False),
        ({"origin": "https://papers.example.org.evil.test"}, False),
        ({"origin": "null", "referer": "https://papers.example.org/"}, False),
        ({"origin": "https://evil.test", "referer": "https://papers.example.org/"}, False),
        ({"referer": "javascript:alert(1)"}, False),
        ({}, False),
    ],
)
def test_same_origin_check(headers: dict[str, str], ok: bool) -> None:
    settings = Settings(_env_file=None, secret_key="s" * 32, public_url="https://papers.example.org/paperbell")
    if ok:
        require_same_origin(_request(headers), settings)
    else:
        with pytest.raises(HTTPException) as refused:
            require_same_origin(_request(headers), settings)
        assert refused.value.status_code == 403


@given(st.text(max_size=40))
def test_origin_of_never_raises(text: str) -> None:
    found = origin_of(text)
    assert found is None or found[0] in {"http", "https"}


@given(st.text(max_size=60))
def test_safe_http_url_only_passes_http_links(text: str) -> None:
    url = safe_http_url(text)
    assert url is None or (url == text.strip() and url.lower().startswith(("http://", "https://")))


@given(st.dates(min_value=date(1990, 1, 1), max_value=date(2200, 12, 31)))
def test_parse_day_round_trips(day: date) -> None:
    assert parse_day(day.isoformat()) == day


@given(st.one_of(st.text(max_size=12), st.sampled_from(["0", "²", "٣", "00000", "99999", "100000"])))
def test_parse_day_and_page_number_never_raise(text: str) -> None:
    parsed = parse_day(text)
    assert parsed is None or parsed.isoformat() == text
    assert 1 <= page_number(text) <= 99_999


def _corpus() -> Corpus:
    records = seed_records()[:40]
    papers = [
        Paper(id=n + 1, canonical_id=f"2603.{n:05d}", title=str(r["title"]), abstract=str(r.get("abstract") or ""),
              authors=["Ada Lovelace"], categories=["cs.LG"], first_seen_at=NOW)
        for n, r in enumerate(records)
    ]
    return Corpus(version=(40, 40, ""), papers=papers, docs=[analyze_doc(paper_to_doc(p)) for p in papers],
                  capped=False)


CORPUS = _corpus()


@hypothesis_settings(max_examples=150, deadline=None)
@given(st.text(max_size=80), st.integers(-5, 10**6))
def test_search_answers_any_text_with_a_page_or_a_pointed_error(text: str, page: int) -> None:
    plain = Settings(_env_file=None, secret_key="s" * 32)
    try:
        outcome = search_corpus(plain, CORPUS, text, page=page, per_page=7, now=NOW)
    except QueryError as exc:
        assert 0 <= exc.position <= len(text) + 1
        return
    assert 1 <= outcome.page <= outcome.pages and len(outcome.items) <= 7
    assert len(outcome.items) == len(outcome.explanations) and outcome.total <= len(CORPUS.papers)
