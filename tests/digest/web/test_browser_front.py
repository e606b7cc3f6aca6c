"""The web front in a real browser: Playwright drives Debian's headless Chromium against the app under
uvicorn, with a real aiosmtpd server for the confirmation mail. Screenshots at 390 and 1200 px (and one
in dark mode) are written to artifacts/screenshots/ (gitignored) for a human look."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import feedparser
import pytest
from sqlmodel import col, select

from digest.services import subscribers as service
from digest.services.tokens import Purpose, link
from digest.settings import Settings
from storage.db import Database
from storage.models import Paper
from tests.digest.email.smtp_double import SmtpDouble
from tests.digest.web.front import confirm_link, mail_settings, serve_front, store_papers

ARTIFACTS = Path(__file__).resolve().parents[3] / "artifacts" / "screenshots"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install -y chromium)")


@pytest.fixture
async def site(settings: Settings, db: Database, smtp: SmtpDouble) -> AsyncIterator[tuple[str, Settings]]:
    today = datetime.now(UTC).date()
    store_papers(db, 45, [today, today - timedelta(days=1), today - timedelta(days=3)])
    async with serve_front(mail_settings(settings, smtp.port), db) as served:
        yield served


@pytest.fixture
async def browser(tmp_path: Path) -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        context = await playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=CHROMIUM, headless=True, args=ARGS,
            timezone_id="Asia/Tokyo", viewport={"width": 1200, "height": 900},
        )
        context.set_default_timeout(15_000)
        try:
            yield context
        finally:
            await context.close()


async def shoot(page: Any, name: str) -> None:
    """Screenshots (first screen) at phone and desktop width; the page must not scroll sideways at 390 px."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for width in (390, 1200):
        await page.set_viewport_size({"width": width, "height": 900})
        overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name} scrolls sideways at {width} px"
        await page.screenshot(path=str(ARTIFACTS / f"front-{name}-{width}.png"))  # the first screen


async def test_browse_a_day_and_search(site: tuple[str, Settings], browser: Any) -> None:
    base, _ = site
    page = await browser.new_page()
    await page.goto(base + "/")
    assert (await page.locator("ol.papers > li").count()) == 15
    await shoot(page, "day")
    await page.emulate_media(color_scheme="dark")
    await page.screenshot(path=str(ARTIFACTS / "front-day-1200-dark.png"))
    await page.emulate_media(color_scheme="light")
    await page.click("a[rel=prev]")
    await page.wait_for_url("**/day/*")
    assert "Daily papers" in await page.inner_text("h1")
    # keyboard only: the search box is labelled and reachable, Enter submits
    await page.get_by_label("Search papers").fill('sparse OR "language model"')
    await page.keyboard.press("Enter")
    await page.wait_for_url("**/search?q=*")
    assert await page.locator("mark").count() > 0
    first = page.locator("details").first
    await first.locator("summary").click()
    assert "in " in await first.inner_text()
    await shoot(page, "search")
    await page.get_by_label("Search papers").fill('"sparse autoencoder')
    await page.keyboard.press("Enter")
    alert = page.get_by_role("alert")
    assert "position" in await alert.inner_text()


async def wait_for_mail(smtp: SmtpDouble, address: str) -> bytes:
    recorder = smtp.recorder
    async with asyncio.timeout(15), recorder.arrived:
        await recorder.arrived.wait_for(lambda: bool(recorder.to(address)))
    return recorder.to(address)[0].raw


async def test_subscribe_end_to_end(site: tuple[str, Settings], browser: Any, db: Database, smtp: SmtpDouble) -> None:
    base, _ = site
    page = await browser.new_page()
    await page.goto(base + "/")
    await page.get_by_role("link", name="Subscribe").click()
    await page.wait_for_url("**/subscribe")
    assert await page.get_by_label("Time zone").input_value() == "Asia/Tokyo"  # detected from the browser
    await page.get_by_label("Your e-mail address").fill("reader@example.org")
    await page.get_by_label("Your query").fill("sparse")
    await page.get_by_role("button", name="Preview matches").click()
    await page.wait_for_selector("#preview >> text=matched in the last 7 days")
    await page.get_by_label("Hour").select_option("6")
    await shoot(page, "subscribe")
    await page.get_by_role("button", name="Subscribe", exact=True).click()
    await page.wait_for_selector("text=Check your inbox")
    raw = await wait_for_mail(smtp, "reader@example.org")
    await page.goto(confirm_link(raw, base))
    await page.get_by_role("button", name="Confirm subscription").click()
    await page.wait_for_selector("text=Subscription confirmed")
    subscriber = service.get_subscriber(db, "reader@example.org")
    assert subscriber.confirmed_at is not None and subscriber.timezone == "Asia/Tokyo" and subscriber.digest_hour == 6


async def test_edit_a_subscription_from_the_manage_page(site: tuple[str, Settings], browser: Any, db: Database) -> None:
    _, settings = site
    ada = service.add_subscriber(db, settings, "email", "ada@example.org", confirmed=True)
    subscription = service.add_subscription(db, settings, "ada@example.org", "diffusion")
    page = await browser.new_page()
    await page.goto(link(settings, Purpose.MANAGE, ada.id or 0, ada.address))
    await page.get_by_role("link", name="Edit queries").click()
    await page.wait_for_url("**/settings")
    await page.get_by_label("Query 1").fill('"sparse autoencoder" OR interpretab*')
    await page.get_by_role("button", name="Preview").click()
    await page.wait_for_selector(f"#pv{subscription.id} >> text=matched in the last")
    await page.get_by_role("button", name="Save query").click()
    await page.wait_for_selector("text=Query saved.")
    await page.get_by_label("How often").select_option("weekly")
    await page.get_by_label("Time zone").fill("Europe/Paris")
    await page.get_by_role("button", name="Save schedule").click()
    await page.wait_for_selector("text=Schedule saved.")
    await shoot(page, "manage")
    assert service.get_subscription(db, subscription.id or 0).query == '"sparse autoencoder" OR interpretab*'
    again = service.get_subscriber(db, ada.id or 0)
    assert (again.schedule, again.timezone) == ("weekly", "Europe/Paris")


async def test_follow_the_atom_link(site: tuple[str, Settings], browser: Any) -> None:
    base, _ = site
    page = await browser.new_page()
    await page.goto(base + "/")
    href = await page.get_attribute("link[rel=alternate][type='application/atom+xml']", "href")
    assert href == await page.get_by_role("link", name="Atom feed").first.get_attribute("href")
    answer = await page.request.get(base + str(href))
    feed = feedparser.parse(await answer.body())
    assert answer.ok and not feed.bozo and feed.version == "atom10" and len(feed.entries) == 45


async def test_long_words_and_urls_wrap_and_the_subscribe_box_takes_one_field(
    site: tuple[str, Settings], browser: Any, db: Database
) -> None:
    base, _ = site
    long_url = "https://example.org/" + "a-very-long-path-segment-" * 20
    with db.session() as session:  # one paper whose TL;DR holds a URL far wider than a phone
        paper = session.exec(select(Paper).order_by(col(Paper.id).desc())).first()
        assert paper is not None
        paper.abstract = f"See {long_url} and Pneumonoultramicroscopicsilicovolcanoconiosis{'x' * 80}."
        paper.title = f"Code at {long_url}"
        session.add(paper)
    page = await browser.new_page()
    await page.goto(f"{base}/day/{paper.first_seen_at.date().isoformat()}")
    assert long_url in await page.content()  # on the page, in a card
    assert await page.locator("form.trend input[type=email]").count() == 1
    assert await page.locator("form.trend input:not([type=hidden]):not([tabindex='-1'])").count() == 1
    await shoot(page, "day-long-url")
