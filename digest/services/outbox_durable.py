"""The ledger writes that must survive a database restart, and the recovery step that finishes them.

Used by the delivery services (digest.email.digests, digest.discord.delivery) right
after the mail server or Discord accepted a message, and by the runtime's senders for `recover`.
Once a message went out, losing its "sent" would send it again when the claim is recovered: so the
write is retried through a database outage (storage.outage); if the database stays away longer, the
rows stay held in this process (digest.services.outbox_holds) and the next `recover` writes them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TypeVar

from digest.services import outbox, outbox_holds
from digest.services.outbox_liveness import DEFAULT_GRACE_SECONDS
from storage.db import Database
from storage.outage import DEFAULT_OUTAGE_SECONDS, is_outage, through_outage
from storage.types import utcnow

log = logging.getLogger(__name__)
T = TypeVar("T")


def mark_sent_durably(db: Database, delivery_ids: Sequence[int], message_id: str | None = None, *,
                      now: datetime | None = None, outage_seconds: float = DEFAULT_OUTAGE_SECONDS) -> int:
    """`outbox.mark_sent`, retried through a database outage; on giving up the rows stay held and are
    recorded by the next `recover` (never released to another sender). Blocking: run via `Database.run`."""
    ids = list(delivery_ids)
    when = now or utcnow()
    return sent_durably(lambda: outbox.mark_sent(db, ids, message_id, now=when), ids, message_id,
                        outage_seconds=outage_seconds)


def sent_durably(write: Callable[[], T], delivery_ids: Sequence[int], message_id: str | None, *,
                 outage_seconds: float = DEFAULT_OUTAGE_SECONDS) -> T:
    """Run `write`, one transaction that records `delivery_ids` as sent (and maybe more), retried through a
    database outage; on giving up the rows stay held in this process and the next `recover` records them."""
    try:
        return through_outage(write, seconds=outage_seconds, what="recording a sent message")
    except Exception as exc:
        if is_outage(exc):
            outbox_holds.sent_but_unrecorded(delivery_ids, message_id)
            log.error("outbox: %d deliveries were sent but the database is unavailable; they stay claimed "
                      "by this process and are recorded as sent once it is back", len(delivery_ids))
        raise


def record_unrecorded(db: Database) -> int:
    """Write as sent what was accepted while the database was away; returns how many rows."""
    written = 0
    for message_id, ids in outbox_holds.unrecorded().items():
        outbox.mark_sent(db, ids, message_id)
        written += len(ids)
    return written


def recover(db: Database, *, grace_seconds: float = DEFAULT_GRACE_SECONDS) -> int:
    """One recovery step: finish unrecorded sends, then return stranded and dead claimers' rows to pending."""
    recorded = record_unrecorded(db)
    if recorded:
        log.warning("outbox: %d deliveries sent during a database outage recorded as sent", recorded)
    return outbox.recover_abandoned(db, grace_seconds=grace_seconds)
