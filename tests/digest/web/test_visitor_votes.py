"""A visitor's ▲ (POST only, same site, one per browser, rate-limited) counts in trending.

Thumbnails show only when the operator allows external images, and only from the source's image host."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from sqlmodel import select

from digest.services.trending import day_ranking
from digest.settings import Settings
from storage.db import Database
from storage.models import Paper
from storage.types import utcnow
from storage.visitor_models import VisitorVote
from tests.digest.web.front import MONDAY, ORIGIN, asgi_client, store_papers

THUMB = "https://cdn-thumbnails.huggingface.co/social-thumbnails/papers/2603.00000.png"


@pytest.fixture
async def client(settings: Settings, db: Database) -> AsyncIterator[httpx.AsyncClient]:
    async for http in asgi_client(settings, db):
        yield http


def votes(db: Database) -> list[tuple[int, str]]:
    with db.session() as session:
        return [(v.paper_id, v.visitor) for v in session.exec(select(VisitorVote)).all()]


async def test_a_visitor_votes_once_per_paper_and_the_page_shows_it(client: httpx.AsyncClient, db: Database) -> None:
    first, second = store_papers(db, 2, [MONDAY])
    page = (await client.get("/day/2026-03-02")).text
    assert f'form="upvote" name="paper_id" value="{first}"' in page and "+1 · 0" in page
    answer = await client.post("/upvote", data={"paper_id": str(first), "back": "/day/2026-03-02"}, headers=ORIGIN)
    assert answer.status_code == 303 and answer.headers["location"] == f"/day/2026-03-02#p{first}"
    assert "pb_visitor" in answer.headers["set-cookie"] and "HttpOnly" in answer.headers["set-cookie"]
    again = await client.post("/upvote", data={"paper_id": str(first)}, headers=ORIGIN)  # same browser (cookie kept)
    assert again.status_code == 303 and "set-cookie" not in again.headers
    await client.post("/upvote", data={"paper_id": str(second), "back": "//evil.example/"}, headers=ORIGIN)
    stored = votes(db)
    assert sorted(p for p, _ in stored) == [first, second] and len({v for _, v in stored}) == 1
    assert all(len(v) == 32 for _, v in stored)  # a digest of the cookie's id, nothing about the person
    client.cookies.clear()  # another browser
    await client.post("/upvote", data={"paper_id": str(first)}, headers=ORIGIN)
    assert "+1 · 2" in (await client.get("/day/2026-03-02")).text  # the cached page moved with the vote


@pytest.mark.parametrize(
    ("how", "headers", "data", "status"),
    [
        ("another site", {"origin": "https://evil.example"}, {"paper_id": "1"}, 403),
        ("no origin at all", {}, {"paper_id": "1"}, 403),
        ("no paper", ORIGIN, {}, 400),
        ("not a number", ORIGIN, {"paper_id": "1 OR 1=1"}, 400),
        ("huge id", ORIGIN, {"paper_id": "9" * 40}, 400),
        ("unknown paper", ORIGIN, {"paper_id": "999999"}, 404),
    ],
)
async def test_refused_votes_store_nothing(client: httpx.AsyncClient, db: Database, how: str,
                                          headers: dict[str, str], data: dict[str, str], status: int) -> None:
    store_papers(db, 1, [MONDAY])
    answer = await client.post("/upvote", data=data, headers=headers)
    assert answer.status_code == status, how
    assert votes(db) == [] and "set-cookie" not in answer.headers


async def test_get_never_votes_and_a_forged_cookie_is_a_new_visitor(client: httpx.AsyncClient, db: Database) -> None:
    [paper] = store_papers(db, 1, [MONDAY])
    assert (await client.get("/upvote", params={"paper_id": paper})).status_code == 405
    client.cookies.set("pb_visitor", "forged.value")
    answer = await client.post("/upvote", data={"paper_id": str(paper)}, headers=ORIGIN)
    assert answer.status_code == 303 and "pb_visitor" in answer.headers["set-cookie"] and len(votes(db)) == 1


async def test_votes_per_ip_are_rate_limited(settings: Settings, db: Database) -> None:
    ids = store_papers(db, 4, [MONDAY])
    async for client in asgi_client(settings.model_copy(update={"web_votes_per_ip_per_hour": 2}), db):
        codes = []
        for paper in ids:
            client.cookies.clear()
            codes.append((await client.post("/upvote", data={"paper_id": str(paper)}, headers=ORIGIN)).status_code)
        assert codes == [303, 303, 429, 429] and len(votes(db)) == 2


def test_visitor_votes_rank_papers_without_upvotes_in_trending(db: Database) -> None:
    now = utcnow()
    quiet, liked = store_papers(db, 2, [now.date()])
    with db.session() as session:
        for paper_id in (quiet, liked):
            paper = session.get(Paper, paper_id)
            assert paper is not None
            paper.extras, paper.first_seen_at = {}, now - timedelta(hours=1)
            session.add(paper)
        session.add(VisitorVote(paper_id=liked, visitor="a" * 32))
        session.add(VisitorVote(paper_id=liked, visitor="b" * 32))
    with db.session() as session:
        ranking = day_ranking(session, now)
    assert [(r.paper_id, r.likes) for r in ranking] == [(liked, 2), (quiet, 0)]


@pytest.mark.parametrize(
    ("allowed", "thumbnail", "shown"),
    [
        (False, THUMB, False),  # default: no image, no request to another site
        (True, THUMB, True),
        (True, "http://cdn-thumbnails.huggingface.co/x.png", False),  # not https
        (True, "https://evil.example/x.png", False),  # not the source's image host
        (True, "javascript:alert(1)", False),
        (True, "https://cdn-thumbnails.huggingface.co:8443/x.png", False),
    ],
)
async def test_thumbnails_only_when_the_operator_allows_and_only_from_the_source(
    settings: Settings, db: Database, allowed: bool, thumbnail: str, shown: bool
) -> None:
    [paper_id] = store_papers(db, 1, [MONDAY])
    with db.session() as session:
        paper = session.get(Paper, paper_id)
        assert paper is not None
        paper.extras = {"upvotes": 3, "thumbnail": thumbnail}
        session.add(paper)
    async for client in asgi_client(settings.model_copy(update={"web_external_images": allowed}), db):
        for path in ("/day/2026-03-02", "/week/2026-W10", "/month/2026-03"):
            page = await client.get(path)
            assert ('<img class="thumb"' in page.text) is shown and (thumbnail in page.text) is shown
            csp = page.headers["content-security-policy"]
            assert ("https://cdn-thumbnails.huggingface.co" in csp) is allowed and "evil" not in csp
