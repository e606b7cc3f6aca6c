"""The "follow" link next to each author on a paper card, and the subscribe form it opens prefilled."""

from __future__ import annotations

from collections.abc import AsyncIterator
from html import unescape

import httpx
import pytest

from digest.settings import Settings
from storage.db import Database
from storage.models import Paper
from tests.digest.web.front import MONDAY, asgi_client, store_papers


@pytest.fixture
async def client(web_settings: Settings, db: Database) -> AsyncIterator[httpx.AsyncClient]:
    async for http in asgi_client(web_settings, db):
        yield http


async def test_each_author_has_a_follow_link_to_a_prefilled_form(client: httpx.AsyncClient, db: Database) -> None:
    store_papers(db, 3)
    day = await client.get(f"/day/{MONDAY.isoformat()}")
    assert day.status_code == 200
    assert '<a class="follow" href="/subscribe?author=Grace%20Hopper"' in day.text
    form = await client.get("/subscribe?author=Grace%20Hopper")
    assert form.status_code == 200 and '>author:"Grace Hopper"</textarea>' in unescape(form.text)
    found = await client.get('/search?q=author:"Hopper, G."')  # web search speaks the clause too
    assert found.status_code == 200 and unescape(found.text).count('<article class="paper"') == 3


async def test_a_spelling_opens_the_identity_it_belongs_to(client: httpx.AsyncClient, db: Database) -> None:
    with db.session() as session:
        session.add(Paper(canonical_id="2501.00001", title="One", authors=["Yoshua Bengio", "Aaron Courville"]))
        session.add(Paper(canonical_id="2501.00002", title="Two", authors=["Y. Bengio", "Aaron Courville"]))
    form = await client.get("/subscribe?author=Y.%20Bengio")
    assert '>author:"Yoshua Bengio"</textarea>' in unescape(form.text)


@pytest.mark.parametrize(("author", "reason"), [
    ("", "the name is empty"), ("x" * 10_000, "characters long"), ("Ada%00Lovelace", "control"),
    ("Hopper", "a surname alone"),
])
async def test_poison_follow_links_are_refused_in_one_line(client: httpx.AsyncClient, author: str,
                                                           reason: str) -> None:
    form = await client.get(f"/subscribe?author={author}")
    assert form.status_code == 400 and reason in unescape(form.text)
    assert 'name="query"' in form.text  # the form is still there to type a query


async def test_follow_lookups_share_the_preview_limit(db: Database, web_settings: Settings) -> None:
    limited = web_settings.model_copy(update={"web_previews_per_ip_per_minute": 2})
    async for client in asgi_client(limited, db):
        codes = [(await client.get("/subscribe?author=Grace%20Hopper")).status_code for _ in range(3)]
        plain = await client.get("/subscribe")  # the form itself is never limited
    assert codes == [200, 200, 429] and plain.status_code == 200
