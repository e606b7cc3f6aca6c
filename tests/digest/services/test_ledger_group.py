"""The e-mail ledger's group write (sent rows, digest periods, updates told: one transaction) and the
queries around it, on a real database."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from digest.core.assembly import QueryHealthLine, UpdateNote
from digest.email.rows import has_undelivered, unclaim_held_back, unclaimed_facts, undelivered_among
from digest.services import outbox
from digest.services.digest_extras import DigestExtras
from digest.services.sent_batches import SentRecorder, write_sent
from digest.settings import Settings
from storage.db import Database
from storage.lifecycle_models import PaperEvent, QueryHealth, UpdateNotice
from storage.models import Delivery, DeliveryStatus, Paper, Subscriber, Subscription
from storage.types import utcnow
from tests.digest.services.query_plans import plan_of, statements_run
from tests.digest.services.test_outbox import seed, statuses


def _told_extras(db: Database, subscriber_id: int) -> tuple[DigestExtras, int, int]:
    """Extras of a digest that tells one lifecycle update and one silence note: (extras, event id, subscription id)."""
    with db.session() as session:
        paper = session.exec(select(Paper)).first()
        assert paper is not None and paper.id is not None
        event = PaperEvent(paper_id=paper.id, kind="new-version", key="v2")
        subscription = Subscription(subscriber_id=subscriber_id, query="ti:quiet")
        session.add_all([event, subscription])
        session.flush()
        assert event.id is not None and subscription.id is not None
        event_id, subscription_id = event.id, subscription.id
    note = UpdateNote(event_id, paper.id, "new-version", "Paper", None, "v2 appeared")
    silent = QueryHealthLine(subscription_id, "ti:quiet", 0, silent_note=True)
    return DigestExtras([note], [silent]), event_id, subscription_id


def test_one_group_write_records_sent_rows_periods_and_what_was_told(db: Database) -> None:
    ids = seed(db, subscribers={"a@example.org": "email", "b@example.org": "email"}, papers=2)
    a, b = ids["a@example.org"], ids["b@example.org"]
    claimed = outbox.claim(db, worker_id="w", kind="email")
    extras, event_id, subscription_id = _told_extras(db, a)
    now = utcnow()
    write_sent(db, [c.delivery_id for c in claimed], [a, b], now, 5.0, [(a, extras), (b, DigestExtras())])
    assert {status for status, _ in statuses(db).values()} == {DeliveryStatus.SENT.value}
    with db.session() as session:
        served = dict(session.exec(select(Subscriber.id, Subscriber.last_digest_at)).all())
        told = session.exec(select(UpdateNotice.subscriber_id, UpdateNotice.event_id)).all()
        health = session.get(QueryHealth, subscription_id)
    assert served[a] is not None and served[b] is not None
    assert told == [(a, event_id)]
    assert health is not None and health.silent_noted_at is not None
    # told again (another sender recorded it meanwhile): the insert leaves the row alone, nothing fails
    write_sent(db, [], [a], now, 5.0, [(a, extras)])
    with db.session() as session:
        assert len(session.exec(select(UpdateNotice)).all()) == 1


def test_a_failing_notice_never_undoes_the_sent_rows_or_the_period(db: Database) -> None:
    ids = seed(db, subscribers={"a@example.org": "email"}, papers=3)
    a = ids["a@example.org"]
    claimed = outbox.claim(db, worker_id="w", kind="email")
    gone = UpdateNote(10**9, 1, "new-version", "Paper", None, "v2 appeared")  # no such event: the insert fails
    with pytest.raises(IntegrityError):
        write_sent(db, [c.delivery_id for c in claimed], [a], utcnow(), 5.0, [(a, DigestExtras([gone], []))])
    # the group's transaction failed; its parts were then written one by one, "sent" first
    assert {status for status, _ in statuses(db).values()} == {DeliveryStatus.SENT.value}
    with db.session() as session:
        subscriber = session.get(Subscriber, a)
        assert subscriber is not None and subscriber.last_digest_at is not None


def test_the_recorder_counts_its_groups_and_what_they_held(db: Database, settings: Settings) -> None:
    ids = seed(db, subscribers={f"r{i}@example.org": "email" for i in range(4)}, papers=1)
    claimed = outbox.claim(db, worker_id="w", kind="email")
    recorder = SentRecorder(db, utcnow(), settings.database_outage_seconds)

    async def accepted_together() -> None:
        await asyncio.gather(*(recorder.record([c.delivery_id], c.subscriber_id, DigestExtras()) for c in claimed))

    asyncio.run(accepted_together())
    assert (recorder.groups, recorder.recorded) == (1, len(ids))


def test_rows_are_looked_up_by_primary_key_not_by_the_status_index(db: Database) -> None:
    """SQLite's planner would otherwise walk every row in that status (thousands during a delivery pass)."""
    if db.is_postgres:
        pytest.skip("PostgreSQL plans by its statistics")
    seed(db, subscribers={"a@example.org": "email"}, papers=2)
    claimed = outbox.claim(db, worker_id="w", kind="email")
    with statements_run(db, lambda sql: sql.startswith("UPDATE deliveries")) as seen:
        outbox.mark_sent(db, [c.delivery_id for c in claimed])
        unclaim_held_back(db, [c.delivery_id for c in claimed])
    assert len(seen) == 2
    for statement in seen:
        assert "USING INTEGER PRIMARY KEY" in plan_of(db, statement), statement


def test_held_back_rows_go_back_pending_without_their_message_id(db: Database) -> None:
    seed(db, subscribers={"a@example.org": "email"}, papers=3)
    claimed = outbox.claim(db, worker_id="w", kind="email")
    unclaim_held_back(db, [claimed[-1].delivery_id])
    rows = statuses(db)
    assert rows[claimed[-1].delivery_id] == (DeliveryStatus.PENDING.value, None)
    assert {rows[c.delivery_id][0] for c in claimed[:-1]} == {DeliveryStatus.SENDING.value}


def test_empty_digests_of_a_batch_are_looked_at_in_one_read(db: Database) -> None:
    ids = seed(db, subscribers={"busy@example.org": "email", "idle@example.org": "email"}, papers=1)
    busy, idle = ids["busy@example.org"], ids["idle@example.org"]
    with db.session() as session:  # the idle subscriber's one row was delivered long ago
        session.execute(text("UPDATE deliveries SET status = :s WHERE subscriber_id = :i"),
                        {"s": DeliveryStatus.SENT.value, "i": idle})
    assert undelivered_among(db, [busy, idle]) == {busy}
    assert has_undelivered(db, busy) and not has_undelivered(db, idle)
    facts = unclaimed_facts(db, [busy, idle], utcnow(), quiet=True)
    assert facts.busy == {busy}
    assert facts.quiet == {idle: False}  # no trending subscription: no quiet-day notice
    assert unclaimed_facts(db, [idle], utcnow(), quiet=False).quiet == {}
    with db.session() as session:
        assert session.exec(select(Delivery)).all()


def test_a_batchs_claim_asks_only_about_its_own_subscribers_being_busy(db: Database) -> None:
    """Whether another sender is mid-message for a subscriber is asked of the batch's subscribers alone: every
    row a pass sends was "sending" once, and PostgreSQL's status index keeps listing those versions until
    vacuum runs (at 100,000 subscribers a claim read 1.7 million of them); per subscriber it reads a handful."""
    ids = seed(db, subscribers={"a@example.org": "email", "b@example.org": "email"}, papers=3)
    with statements_run(db, lambda sql: "deliveries.status = " in sql and "NOT IN" in sql) as seen:
        assert outbox.claim(db, worker_id="w", kind="email", subscriber_ids=[ids["a@example.org"]])
    assert seen
    busy = ("(((status)::text = 'sending'::text) AND (subscriber_id" if db.is_postgres
            else "ix_deliveries_status_subscriber (status=? AND subscriber_id=?)")
    for statement in seen:
        assert busy in plan_of(db, statement), statement
