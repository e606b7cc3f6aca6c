"""Subscription bombing: one mailbox behind many spellings, racing senders of one confirmation, the hourly cap.

Real SMTP double, real database (both backends). Each case counts the mails that reached the victim's
mailbox: a per-address limit on the normalised mailbox, exactly one confirmation when the form, the
CLI and the worker race for the same new subscriber, no error in the form's background work, and a
global hourly cap with one clear log line.
"""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from digest.core.mailbox import mailbox_key
from digest.email.digests import send_confirmation, send_due_digests
from digest.email.onboarding import welcome
from digest.services import confirmations
from digest.services import subscribers as service
from digest.settings import Settings
from digest.web.subscribe import SubscribeForm, subscribe_from_web
from storage.db import Database
from tests.digest.email.smtp_double import SmtpDouble
from tests.digest.web.front import ORIGIN, asgi_client

FORM = {"email": "victim@example.org", "query": "diffusion", "schedule": "daily", "hour": "7", "weekday": "0",
        "timezone": "UTC", "website": ""}


def mails_to_mailbox(smtp: SmtpDouble, address: str) -> int:
    return sum(1 for r in smtp.recorder.received if any(mailbox_key(t) == mailbox_key(address) for t in r.rcpt_tos))


@pytest.mark.parametrize(("address", "key"), [
    ("victim@example.org", "victim@example.org"),
    ("Victim+1@Example.ORG", "victim@example.org"),
    ("victim+a+b@example.org", "victim@example.org"),
    ("v.i.c.t.i.m@example.org", "v.i.c.t.i.m@example.org"),  # dots matter outside Gmail
    ("v.i.c.t.i.m+x@gmail.com", "victim@gmail.com"),
    ("Victim@GoogleMail.com", "victim@gmail.com"),
])
def test_mailbox_key(address: str, key: str) -> None:
    assert mailbox_key(address) == key


@given(st.text(alphabet="abcdefghij0123456789.-_", min_size=1, max_size=20).filter(lambda s: "+" not in s))
def test_any_plus_tag_is_the_same_mailbox(tag: str) -> None:
    assert mailbox_key(f"victim+{tag}@example.org") == mailbox_key("victim@example.org")


async def test_fifty_tagged_spellings_reach_the_mailbox_at_most_the_limit(
    db: Database, web_settings: Settings, smtp: SmtpDouble
) -> None:
    limited = web_settings.model_copy(update={"web_subscribe_per_ip_per_hour": 100,
                                              "web_subscribe_per_address_per_day": 3})
    async for client in asgi_client(limited, db):
        answers = [await client.post("/subscribe", data={**FORM, "email": f"victim+{n}@example.org"}, headers=ORIGIN)
                   for n in range(50)]
    assert {a.status_code for a in answers} == {200}  # the same answer every time
    assert mails_to_mailbox(smtp, "victim@example.org") == 3


async def test_form_cli_and_worker_racing_send_one_confirmation_each(
    db: Database, web_settings: Settings, smtp: SmtpDouble
) -> None:
    """30 new subscribers from the form and 10 from the CLI, while a worker pass runs: one mail per address."""
    saved = [subscribe_from_web(db, web_settings, SubscribeForm(f"r{n}@example.org", "diffusion", "daily", 7, 0,
                                                                "UTC")) for n in range(30)]
    added = [service.add_subscriber(db, web_settings, "email", f"c{n}@example.org") for n in range(10)]
    form_tasks = [send_confirmation(web_settings, db, s[0], seen_sent_at=s[1]) for s in saved if s is not None]
    cli_tasks = [welcome(web_settings, db, subscriber) for subscriber in added]
    await asyncio.gather(send_due_digests(web_settings, db), *form_tasks, *cli_tasks,
                         send_due_digests(web_settings, db))
    per_address = [len(smtp.recorder.to(f"r{n}@example.org")) for n in range(30)]
    per_address += [len(smtp.recorder.to(f"c{n}@example.org")) for n in range(10)]
    assert per_address == [1] * 40


async def test_concurrent_posts_for_one_address_error_free(
    db: Database, web_settings: Settings, smtp: SmtpDouble, caplog: pytest.LogCaptureFixture
) -> None:
    roomy = web_settings.model_copy(update={"web_subscribe_per_ip_per_hour": 100,
                                            "web_subscribe_per_address_per_day": 100})
    caplog.set_level(logging.ERROR)
    async for client in asgi_client(roomy, db):
        posts = [client.post("/subscribe", data={**FORM, "query": f"diffusion OR topic{n % 3}"}, headers=ORIGIN)
                 for n in range(8)]
        answers: list[httpx.Response] = await asyncio.gather(*posts)
    assert {a.status_code for a in answers} == {200}
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert 1 <= len(smtp.recorder.to("victim@example.org")) <= 8  # resends on request, never an error


async def test_hourly_cap_on_confirmation_mails_says_so_once(
    db: Database, web_settings: Settings, smtp: SmtpDouble, caplog: pytest.LogCaptureFixture
) -> None:
    capped = web_settings.model_copy(update={"confirmation_mails_per_hour": 3})
    confirmations._last_cap_log[0] = -1e9  # a cap tripped by an earlier test must not silence this one
    for n in range(6):
        service.add_subscriber(db, capped, "email", f"n{n}@example.org")
    caplog.set_level(logging.WARNING)
    results = await send_due_digests(capped, db)
    assert sorted(r.status for r in results) == ["capped"] * 3 + ["confirmation_sent"] * 3
    assert len(smtp.recorder.received) == 3
    lines = [r.getMessage() for r in caplog.records if "PAPERBELL_CONFIRMATION_MAILS_PER_HOUR" in r.getMessage()]
    assert len(lines) == 1 and "cap of 3 per hour" in lines[0]
    assert sum(1 for s in service.list_subscribers(db, kind="email") if s.confirmation_sent_at is None) == 3
