"""What becomes of claimed ledger rows: sent, given back (released), failed for good, or their lease renewed.

Part of the delivery outbox (digest.services.outbox, which claims the rows and re-exports these, so
callers name `outbox.mark_sent`, `outbox.release` …). Every statement matches its rows by primary key
(`storage.db.unindexed` keeps SQLite off the status index) and only touches rows still in the status
it expects, so a row another sender already closed is left alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, update
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from digest.services import outbox_holds
from digest.services.outbox_liveness import claimer_tag
from storage.db import Database, unindexed
from storage.models import Delivery, DeliveryStatus
from storage.types import utcnow

_D = Delivery.__table__  # type: ignore[attr-defined]


def renew(db: Database, delivery_ids: Iterable[int], *, worker_id: str, now: datetime | None = None) -> int:
    """Extend the lease of rows this worker still holds (for sends longer than the lease)."""
    return _update(db, list(delivery_ids),
                   and_(_D.c.claimed_by == claimer_tag(worker_id),
                        unindexed(_D.c.status) == DeliveryStatus.SENDING.value),
                   claimed_at=now or utcnow())


def mark_sent(
    db: Database, delivery_ids: Iterable[int], message_id: str | None = None, *, now: datetime | None = None
) -> int:
    """Record rows as delivered; `message_id` (if given) replaces the claim-time id (e.g. a Discord message id)."""
    ids = list(delivery_ids)
    if not ids:
        return 0
    with db.transaction() as connection:
        written = mark_sent_on(connection, ids, message_id, now or utcnow())
    outbox_holds.recorded(ids)
    return written


# Built once: building a statement cost more CPU than running it (the ledger writes one per sent group).
_SENT = (
    update(_D)
    .where(_D.c.id.in_(bindparam("ids", expanding=True)),
           unindexed(_D.c.status).in_([DeliveryStatus.SENDING.value, DeliveryStatus.PENDING.value]))
    .values(status=DeliveryStatus.SENT.value, sent_at=bindparam("sent_at"), last_error=None)
)
_SENT_RENAMED = _SENT.values(message_id=bindparam("new_message_id"))


def mark_sent_on(connection: Connection, delivery_ids: Sequence[int], message_id: str | None, now: datetime) -> int:
    """`mark_sent`'s statement in the caller's transaction; the caller tells `outbox_holds.recorded` once it
    committed (digest.services.sent_batches writes it with the rest of a group)."""
    values = {"ids": list(delivery_ids), "sent_at": now}
    if message_id is None:
        result = connection.execute(_SENT, values)
    else:
        result = connection.execute(_SENT_RENAMED, {**values, "new_message_id": message_id})
    return int(result.rowcount or 0)


def release(db: Database, delivery_ids: Iterable[int], error: str | None = None) -> int:
    """Give claimed rows back (not sent, retry later): PENDING, attempts+1, claim cleared.

    The message id is kept: if the send had in fact reached the recipient (e.g. a timeout after
    DATA), the retry is recognisable as the same message.
    """
    ids = list(delivery_ids)
    changed = _update(db, ids, unindexed(_D.c.status) == DeliveryStatus.SENDING.value,
                      status=DeliveryStatus.PENDING.value, attempts=_D.c.attempts + 1, last_error=error,
                      claimed_by=None, claimed_at=None)
    outbox_holds.let_go(ids)
    return changed


def mark_failed(db: Database, delivery_ids: Iterable[int], error: str) -> int:
    """Give up on rows for good (permanent failure); they are never retried blindly."""
    ids = list(delivery_ids)
    changed = _update(db, ids, unindexed(_D.c.status).in_([DeliveryStatus.SENDING.value, DeliveryStatus.PENDING.value]),
                      status=DeliveryStatus.FAILED.value, attempts=_D.c.attempts + 1, last_error=error)
    outbox_holds.let_go(ids)
    return changed


def _update(db: Database, ids: list[int], still: ColumnElement[bool], **values: Any) -> int:
    """Set `values` on the rows among `ids` that are `still` as expected (matched by primary key); how many."""
    if not ids:
        return 0
    with db.session() as session:
        result = session.execute(update(_D).where(_D.c.id.in_(ids), still).values(**values))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
