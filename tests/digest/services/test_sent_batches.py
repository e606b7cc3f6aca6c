"""Group commit of "sent" and one claim per batch of due subscribers, on a real database."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import update
from sqlmodel import col, select

from digest.email.rows import claim_due_batch
from digest.services import outbox
from digest.services.sent_batches import SentRecorder
from digest.settings import Settings
from storage.db import Database
from storage.models import Delivery, DeliveryStatus, Subscriber
from storage.types import utcnow
from tests.digest.services.test_outbox import seed


def test_messages_accepted_together_are_recorded_in_one_write(db: Database, settings: Settings) -> None:
    ids = seed(db, subscribers={f"r{i}@example.org": "email" for i in range(10)}, papers=2)
    claimed = outbox.claim(db, worker_id="w", kind="email")
    now = utcnow()
    recorder = SentRecorder(db, now, settings.database_outage_seconds)

    async def all_accepted() -> None:
        by_subscriber: dict[int, list[int]] = {}
        for row in claimed:
            by_subscriber.setdefault(row.subscriber_id, []).append(row.delivery_id)
        await asyncio.gather(*(recorder.record(rows, sid) for sid, rows in by_subscriber.items()))

    asyncio.run(all_accepted())
    assert recorder.groups == 1  # ten messages, one write
    with db.session() as session:
        assert {d.status for d in session.exec(select(Delivery))} == {DeliveryStatus.SENT.value}
        served = session.exec(select(Subscriber.id, Subscriber.last_digest_at)).all()
    assert {sid for sid, at in served if at is not None} == set(ids.values())


def test_a_subscriber_served_by_another_sender_meanwhile_is_left_alone(db: Database) -> None:
    seed(db, subscribers={"a@example.org": "email", "b@example.org": "email"}, papers=2)
    yesterday = utcnow() - timedelta(days=2)
    with db.session() as session:
        session.execute(update(Subscriber).values(confirmed_at=yesterday, created_at=yesterday,
                                                  digest_hour=utcnow().hour))
        listed = list(session.exec(select(Subscriber).order_by(col(Subscriber.id))))
        session.expunge_all()
    a, b = listed
    with db.session() as session:  # another sender served `a` after this pass listed it
        session.execute(update(Subscriber).where(col(Subscriber.id) == a.id).values(last_digest_at=utcnow()))
    due, claimed = claim_due_batch(db, listed, utcnow(), worker="w", recheck_due=True, limit_each=100,
                                   message_id_domain="example.org")
    assert due == {b.id}
    assert {row.subscriber_id for row in claimed} == {b.id}
    assert len({row.message_id for row in claimed}) == 1  # one message for b's two papers
