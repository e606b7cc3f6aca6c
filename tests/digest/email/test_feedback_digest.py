"""Digest mail ordered by votes: no votes = today's order exactly; 10 votes = liked topic first, with
top picks, reasons and working 👍/👎 links (followed over real HTTP)."""

from __future__ import annotations

import re

import httpx
import pytest

from digest.core.assembly import DigestItem
from digest.email.building import links_for
from digest.email.building import render_blocking as _render_blocking
from digest.email.render import render_capped
from digest.runtime.web_app import web_app
from digest.services import feedback
from digest.services.errors import InvalidInput, NotFound
from digest.services.ingest import ingest_sources
from digest.services.items import load_items, recipient_of
from digest.services.outbox import pending_rows
from digest.settings import Settings
from storage.db import Database
from storage.models import Paper, Subscriber
from tests.conftest import data_path
from tests.digest.email.conftest import NOW, add_subscriber, match
from tests.digest.web.serve import serve


async def _setup(settings: Settings, db: Database) -> tuple[Subscriber, list[DigestItem]]:
    await ingest_sources(settings, db, [f"file:{data_path('corpus/seed_papers.jsonl')}"])
    reader = add_subscriber(db, settings, "ada@example.org", ["llm"])
    assert match(db, settings) > 50
    assert reader.id is not None
    items = await load_items(settings, db, pending_rows(db, reader.id))
    return reader, items


def _texts(db: Database, ids: list[int]) -> dict[int, str]:
    with db.session() as session:
        papers = [session.get(Paper, i) for i in ids]
        return {p.id: f"{p.title} {p.abstract}" for p in papers if p is not None and p.id is not None}


async def test_digest_order_before_and_after_ten_votes(settings: Settings, db: Database) -> None:
    reader, items = await _setup(settings, db)
    assert reader.id is not None
    today = render_capped(settings, recipient_of(reader), items, links_for(settings, reader), now=NOW)
    before = _render_blocking(settings, db, reader, items, NOW)
    shown = [i.paper_id for i in before.digest.items]
    # Vote links make each entry longer, so the size cap may show fewer papers: the order is today's.
    assert shown and shown == [i.paper_id for i in today.digest.items][: len(shown)]
    assert "Top picks for you" not in before.mail.text and "Why here" not in before.mail.text
    assert "👍 More like this: http" in before.mail.text

    texts = _texts(db, [i.paper_id for i in items])
    liked = [p for p, t in texts.items() if "reasoning" in t.lower()]
    others = [p for p in texts if p not in liked]
    for paper in liked[:4]:
        feedback.record_vote(db, reader.id, paper, 1, channel="email")
    for paper in others[:6]:
        feedback.record_vote(db, reader.id, paper, -1, channel="email")
    after = _render_blocking(settings, db, reader, items, NOW)
    order = [i.paper_id for i in after.digest.items]
    assert order != shown[: len(order)]
    unvoted_liked = set(liked[4:])
    assert unvoted_liked and sum(1 for p in order[:10] if p in unvoted_liked | set(liked[:4])) >= 5
    assert "Top picks for you" in after.mail.html and "Top picks for you" in after.mail.text
    assert re.search(r"like \d+ papers? you 👍", after.mail.text)
    assert "4 👍, 6 👎 — ranking learned" in after.mail.text


async def test_a_vote_link_from_the_mail_records_over_http(settings: Settings, db: Database) -> None:
    reader, items = await _setup(settings, db)
    assert reader.id is not None
    mail = _render_blocking(settings, db, reader, items[:5], NOW).mail
    async with serve(web_app(settings, db)) as base, httpx.AsyncClient() as http:
        settings_url = re.escape(settings.public_url.rstrip("/"))
        up = re.search(rf"👍 More like this: ({settings_url}/vote/\S+/up)", mail.text)
        assert up is not None
        url = up.group(1).replace(settings.public_url.rstrip("/"), base)
        assert (await http.get(url)).status_code == 200 and feedback.votes_for(db, reader.id) == {}
        assert (await http.post(url)).status_code == 200
    assert list(feedback.votes_for(db, reader.id).values()) == [1]


async def test_subscription_limits_list_the_rest_as_links_and_lose_nothing(settings: Settings, db: Database) -> None:
    reader, items = await _setup(settings, db)
    assert reader.id is not None
    subscription_id = items[0].subscription_id
    assert subscription_id is not None
    feedback.set_limits(db, subscription_id, max_items=3, min_score=None)
    capped = _render_blocking(settings, db, reader, items, NOW)
    today = render_capped(settings, recipient_of(reader), items, links_for(settings, reader), now=NOW)
    shown = [i.paper_id for i in capped.digest.items]
    order = [i.paper_id for i in today.digest.items]
    assert shown[: len(order)] == order[: len(shown)]  # no votes: today's order
    assert len(shown) > len(order)  # one line each: more papers fit, and they are delivered, not held back
    assert capped.mail.text.count("(past this query's limit)") == len(shown) - 3
    assert capped.mail.html.count("past this query's limit") == len(shown) - 3
    with pytest.raises(InvalidInput):
        feedback.set_limits(db, subscription_id, max_items=0, min_score=None)
    with pytest.raises(InvalidInput):
        feedback.set_limits(db, subscription_id, max_items=None, min_score=1.5)
    with pytest.raises(NotFound):
        feedback.set_limits(db, subscription_id, max_items=5, min_score=None, owner_id=reader.id + 1)

    feedback.set_limits(db, subscription_id, max_items=None, min_score=0.5)
    texts = _texts(db, shown)
    for paper in [p for p, t in texts.items() if "reasoning" in t.lower()][:3]:
        feedback.record_vote(db, reader.id, paper, 1)
    learned = _render_blocking(settings, db, reader, items, NOW)
    full = [i for i in learned.digest.items if "past this query's limit" not in i.title]
    assert learned.mail.text.count("(past this query's limit)") > 0 and full
