"""The e-mail service's blocking queries on subscribers and the ledger (run them via `Database.run`).

Used by digest.email.digests: which e-mail subscribers to look at, one claim for a batch of due
subscribers, whether any of a
subscriber's rows is still undelivered, rows cut by the size cap going back unclaimed, and when the
confirmation mail went out. (A subscriber's pending rows: digest.services.outbox.pending_rows.)
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import update
from sqlmodel import col, select

from digest.core.schedule import is_due
from digest.services import match_sets, outbox
from digest.services.errors import InvalidInput
from digest.services.subscribers import get_subscriber
from storage.db import Database
from storage.models import Delivery, DeliveryStatus, Subscriber, SubscriberKind
from storage.types import utcnow


def email_subscribers(db: Database, ref: str | int | None) -> list[Subscriber]:
    if ref is not None:
        subscriber = get_subscriber(db, ref)
        if subscriber.kind != SubscriberKind.EMAIL:
            raise InvalidInput(f"subscriber {subscriber.address!r} is not an e-mail subscriber")
        return [subscriber]
    with db.session() as session:
        return list(
            session.exec(
                select(Subscriber)
                .where(Subscriber.kind == SubscriberKind.EMAIL.value, col(Subscriber.paused).is_(False))
                .order_by(col(Subscriber.id))
            ).all()
        )


def unclaim_held_back(db: Database, delivery_ids: Sequence[int]) -> None:
    """Rows cut by the size cap were never sent: back to PENDING WITHOUT the message id, so the
    next digest (different content) gets a fresh Message-ID. Not an attempt, so attempts stay."""
    if not delivery_ids:
        return
    with db.session() as session:
        session.execute(
            update(Delivery)
            .where(col(Delivery.id).in_(list(delivery_ids)), col(Delivery.status) == DeliveryStatus.SENDING.value)
            .values(status=DeliveryStatus.PENDING.value, message_id=None, claimed_by=None, claimed_at=None)
        )


def has_undelivered(db: Database, subscriber_id: int) -> bool:
    """True when the subscriber still has PENDING or SENDING rows (held by another sender, or added meanwhile),
    or matches recorded meanwhile and not expanded yet."""
    with db.session() as session:
        if match_sets.waiting_for(session, [subscriber_id]):
            return True
        return session.exec(
            select(Delivery.id)
            .where(
                Delivery.subscriber_id == subscriber_id,
                col(Delivery.status).in_([DeliveryStatus.PENDING.value, DeliveryStatus.SENDING.value]),
            )
            .limit(1)
        ).first() is not None


def claim_due_batch(
    db: Database, subscribers: Sequence[Subscriber], now: datetime, *, worker: str, recheck_due: bool,
    limit_each: int, message_id_domain: str,
) -> tuple[set[int], list[outbox.ClaimedDelivery]]:
    """One claim for many subscribers: (those still due, their claimed rows; one message id each).

    With `recheck_due`, each subscriber's last digest is read again first: another sender may have
    served them since this pass listed them, and they are then left alone rather than looked at twice.
    """
    wanted = {s.id: s for s in subscribers if s.id is not None}
    if recheck_due and wanted:
        with db.session() as session:
            last = dict(session.exec(
                select(Subscriber.id, Subscriber.last_digest_at).where(col(Subscriber.id).in_(list(wanted)))
            ).all())
        wanted = {i: s for i, s in wanted.items()
                  if i in last and is_due(s.model_copy(update={"last_digest_at": last[i]}), now)}
    if not wanted:
        return set(), []
    claimed = outbox.claim(
        db, worker_id=worker, subscriber_ids=list(wanted), kind=SubscriberKind.EMAIL.value,
        limit=limit_each * len(wanted), message_id_domain=message_id_domain, now=utcnow(), digest_time=now,
    )
    return set(wanted), claimed
