"""Subscribing from the page over HTTP: double opt-in through a real SMTP server, every abuse limit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from digest.services import subscribers as service
from digest.settings import Settings
from storage.db import Database
from tests.digest.email.smtp_double import SmtpDouble
from tests.digest.web.front import ORIGIN, asgi_client, confirm_link, store_papers

FORM = {"email": "ada@example.org", "query": '"sparse autoencoder" OR diffusion', "schedule": "daily",
        "hour": "7", "weekday": "0", "timezone": "Europe/Berlin", "website": ""}


@pytest.fixture
async def client(web_settings: Settings, db: Database) -> AsyncIterator[httpx.AsyncClient]:
    async for http in asgi_client(web_settings, db):
        yield http


async def post(client: httpx.AsyncClient, **changes: str) -> httpx.Response:
    return await client.post("/subscribe", data={**FORM, **changes}, headers=ORIGIN)


async def test_subscribe_confirms_through_a_real_mail(
    client: httpx.AsyncClient, db: Database, smtp: SmtpDouble
) -> None:
    page = await client.get("/subscribe?q=diffusion")
    assert page.status_code == 200 and ">diffusion</textarea>" in page.text and 'name="website"' in page.text
    answer = await post(client)
    assert answer.status_code == 200 and "Check your inbox" in answer.text
    [mail] = smtp.recorder.to("ada@example.org")
    subscriber = service.get_subscriber(db, "ada@example.org")
    assert subscriber.confirmed_at is None and subscriber.timezone == "Europe/Berlin" and subscriber.digest_hour == 7
    [subscription] = service.list_subscriptions(db, subscriber_id=subscriber.id)
    assert subscription.query == FORM["query"] and subscription.created_by == "web"
    link = confirm_link(mail.raw, "http://paperbell.test").removeprefix("http://paperbell.test")
    assert (await client.post(link)).status_code == 200
    assert service.get_subscriber(db, "ada@example.org").confirmed_at is not None


async def test_the_answer_does_not_tell_whether_an_address_is_subscribed(
    client: httpx.AsyncClient, db: Database, web_settings: Settings, smtp: SmtpDouble
) -> None:
    service.add_subscriber(db, web_settings, "email", "old@example.org", confirmed=True)
    known = await post(client, email="old@example.org")
    unknown = await post(client, email="new@example.org")
    assert known.status_code == unknown.status_code == 200 and known.text == unknown.text
    # the confirmed address got no query from a stranger, only an "already subscribed — manage here" mail
    [again] = smtp.recorder.to("old@example.org")
    assert str(again.message["Subject"]) == "You are already subscribed to paperbell"
    assert "/manage/" in again.message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert len(smtp.recorder.to("new@example.org")) == 1
    assert service.list_subscriptions(db, subscriber_id=service.get_subscriber(db, "old@example.org").id) == []


@pytest.mark.parametrize(
    ("changes", "line"),
    [
        ({"email": "not-an-address"}, "not an e-mail address"),
        ({"email": "a@b"}, "not an e-mail address"),
        ({"email": "x" * 400 + "@example.org"}, "too long"),
        ({"query": '"unclosed'}, "invalid query"),
        ({"hour": "24"}, "hour"),
        ({"hour": "-1"}, "hour"),
        ({"hour": "²"}, "hour"),
        ({"weekday": "9"}, "weekday"),
        ({"schedule": "hourly"}, "daily or weekly"),
        ({"timezone": "Mars/Olympus"}, "time zone"),
    ],
)
async def test_invalid_input_is_refused_with_one_line(
    client: httpx.AsyncClient, db: Database, smtp: SmtpDouble, changes: dict[str, str], line: str
) -> None:
    answer = await post(client, **changes)
    assert answer.status_code == 400 and 'role="alert"' in answer.text and line in answer.text
    assert service.list_subscribers(db) == [] and smtp.recorder.received == []


async def test_head_never_subscribes(client: httpx.AsyncClient, db: Database, smtp: SmtpDouble) -> None:
    answer = await client.request("HEAD", "/subscribe", data=FORM, headers=ORIGIN)
    assert answer.status_code == 200 and service.list_subscribers(db) == [] and smtp.recorder.received == []


async def test_the_honeypot_is_answered_like_success_and_does_nothing(
    client: httpx.AsyncClient, db: Database, smtp: SmtpDouble
) -> None:
    answer = await post(client, website="http://spam.example")
    assert answer.status_code == 200 and "Check your inbox" in answer.text
    assert service.list_subscribers(db) == [] and smtp.recorder.received == []


@pytest.mark.parametrize(
    "headers",
    [{}, {"origin": "https://evil.example"}, {"origin": "null"}, {"referer": "http://paperbell.test.evil.example/x"},
     {"origin": "http://paperbell.test:8443"}],
)
async def test_cross_site_posts_are_refused(
    client: httpx.AsyncClient, db: Database, headers: dict[str, str]
) -> None:
    answer = await client.post("/subscribe", data=FORM, headers=headers)
    assert answer.status_code == 403 and service.list_subscribers(db) == []


async def test_a_referer_from_this_site_is_enough(client: httpx.AsyncClient, db: Database) -> None:
    answer = await client.post("/subscribe", data=FORM, headers={"referer": "http://paperbell.test/subscribe"})
    assert answer.status_code == 200 and len(service.list_subscribers(db)) == 1


async def test_per_address_and_per_ip_limits(
    db: Database, web_settings: Settings, smtp: SmtpDouble
) -> None:
    limited = web_settings.model_copy(update={"web_subscribe_per_ip_per_hour": 4,
                                              "web_subscribe_per_address_per_day": 2})
    async for client in asgi_client(limited, db):
        answers = [await post(client, query=f"topic{n}") for n in range(3)]  # one address, three posts
        assert [a.status_code for a in answers] == [200, 200, 200] and answers[1].text == answers[2].text
        assert len(smtp.recorder.to("ada@example.org")) == 2  # the third post sent nothing
        assert (await post(client, email="bob@example.org")).status_code == 200
        refused = await post(client, email="eve@example.org")  # the fifth post from one IP
        assert refused.status_code == 429 and smtp.recorder.to("eve@example.org") == []


async def test_preview_counts_the_last_week(client: httpx.AsyncClient, db: Database) -> None:
    store_papers(db, 30, [datetime.now(UTC).date() - timedelta(days=1)])  # the preview looks back from now
    ok: dict[str, Any] = (await client.get("/api/preview", params={"q": "sparse"})).json()
    assert ok["ok"] and ok["count"] >= 1 and ok["days"] == 7 and 1 <= len(ok["examples"]) <= 3
    bad = await client.get("/api/preview", params={"q": "a AND"})
    assert bad.status_code == 400 and not bad.json()["ok"] and "position" in bad.json()["error"]


async def test_a_web_subscription_backfills_recent_matches_like_the_cli_and_the_bot(
    client: httpx.AsyncClient, db: Database, web_settings: Settings
) -> None:
    from digest.services.outbox_counts import pending_counts
    from digest.services.preview import preview_query

    store_papers(db, 40, (datetime.now(UTC).date(),))
    expected = preview_query(db, web_settings, "llm", days=web_settings.subscription_backfill_days, limit=0).count
    assert expected > 0
    page = await client.get("/subscribe")
    days = web_settings.subscription_backfill_days
    assert f"Your first digest also includes the matching papers of the last {days} days." in page.text
    answer = await post(client, query="llm")
    assert answer.status_code == 200
    assert pending_counts(db).get("email", 0) == expected  # queued for the first digest after confirmation
