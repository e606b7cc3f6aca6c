"""Atom feeds (checked with feedparser) and the JSON API: paging, stable ids, hostile input."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import feedparser
import httpx
import pytest

from digest.services import subscribers as service
from digest.services.tokens import Purpose, make_token
from digest.settings import Settings
from digest.web.feeds import feed_url
from storage.db import Database
from storage.models import Paper
from tests.digest.web.front import MONDAY, asgi_client, store_papers


@pytest.fixture
async def client(settings: Settings, db: Database) -> AsyncIterator[httpx.AsyncClient]:
    async for http in asgi_client(settings, db):
        yield http


def poison(db: Database, paper_id: int) -> None:
    with db.session() as session:
        paper = session.get(Paper, paper_id)
        assert paper is not None
        paper.title = "Bad \x01\x1b\ufffe bytes & <tags> ]]>"  # control characters XML 1.0 forbids
        paper.pdf_url = "javascript:alert(1)"
        paper.last_seen_at = datetime.now(UTC)
        session.add(paper)


async def test_day_feed_is_valid_atom_even_with_poisoned_text(client: httpx.AsyncClient, db: Database) -> None:
    ids = store_papers(db, 12, [MONDAY - timedelta(days=d) for d in range(4)])
    poison(db, ids[0])
    answer = await client.get("/feeds/days.atom")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/atom+xml")
    feed = feedparser.parse(answer.content)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10" and len(feed.entries) == 9  # the latest three days of four
    entry_ids = {entry.id for entry in feed.entries}
    assert "urn:paperbell:paper:2603.00001" in entry_ids and "javascript" not in answer.text
    assert any(entry.title.endswith("bytes & <tags> ]]>") for entry in feed.entries)


async def test_subscription_feed_is_private_and_signed(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    store_papers(db, 40)
    ada = service.add_subscriber(db, settings, "email", "ada@example.org", confirmed=True)
    subscription = service.add_subscription(db, settings, "ada@example.org", "sparse")
    url = feed_url(settings, subscription.id or 0, ada.address).removeprefix(settings.public_url)
    answer = await client.get(url)
    feed = feedparser.parse(answer.content)
    assert answer.status_code == 200 and not feed.bozo and feed.entries
    assert answer.headers["cache-control"] == "no-store" and answer.headers["referrer-policy"] == "no-referrer"
    assert all("sparse" in (e.title + e.summary).lower() or e.title for e in feed.entries)
    assert (await client.get(url.replace(".atom", "x.atom"))).status_code == 404
    manage_token = make_token(settings, Purpose.MANAGE, ada.id or 0, ada.address)
    assert (await client.get(f"/feeds/subscription/{manage_token}.atom")).status_code == 404
    service.remove_subscription(db, subscription.id or 0)
    assert (await client.get(url)).status_code == 404


async def test_api_papers_pages_a_day_with_stable_ids(client: httpx.AsyncClient, db: Database) -> None:
    store_papers(db, 25, [MONDAY])
    first = (await client.get("/api/papers", params={"date": "2026-03-02", "per_page": "10"})).json()
    assert first["date"] == "2026-03-02" and first["total"] == 25 and first["pages"] == 3
    third = (await client.get("/api/papers", params={"date": "2026-03-02", "per_page": "10", "page": "3"})).json()
    assert len(first["papers"]) == 10 and len(third["papers"]) == 5
    seen = [p["id"] for p in first["papers"]] + [p["id"] for p in third["papers"]]
    assert len(set(seen)) == 15
    again = (await client.get("/api/papers", params={"per_page": "10"})).json()  # default: the latest day
    assert [p["id"] for p in again["papers"]] == [p["id"] for p in first["papers"]]
    one = await client.get(f"/api/papers/{seen[0]}")
    assert one.status_code == 200 and one.json()["id"] == seen[0] and one.json()["abstract"]
    assert (await client.get(f"/api/papers/arXiv:{seen[0]}v2")).json()["id"] == seen[0]


async def test_api_search(client: httpx.AsyncClient, db: Database) -> None:
    store_papers(db, 40)
    body = (await client.get("/api/search", params={"q": "sparse", "per_page": "2"})).json()
    assert body["total"] >= 1 and len(body["papers"]) <= 2 and "explanation" in body["papers"][0]
    bad = await client.get("/api/search", params={"q": "(sparse"})
    assert bad.status_code == 400 and "position" in bad.json()


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/api/papers?date=2026-02-30", 400),
        ("/api/papers?date=tomorrow", 400),
        ("/api/papers?page=-1&per_page=100000", 200),
        ("/api/papers/9999.99999", 404),
        ("/api/papers/%3Cscript%3E", 400),
        ("/api/papers/" + "1" * 400, 400),
        ("/api/search", 400),
        ("/api/search?q=" + "x" * 5000, 400),
    ],
)
async def test_api_refuses_bad_input_with_json(client: httpx.AsyncClient, db: Database, url: str, status: int) -> None:
    store_papers(db, 3)
    answer = await client.get(url)
    assert answer.status_code == status and answer.headers["content-type"] == "application/json"


@pytest.mark.parametrize(("path", "query"), [("/api/papers", {}), ("/api/search", {"q": "sparse"})])
async def test_api_refuses_paging_that_is_not_a_number(
    client: httpx.AsyncClient, db: Database, path: str, query: dict[str, str]
) -> None:
    store_papers(db, 3)
    bad = await client.get(path, params={**query, "per_page": "abc"})
    assert bad.status_code == 400 and bad.json()["error"].startswith("per_page must be a whole number")


async def test_api_query_error_position_is_the_messages(client: httpx.AsyncClient, db: Database) -> None:
    store_papers(db, 3)
    bad = (await client.get("/api/search", params={"q": '"unclosed'})).json()
    assert "at position 1" in bad["error"] and bad["position"] == 1
