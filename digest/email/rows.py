"""The e-mail service's blocking queries on subscribers and the ledger (run them via `Database.run`).

Used by digest.email.digests: which e-mail subscribers to look at, one claim for a batch of due
subscribers, whether any of a subscriber's rows is still undelivered (and, for a batch's empty digests,
whose trending day was quiet), rows cut by the size cap going back unclaimed, and when the
confirmation mail went out. (A subscriber's pending rows: digest.services.outbox.pending_rows.)
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import bindparam, update
from sqlmodel import col, select

from digest.core.schedule import is_due
from digest.services import match_sets, outbox, trending
from digest.services.errors import InvalidInput
from digest.services.subscribers import get_subscriber
from storage.db import Database, unindexed
from storage.models import Delivery, DeliveryStatus, Subscriber, SubscriberKind
from storage.outage import is_outage
from storage.types import utcnow

log = logging.getLogger(__name__)


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


_D = Delivery.__table__  # type: ignore[attr-defined]
# Built once (run for every digest cut by the size cap); the ids are looked up by primary key, never by
# scanning the status index (storage.db.unindexed).
_UNCLAIM = (
    update(_D)
    .where(_D.c.id.in_(bindparam("ids", expanding=True)), unindexed(_D.c.status) == DeliveryStatus.SENDING.value)
    .values(status=DeliveryStatus.PENDING.value, message_id=None, claimed_by=None, claimed_at=None)
)


def unclaim_held_back(db: Database, delivery_ids: Sequence[int]) -> None:
    """Rows cut by the size cap were never sent: back to PENDING WITHOUT the message id, so the
    next digest (different content) gets a fresh Message-ID. Not an attempt, so attempts stay."""
    if not delivery_ids:
        return
    with db.transaction() as connection:
        connection.execute(_UNCLAIM, {"ids": list(delivery_ids)})


def has_undelivered(db: Database, subscriber_id: int) -> bool:
    """True when the subscriber still has PENDING or SENDING rows (held by another sender, or added meanwhile),
    or matches recorded meanwhile and not expanded yet."""
    return subscriber_id in undelivered_among(db, [subscriber_id])


def undelivered_among(db: Database, subscriber_ids: Sequence[int]) -> set[int]:
    """Those of these subscribers for whom `has_undelivered` holds, in one session."""
    wanted = sorted(set(subscriber_ids))
    if not wanted:
        return set()
    with db.session() as session:
        found = set(session.exec(
            select(Delivery.subscriber_id)
            .where(col(Delivery.subscriber_id).in_(wanted),
                   col(Delivery.status).in_([DeliveryStatus.PENDING.value, DeliveryStatus.SENDING.value]))
            .distinct()
        ).all())
        found.update(i for i in wanted if i not in found and match_sets.waiting_for(session, [i]))
    return found


@dataclass
class Unclaimed:
    """Of a batch's due subscribers for whom nothing was claimed: who is busy, whose trending day was quiet.
    What is not known here (not read, or its read failed) the caller reads for that subscriber alone."""

    busy: set[int] | None = None  # rows held by another sender, or new: the slot is not used up
    quiet: dict[int, bool] = field(default_factory=dict)  # a trending subscription found nothing today


def unclaimed_facts(db: Database, subscriber_ids: Sequence[int], now: datetime, *, quiet: bool) -> Unclaimed:
    """What the empty digests of a batch depend on, read in one worker thread (not two hops per subscriber);
    `quiet=False` skips the quiet-day look-up (a pass that spends no empty slot never tells of one)."""
    facts = Unclaimed()
    try:
        facts.busy = busy = undelivered_among(db, subscriber_ids)
        for subscriber_id in subscriber_ids if quiet else ():
            if subscriber_id not in busy:
                facts.quiet[subscriber_id] = trending.quiet_today(db, subscriber_id, now)
    except Exception as exc:  # what is left unknown is read for each subscriber alone, whose failure stays theirs
        if is_outage(exc):
            raise
        log.exception("empty digests of %d subscribers could not be looked at together", len(subscriber_ids))
    return facts


def claim_due_batch(
    db: Database, subscribers: Sequence[Subscriber], now: datetime, *, worker: str, recheck_due: bool,
    limit_each: int, message_id_domain: str,
) -> tuple[set[int], list[outbox.ClaimedDelivery]]:
    """One claim for many subscribers: (those still due, their claimed rows; one message id each).

    With `recheck_due`, each subscriber's last digest is read again first: another sender may have
    served them since this pass listed them, and they are then left alone rather than looked at twice.
    The whole call counts as a claim in flight, that read included: a pass cancelled at shutdown leaves
    this thread running, and the shutdown's release must wait for it, not run while it is still reading.
    """
    with outbox.claim_in_flight():
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
