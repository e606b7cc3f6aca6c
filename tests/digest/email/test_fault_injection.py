"""Fault injection: one poisoned subscriber, record or SMTP reply among healthy ones, real aiosmtpd, real database.

Each case asserts: every healthy subscriber receives exactly one digest in the period (and on the
first pass, unless the case deliberately hits the network), the poison ends refused at the door or
isolated (paused with its reason, or delivered safely), and no ledger row is left in `sending`.
"""

from __future__ import annotations

import math
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlmodel import col, select

from digest.email.digests import DigestResult, send_due_digests
from digest.email.send import SmtpTransport
from digest.services import subscribers as subscriber_service
from digest.services.errors import InvalidInput
from digest.settings import Settings
from storage.db import Database
from storage.models import Delivery, Paper, Subscriber
from tests.conftest import POSTGRES_URL
from tests.digest.email.conftest import NOW
from tests.digest.email.smtp_double import SmtpRecorder

HEALTHY = [f"h{n:02d}@example.org" for n in range(12)]
POISON = "poison@example.org"
PASS_STEP = timedelta(minutes=11)  # passes stay inside the same daily period (slot 08:00, NOW 09:00)


@dataclass(frozen=True)
class Case:
    name: str
    address: str  # what is stored (bypassing the door, as a row from an older version would be)
    door: str | None  # the one-line refusal `subscribers add` now gives, or None when the door accepts it
    expect: str  # "paused" (with `reason` in pause_reason) or "sent" (delivered safely)
    reason: str = ""
    confirmed: bool = True
    display_name: str | None = None
    extras: dict[str, object] | None = None
    abs_url: str | None = None
    plan: tuple[str, ...] = ()
    drop_data: int = 0
    sqlite_only: bool = False
    authors: tuple[object, ...] = ()  # the poison's paper's authors as stored (JSON: anything)


CASES = [
    Case("unconfirmed non-ASCII address", "üser@exämple.org", "Internationalized characters", "paused",
         "undeliverable address", confirmed=False),
    Case("confirmed non-ASCII address", "üser@exämple.org", "Internationalized characters", "paused",
         "undeliverable address"),
    Case("two addresses in one", "x3,evil3@evil.test", "invalid characters before the @-sign", "paused",
         "undeliverable address"),
    Case("quote in the local part", 'q"11@example.org', "not an e-mail address", "paused", "undeliverable address"),
    Case("CR/LF in the display name", POISON, None, "sent", display_name="Eve\r\nBcc: evil@evil.test"),
    Case("javascript: link from a source", POISON, None, "sent", abs_url="javascript:alert(document.cookie)"),
    Case("Infinity upvotes stored before ingest refused it", POISON, None, "sent",
         extras={"upvotes": math.inf}, sqlite_only=True),  # PostgreSQL's jsonb cannot even store it
    Case("451 on every attempt", POISON, None, "paused", "failed delivery attempts; last: recipient refused: 451",
         plan=("451 4.3.0 try again later",) * 20),
    Case("550 on every attempt", POISON, None, "paused", "permanent delivery failures; last: recipient refused: 550",
         plan=("550 5.1.1 no such user",) * 20),
    Case("connection dropped at DATA", POISON, None, "sent", drop_data=2),
    # claimed, loaded and built in one batch with the healthy subscribers: only the poison's digest fails
    Case("author names that are not text", POISON, None, "paused", "building the digest failed", authors=(12345,)),
]


def _store(db: Database, case: Case) -> int:
    """The healthy subscribers and the poison, each with one pending paper; returns the poison's id."""
    with db.session() as session:
        people = [Subscriber(kind="email", address=a, confirmed_at=NOW - timedelta(days=2)) for a in HEALTHY]
        poison = Subscriber(kind="email", address=case.address, display_name=case.display_name,
                            confirmed_at=NOW - timedelta(days=2) if case.confirmed else None)
        for person in [*people, poison]:
            person.created_at = NOW - timedelta(days=2)
            session.add(person)
            session.flush()
            paper = Paper(canonical_id=f"hash:{uuid.uuid4().hex[:16]}", title=f"Paper for {person.address}",
                          abstract="Sparse coding.", published_at=NOW - timedelta(days=1),
                          abs_url=case.abs_url if person is poison else None,
                          extras=dict(case.extras or {}) if person is poison else {},
                          authors=list(case.authors) if person is poison else [])
            session.add(paper)
            session.flush()
            assert paper.id is not None and person.id is not None
            session.add(Delivery(subscriber_id=person.id, paper_id=paper.id, explanation={"matched_words": []}))
        assert poison.id is not None
        return poison.id


def _rows(db: Database, predicate: Callable[[Delivery], bool]) -> list[Delivery]:
    with db.session() as session:
        return [r for r in session.exec(select(Delivery).order_by(col(Delivery.id))).all() if predicate(r)]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
async def test_one_poison_never_derails_the_others(
    mail_settings: Settings, db: Database, recorder: SmtpRecorder, case: Case
) -> None:
    if case.sqlite_only and POSTGRES_URL:
        pytest.skip("PostgreSQL refuses Infinity in jsonb: such a row cannot exist there")
    settings = mail_settings.model_copy(update={
        "smtp_max_retries": 0, "email_max_failed_attempts": 3, "bounce_pause_threshold": 3,
        "email_retry_base_seconds": 60.0, "email_retry_max_seconds": 600.0,
    })
    if case.door is not None:  # refused at the door with one line
        with pytest.raises(InvalidInput, match=case.door) as refused:
            subscriber_service.add_subscriber(db, settings, "email", case.address)
        assert "\n" not in str(refused.value)
    poison_id = _store(db, case)
    recorder.plan[case.address] = list(case.plan)
    recorder.drop_data = case.drop_data

    passes: list[list[DigestResult]] = []
    for n in range(6):
        passes.append(await send_due_digests(settings, db, NOW + n * PASS_STEP,
                                             transport=SmtpTransport(settings, retry_base_delay=0.001)))
        assert _rows(db, lambda r: r.status == "sending") == [], "nothing is left in `sending`"

    got = Counter(address for mail in recorder.received for address in mail.rcpt_tos)
    assert all(got[a] == 1 for a in HEALTHY), got  # exactly one digest each in the period
    if not case.drop_data:  # nobody waits for the poison: all healthy mail went out on the first pass
        assert sum(r.status == "sent" for r in passes[0]) >= len(HEALTHY)
    with db.session() as session:
        poison = session.get(Subscriber, poison_id)
        assert poison is not None
    if case.expect == "paused":
        assert poison.paused and case.reason in (poison.pause_reason or ""), poison.pause_reason
        assert got[case.address] == 0
        assert all(r.status == "pending" for r in _rows(db, lambda r: r.subscriber_id == poison_id))
    else:
        assert got[case.address] == 1 and not poison.paused
        mail = next(m for m in recorder.received if case.address in m.rcpt_tos).message
        assert mail["Bcc"] is None and "javascript:" not in mail.as_string()
        assert all(r.status == "sent" for r in _rows(db, lambda r: r.subscriber_id == poison_id))
