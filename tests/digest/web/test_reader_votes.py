"""👍/👎 on the web day and search pages for a subscriber who came through their signed link (real HTTP)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest

from digest.services import feedback
from digest.services import subscribers as service
from digest.services.tokens import Purpose, make_token
from digest.settings import Settings
from digest.web.reader_routes import COOKIE
from digest.web.security import csrf_token
from storage.db import Database
from storage.models import Subscriber
from tests.digest.web.front import MONDAY, serve_front, store_papers

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
async def site(settings: Settings, db: Database) -> AsyncIterator[tuple[str, Settings]]:
    async with serve_front(settings, db) as served:
        yield served


@pytest.fixture
def reader(settings: Settings, db: Database) -> Subscriber:
    subscriber = service.add_subscriber(db, settings, "email", "ada@example.org", confirmed=True)
    service.add_subscription(db, settings, "ada@example.org", "sparse")
    return subscriber


@asynccontextmanager
async def signed_in(base: str, settings: Settings, reader: Subscriber) -> AsyncIterator[httpx.AsyncClient]:
    """A browser that followed the manage page's link (the cookie jar keeps the reader cookie)."""
    async with httpx.AsyncClient(base_url=base, headers={"Origin": base}) as http:
        yield await _enter(http, settings, reader)


async def _enter(http: httpx.AsyncClient, settings: Settings, reader: Subscriber) -> httpx.AsyncClient:
    manage = await http.get(f"/manage/{make_token(settings, Purpose.MANAGE, reader.id or 0, reader.address)}")
    link = re.search(r'href="(/reader/[^"]+)"', manage.text)
    assert link is not None, "the manage page links to the voting pages"
    page = await http.get(link.group(1))
    assert page.status_code == 200 and "set-cookie" not in page.headers  # a GET never signs anyone in
    csrf = CSRF.search(page.text)
    assert csrf is not None
    entered = await http.post(link.group(1), data={"csrf_token": csrf.group(1)})
    assert entered.status_code == 303 and entered.headers["location"] == "/"
    cookie = entered.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    return http


async def vote(http: httpx.AsyncClient, paper_id: int, choice: str, page: str = "/day/2026-03-02") -> httpx.Response:
    body = (await http.get(page)).text
    token = CSRF.search(body)
    assert token is not None
    return await http.post("/reader/vote", data={"csrf_token": token.group(1), "paper_id": str(paper_id),
                                                 "vote": choice, "back": page})


async def test_vote_change_and_withdraw_from_the_day_and_search_pages(
    site: tuple[str, Settings], db: Database, reader: Subscriber
) -> None:
    base, settings = site
    ids = store_papers(db, 4, [MONDAY])
    async with httpx.AsyncClient(base_url=base) as anonymous:
        assert "/reader/vote" not in (await anonymous.get("/day/2026-03-02")).text  # no buttons for visitors
    async with signed_in(base, settings, reader) as http:
        day = await http.get("/day/2026-03-02")
        assert day.text.count('action="/reader/vote"') == 4 and day.headers["cache-control"] == "no-store"
        answer = await vote(http, ids[0], "up")
        assert answer.status_code == 303 and answer.headers["location"] == "/day/2026-03-02"
        assert f'name="back" value="/day/2026-03-02#p{ids[0]}"' in day.text  # the page's own form comes back here
        assert feedback.vote_of(db, reader.id or 0, ids[0]) == 1
        assert "your vote: 👍" in (await http.get("/day/2026-03-02")).text
        await vote(http, ids[0], "down")
        assert feedback.vote_of(db, reader.id or 0, ids[0]) == -1
        await vote(http, ids[0], "withdraw")
        assert feedback.vote_of(db, reader.id or 0, ids[0]) is None
        search = await http.get("/search", params={"q": "sparse OR model"})
        assert 'action="/reader/vote"' in search.text
        await vote(http, ids[1], "up", page="/search?q=sparse+OR+model")
        assert feedback.vote_of(db, reader.id or 0, ids[1]) == 1
    # the shared cached page still has no buttons for anyone else
    async with httpx.AsyncClient(base_url=base) as anonymous:
        assert "/reader/vote" not in (await anonymous.get("/day/2026-03-02")).text


@pytest.mark.parametrize("case", ["no-cookie", "forged-cookie", "manage-token-as-cookie", "cross-origin",
                                  "no-csrf", "csrf-of-another-reader", "bad-vote", "unknown-paper"])
async def test_refused_votes_change_nothing(
    site: tuple[str, Settings], db: Database, reader: Subscriber, settings: Settings, case: str
) -> None:
    base, bound = site
    ids = store_papers(db, 2, [MONDAY])
    other = service.add_subscriber(db, settings, "email", "bob@example.org", confirmed=True)
    async with signed_in(base, bound, reader) as http:
        token = CSRF.search((await http.get("/day/2026-03-02")).text)
        assert token is not None
        form = {"csrf_token": token.group(1), "paper_id": str(ids[0]), "vote": "up", "back": "/"}
        headers = {"Origin": base}
        if case == "no-cookie":
            http.cookies.clear()
        elif case == "forged-cookie":
            http.cookies.set(COOKIE, make_token(bound, Purpose.READER, reader.id or 0, reader.address)[:-3] + "abc")
        elif case == "manage-token-as-cookie":
            http.cookies.set(COOKIE, make_token(bound, Purpose.MANAGE, reader.id or 0, reader.address))
        elif case == "cross-origin":
            headers = {"Origin": "https://evil.example"}
        elif case == "no-csrf":
            form.pop("csrf_token")
        elif case == "csrf-of-another-reader":
            from digest.web.security import csrf_token

            form["csrf_token"] = csrf_token(bound, f"reader:{other.id}")
        elif case == "bad-vote":
            form["vote"] = "maybe"
        else:
            form["paper_id"] = "999999"
        answer = await http.post("/reader/vote", data=form, headers=headers)
    assert answer.status_code in (400, 403, 404), answer.text
    assert feedback.votes_for(db, reader.id or 0) == {} and feedback.votes_for(db, other.id or 0) == {}


async def test_get_and_head_never_vote_and_a_bad_reader_link_is_refused(
    site: tuple[str, Settings], db: Database, reader: Subscriber
) -> None:
    base, settings = site
    ids = store_papers(db, 1, [MONDAY])
    async with httpx.AsyncClient(base_url=base) as http:
        for method in ("GET", "HEAD"):
            answer = await http.request(method, "/reader/vote", params={"paper_id": ids[0], "vote": "up"})
            assert answer.status_code in (400, 405)  # "vote" is no reader token either
        link = f"/reader/{make_token(settings, Purpose.READER, reader.id or 0, reader.address)}"
        for method in ("GET", "HEAD"):
            shown = await http.request(method, link)
            assert shown.status_code == 200 and "set-cookie" not in shown.headers
        assert (await http.get(link[:-4] + "xxxx")).status_code == 400
        moved = make_token(settings, Purpose.READER, reader.id or 0, "someone-else@example.org")
        assert (await http.get(f"/reader/{moved}")).status_code == 400
    assert feedback.votes_for(db, reader.id or 0) == {}


async def test_more_like_this_from_the_day_page_saves_a_seeded_subscription(
    site: tuple[str, Settings], db: Database, reader: Subscriber
) -> None:
    from sqlmodel import select

    from storage.models import Subscription

    base, settings = site
    ids = store_papers(db, 40, [MONDAY])
    async with signed_in(base, settings, reader) as http:
        answer = await vote(http, ids[3], "like")
        assert answer.status_code == 200 and "New saved query" in answer.text
    with db.session() as session:
        created = session.exec(select(Subscription).where(Subscription.created_by == "web")).all()
    assert len(created) == 1 and created[0].subscriber_id == reader.id
    assert feedback.vote_of(db, reader.id or 0, ids[3]) == 1  # the seed counts as a 👍


async def test_a_cross_site_link_or_post_plants_no_reader_session(
    site: tuple[str, Settings], db: Database, reader: Subscriber
) -> None:
    """Login CSRF: another site links or posts to someone's reader link; the visitor gets no session."""
    base, settings = site
    link = f"/reader/{make_token(settings, Purpose.READER, reader.id or 0, reader.address)}"
    async with httpx.AsyncClient(base_url=base) as http:
        assert "set-cookie" not in (await http.get(link)).headers
        page = await http.get(link)
        csrf = CSRF.search(page.text)
        assert csrf is not None
        forged = await http.post(link, data={"csrf_token": csrf.group(1)}, headers={"Origin": "https://evil.test"})
        assert forged.status_code == 403 and "set-cookie" not in forged.headers
        no_token = await http.post(link, data={}, headers={"Origin": base})
        assert no_token.status_code == 403 and "set-cookie" not in no_token.headers


async def test_leaving_revokes_the_session_on_the_server(
    site: tuple[str, Settings], db: Database, reader: Subscriber
) -> None:
    base, settings = site
    ids = store_papers(db, 1, [MONDAY])
    async with signed_in(base, settings, reader) as http:
        copied = http.cookies.get(COOKIE)
        assert copied
        assert (await http.post("/reader/leave")).status_code == 303
        http.cookies.set(COOKIE, copied)  # a copy of the cookie, kept by someone else
        assert "/reader/vote" not in (await http.get("/day/2026-03-02")).text
        body = {"csrf_token": csrf_token(settings, f"reader:{reader.id}"), "paper_id": str(ids[0]), "vote": "up"}
        assert (await http.post("/reader/vote", data=body)).status_code == 403
    assert feedback.votes_for(db, reader.id or 0) == {}
