"""One confirmation mail per request, whoever sends it: an atomic claim on the subscriber row, and a global cap.

Used by digest.email.digests.send_confirmation, which the subscribe form's background task,
the CLI (`subscribers add`, `digest confirm-mail`) and the worker's pass all go through. A sender first
moves `confirmation_sent_at` from the value it saw to "now" in one conditional UPDATE: of several
senders that saw the same value (the form and a worker racing for a new subscriber) exactly one wins,
and a sender that saw "never sent" loses to one that already sent. A failed send puts the old value back.

The global cap (`confirmation_mails_per_hour`) counts subscribers mailed within the last hour, across
every process; over it the mail waits (the worker's next passes send it once the hour frees up) and
one warning line says so.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import func, select, update

from storage.db import Database
from storage.models import Subscriber

log = logging.getLogger(__name__)
_S = Subscriber.__table__  # type: ignore[attr-defined]
_CAP_LOG_EVERY = 300.0  # seconds between two "cap reached" lines of one process
_last_cap_log = [0.0]


class Claim(StrEnum):
    CLAIMED = "claimed"  # this caller sends the mail
    ALREADY_SENT = "already_sent"  # someone else sent it since the caller looked (or is sending it)
    CAPPED = "capped"  # the hourly cap is reached: nothing sent, the worker sends it later


def claim_confirmation(db: Database, subscriber_id: int, seen_sent_at: datetime | None, now: datetime,
                       per_hour_cap: int) -> Claim:
    """Move `confirmation_sent_at` from `seen_sent_at` to `now` if nobody else did; say who sends."""
    with db.session() as session:
        if per_hour_cap > 0:
            recent = session.execute(
                select(func.count()).select_from(_S).where(_S.c.confirmation_sent_at >= now - timedelta(hours=1))
            ).scalar_one()
            if recent >= per_hour_cap:
                _log_cap(per_hour_cap, subscriber_id)
                return Claim.CAPPED
        column = _S.c.confirmation_sent_at
        seen = column.is_(None) if seen_sent_at is None else column == seen_sent_at
        result = session.execute(
            update(_S).where(_S.c.id == subscriber_id, seen)
            .values(confirmation_sent_at=now)
        )
        return Claim.CLAIMED if result.rowcount else Claim.ALREADY_SENT  # type: ignore[attr-defined]


def unclaim_confirmation(db: Database, subscriber_id: int, claimed_at: datetime, previous: datetime | None) -> None:
    """The mail did not go out: put the previous value back (only if the claim is still ours)."""
    with db.session() as session:
        session.execute(
            update(_S).where(_S.c.id == subscriber_id, _S.c.confirmation_sent_at == claimed_at)
            .values(confirmation_sent_at=previous)
        )


def _log_cap(cap: int, subscriber_id: int) -> None:
    if time.monotonic() - _last_cap_log[0] < _CAP_LOG_EVERY:
        return
    _last_cap_log[0] = time.monotonic()
    log.warning("confirmation mails: the cap of %d per hour (PAPERBELL_CONFIRMATION_MAILS_PER_HOUR) is reached; "
                "subscriber #%d and later ones wait, the worker sends their mails as the hour frees up",
                cap, subscriber_id)
