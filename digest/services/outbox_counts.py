"""How much the ledger holds, for `paperbell status`, /ops/status and /metrics (reads only).

Matches recorded but not yet expanded into ledger rows (`match_sets`) count as pending: they are
undelivered work all the same.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from digest.services import match_sets
from storage.db import Database
from storage.models import Delivery, DeliveryStatus, Subscriber
from storage.types import utcnow

_D = Delivery.__table__  # type: ignore[attr-defined]
_S = Subscriber.__table__  # type: ignore[attr-defined]


def pending_counts(db: Database) -> dict[str, int]:
    """Undelivered rows (PENDING or SENDING) per subscriber kind, e.g. {"email": 12, "discord_channel": 3}."""
    with db.session() as session:
        rows = session.execute(
            select(_S.c.kind, func.count())
            .select_from(_D.join(_S, _S.c.id == _D.c.subscriber_id))
            .where(_D.c.status.in_([DeliveryStatus.PENDING.value, DeliveryStatus.SENDING.value]))
            .group_by(_S.c.kind)
        ).all()
        counts = {str(kind): int(count) for kind, count in rows}
        for kind, waiting in match_sets.waiting_by_kind(session).items():
            counts[kind] = counts.get(kind, 0) + waiting
    return counts


def status_counts(db: Database) -> dict[str, int]:
    """Ledger rows per status (pending, sending, sent, failed); matches not expanded yet count as pending."""
    with db.session() as session:
        rows = session.execute(select(_D.c.status, func.count()).group_by(_D.c.status)).all()
        waiting = sum(match_sets.waiting_by_kind(session).values())
    counts = {str(status): int(count) for status, count in rows}
    if waiting:
        counts[DeliveryStatus.PENDING.value] = counts.get(DeliveryStatus.PENDING.value, 0) + waiting
    return counts


def oldest_pending_age(db: Database, now: datetime | None = None) -> float | None:
    """Seconds since the oldest undelivered row was created, or None when the outbox is empty."""
    with db.session() as session:
        oldest = session.execute(
            select(func.min(_D.c.created_at)).where(
                _D.c.status.in_([DeliveryStatus.PENDING.value, DeliveryStatus.SENDING.value])
            )
        ).scalar()
        recorded = match_sets.oldest(session)
    oldest = min((t for t in (oldest, recorded) if t is not None), default=None)
    if oldest is None:
        return None
    return max(0.0, ((now or utcnow()) - oldest).total_seconds())
