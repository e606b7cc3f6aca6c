"""The day page and feeds go out gzipped with an ETag; an unchanged page is a 304; cards show dates, not ids."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlmodel import select

from digest.settings import Settings
from storage.db import Database
from storage.models import Paper
from tests.digest.web.front import asgi_client, store_papers


@pytest.fixture
async def client(settings: Settings, db: Database) -> AsyncIterator[httpx.AsyncClient]:
    async for http in asgi_client(settings, db):
        yield http


@pytest.mark.parametrize("path", ["/", "/feeds/days.atom", "/week/2026-W10", "/month/2026-03",
                                  "/day/2026-03-02?page=2"])
async def test_pages_and_feeds_are_gzipped_tagged_and_revalidated(
    client: httpx.AsyncClient, db: Database, path: str
) -> None:
    store_papers(db, 40)
    first = await client.get(path, headers={"accept-encoding": "gzip"})
    assert first.status_code == 200 and first.headers["content-encoding"] == "gzip"
    assert int(first.headers["content-length"]) < len(first.content) / 3  # what travels vs what it unpacks to
    tag = first.headers["etag"]
    assert tag.startswith('W/"') and "max-age" in first.headers["cache-control"]
    again = await client.get(path, headers={"accept-encoding": "gzip", "if-none-match": tag})
    assert again.status_code == 304 and again.content == b""
    store_papers(db, 1, start=40)  # a new paper: a new page, a new tag
    changed = await client.get(path, headers={"if-none-match": tag})
    assert changed.status_code == 200 and changed.headers["etag"] != tag


async def test_cards_show_the_publication_date_and_no_internal_ids(client: httpx.AsyncClient, db: Database) -> None:
    store_papers(db, 3)
    with db.session() as session:
        paper = session.exec(select(Paper)).first()
        assert paper is not None
        paper.canonical_id = "hash:8a515f0123456789"
        session.add(paper)
    page = (await client.get("/")).text
    assert page.count('<time datetime="2026-03-01">01 Mar 2026</time>') == 3 and "published" in page
    assert "hash:8a515f" not in page.replace("/api/papers/hash%3A8a515f", "")
