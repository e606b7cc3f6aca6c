"""The day page's one-field Subscribe box, from the address `paperbell run` prints, to a trending digest."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from digest.email.digests import send_due_digests
from digest.runtime.web_app import web_app
from digest.services import subscribers as service
from digest.settings import Settings
from storage.db import Database
from storage.models import Paper
from tests.digest.email.smtp_double import SmtpDouble
from tests.digest.web.front import confirm_link, mail_settings

LISTEN = "http://127.0.0.1:8080"  # what `paperbell run` logs; PAPERBELL_PUBLIC_URL stays http://localhost:8080


@pytest.fixture
def web_settings(settings: Settings, smtp: SmtpDouble) -> Settings:
    return mail_settings(settings, smtp.port, public_url="http://localhost:8080")


def client_at(settings: Settings, db: Database, base: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=web_app(settings, db), client=("127.0.0.1", 4242))
    return httpx.AsyncClient(transport=transport, base_url=base)


def todays_papers(db: Database) -> None:
    seen = datetime.now(UTC) - timedelta(hours=1)
    with db.session() as session:
        for n, upvotes in enumerate([5, 50, 20]):
            session.add(Paper(canonical_id=f"2612.{n:05d}", title=f"Trending paper {n}", abstract="Abstract.",
                              authors=["A. Author"], sources=["hf:daily"], extras={"upvotes": upvotes},
                              first_seen_at=seen, last_seen_at=seen))


def box_fields(page: str) -> dict[str, str]:
    """The fields the day page's Subscribe box posts (hidden ones with their values)."""
    form = page[page.index('<form class="trend'):]
    form = form[: form.index("</form>")]
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', form))
    assert re.findall(r'<input id="[\w-]+" name="(\w+)" type="email"', form) == ["email"]  # the one visible field
    return {**fields, "website": ""}


async def test_only_an_email_from_127_0_0_1_gives_a_trending_digest(
    web_settings: Settings, db: Database, smtp: SmtpDouble
) -> None:
    todays_papers(db)
    async with client_at(web_settings, db, LISTEN) as http:
        day = await http.get("/")
        assert day.status_code == 200 and "Get the day's trending papers in your inbox" in day.text
        answer = await http.post("/subscribe", data={**box_fields(day.text), "email": "ada@example.org"},
                                 headers={"origin": LISTEN})
        assert answer.status_code == 200 and "Check your inbox" in answer.text
        [mail] = smtp.recorder.to("ada@example.org")
        link = confirm_link(mail.raw, "http://localhost:8080").removeprefix("http://localhost:8080")
        assert (await http.post(link, headers={"origin": LISTEN})).status_code == 200
    [subscription] = service.list_subscriptions(db)
    assert subscription.query == "" and subscription.created_by == "web"
    results = await send_due_digests(web_settings, db, force=True)
    assert [r.status for r in results] == ["sent"]
    digest = smtp.recorder.to("ada@example.org")[-1].message
    text = digest.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "== Trending papers of the day ==" in text
    assert text.index("Trending paper 1") < text.index("Trending paper 2") < text.index("Trending paper 0")
    assert "Why it's here: #1 of the day's 3 papers · ▲ 50 on Hugging Face" in text


@pytest.mark.parametrize(("base", "origin"), [
    (LISTEN, "https://evil.example"),  # another site posting to this one
    ("http://evil.example", "http://evil.example"),  # another site's name rebound to this machine
])
async def test_other_sites_are_refused_with_what_to_set(
    web_settings: Settings, db: Database, smtp: SmtpDouble, base: str, origin: str
) -> None:
    async with client_at(web_settings, db, base) as http:
        answer = await http.post("/subscribe", data={"email": "ada@example.org", "query": "", "schedule": "daily",
                                                     "hour": "8", "weekday": "0", "timezone": "UTC"},
                                 headers={"origin": origin})
    assert answer.status_code == 403
    assert "PAPERBELL_PUBLIC_URL" in answer.text and "http://localhost:8080" in answer.text
    assert not smtp.recorder.received and not service.list_subscribers(db)


async def test_the_confirmation_mail_and_page_say_when_and_where_to_manage(
    web_settings: Settings, db: Database, smtp: SmtpDouble
) -> None:
    async with client_at(web_settings, db, LISTEN) as http:
        await http.post("/subscribe", data={"email": "ada@example.org", "query": "", "schedule": "daily",
                                            "hour": "7", "weekday": "0", "timezone": "Europe/Berlin", "website": ""},
                        headers={"origin": LISTEN})
        [mail] = smtp.recorder.to("ada@example.org")
        text = mail.message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
        assert re.search(r"your first digest comes on \w{3} \d\d \w{3} \d{4}, 07:00 Europe/Berlin", text)
        assert "http://localhost:8080/manage/" in text
        link = confirm_link(mail.raw, "http://localhost:8080").removeprefix("http://localhost:8080")
        done = await http.post(link)
    assert done.status_code == 200 and "Subscription confirmed" in done.text
    assert re.search(r"first digest comes <strong>on \w{3} \d\d \w{3} \d{4}, 07:00 Europe/Berlin", done.text)
    assert 'href="http://localhost:8080/manage/' in done.text
