"""Every web page in a real browser at 390 and 1200 px, light and dark: no sideways scroll, and dark mode
really changes the colours. Playwright drives Debian's Chromium (/usr/bin/chromium, no browser download);
one browser and one server for the whole module keep it fast. Skipped, with the reason, without Chromium.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
import pytest_asyncio

from digest.services import subscribers as service
from digest.services.tokens import Purpose, link
from digest.settings import Settings
from storage.db import Database
from storage.models import Paper
from tests.conftest import fresh_database_url
from tests.digest.web.front import MONDAY, serve_front, store_papers

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]
pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install -y chromium)"),
    pytest.mark.asyncio(loop_scope="module"),
]
LONG_URL = "https://example.org/" + "a-very-long-path-segment-" * 20


@dataclass
class Site:
    base: str
    paths: dict[str, str]
    browser: Any


def _seed(db: Database, settings: Settings) -> dict[str, str]:
    ids = store_papers(db, 70, [MONDAY, MONDAY + timedelta(days=1)])
    with db.session() as session:  # one card whose title and TL;DR hold a URL far wider than a phone
        paper = session.get(Paper, ids[0])
        assert paper is not None
        paper.title, paper.abstract = f"Code at {LONG_URL}", f"See {LONG_URL} and {'x' * 120}."
        session.add(paper)
    ada = service.add_subscriber(db, settings, "email", "ada.lovelace.with.a.long.address@example.org", confirmed=True)
    service.add_subscription(db, settings, ada.address, '"sparse autoencoder" OR interpretab* OR ' + "x" * 90)
    new = service.add_subscriber(db, settings, "email", "new.reader@example.org")
    relative = lambda url: url.split("paperbell.test", 1)[1]  # noqa: E731 (links are made before the port is known)
    return {
        "day": "/day/2026-03-02", "week": "/week/2026-W10", "month": "/month/2026-03", "search": "/search?q=sparse",
        "subscribe": "/subscribe",
        "confirm": relative(link(settings, Purpose.CONFIRM, new.id or 0, new.address)),
        "manage": relative(link(settings, Purpose.MANAGE, ada.id or 0, ada.address)),
    }


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def site(_migrated_template: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Site]:
    from playwright.async_api import async_playwright

    folder = tmp_path_factory.mktemp("browser-pages")
    settings = Settings(_env_file=None, data_dir=folder / "data",  # type: ignore[call-arg]
                        database_url=fresh_database_url(_migrated_template, folder),
                        secret_key="test-secret-key-0123456789-abcdefghij", public_url="http://paperbell.test")
    db = Database(settings.resolved_database_url())
    paths = _seed(db, settings)
    async with serve_front(settings, db) as (base, _), async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            yield Site(base, paths, browser)
        finally:
            await browser.close()
    db.dispose()


async def _open(site: Site, page: Any, name: str) -> None:
    if name != "403":
        answer = await page.goto(site.base + site.paths[name])
        assert answer.ok, f"{name}: HTTP {answer.status}"
        return
    # a form on a page of no site (the browser sends `Origin: null`): the refusal page the browser then shows
    await page.set_content(f'<form method="post" action="{site.base}/subscribe"><input name="email" '
                           'value="someone@example.org"><button>Go</button></form>')
    async with page.expect_navigation():
        await page.click("button")
    assert "PAPERBELL_PUBLIC_URL" in await page.content()


COLOURS = "[getComputedStyle(document.body).backgroundColor, getComputedStyle(document.body).color]"
OVERFLOW = "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"


@pytest.mark.parametrize("name", ["day", "week", "month", "search", "subscribe", "confirm", "manage", "403"])
async def test_a_page_fits_phones_and_desktops_in_light_and_dark(site: Site, name: str) -> None:
    context = await site.browser.new_context(viewport={"width": 390, "height": 800})
    try:
        page = await context.new_page()
        await _open(site, page, name)
        seen: dict[str, list[str]] = {}
        for scheme in ("light", "dark"):
            await page.emulate_media(color_scheme=scheme)
            for width in (390, 1200):
                await page.set_viewport_size({"width": width, "height": 800})
                scroll, client = await page.evaluate(OVERFLOW)
                assert scroll <= client, f"{name} scrolls sideways at {width} px ({scheme}): {scroll} > {client}"
            seen[scheme] = await page.evaluate(COLOURS)
        assert seen["light"][0] != seen["dark"][0] and seen["light"][1] != seen["dark"][1], f"{name}: {seen}"
    finally:
        await context.close()


async def test_the_day_page_pages_and_votes_in_the_browser(site: Site) -> None:
    context = await site.browser.new_context(viewport={"width": 390, "height": 800})
    try:
        page = await context.new_page()
        await page.goto(site.base + site.paths["day"])
        assert await page.locator("ol.papers > li").count() == 30
        await page.get_by_role("link", name="Next →").click()
        await page.wait_for_url("**?page=2")
        assert await page.locator("ol.papers > li").count() == 5
        first = page.locator("div.votes button").first
        await first.click()  # a visitor's ▲: posted from this page, back to the same card
        await page.wait_for_url("**?page=2#p*")
        assert "+1 · 1" in await page.locator("div.votes button").first.inner_text()
        await page.get_by_role("link", name="This week").click()
        await page.wait_for_url("**/week/2026-W10")
        assert "Week 10, 2026" in await page.inner_text("h1")
    finally:
        await context.close()
