"""Group commit of "sent": the messages accepted meanwhile are recorded in one transaction, not several each.

Used by the e-mail digest service (digest.email.digests). A send that was accepted calls `record` and
waits until its rows are written; one writer takes everything queued while the previous write ran and
records it in ONE transaction of Core statements: the rows as sent (first), the subscribers' digest
periods as used up, and the lifecycle updates and silence notes the messages told (digest_extras). The
transaction is retried through a database outage; if the database stays away, the rows stay held in this
process and the next recovery records them (digest.services.outbox_durable.sent_durably). Should the
group's transaction fail otherwise, its parts are written one by one, "sent" first, so a problem with a
period or a notice never undoes a "sent". The caller keeps its in-flight slot until its write is done,
so the bound on messages accepted by the server but not yet recorded (what a kill -9 can duplicate) is
unchanged; groups are therefore at most `smtp_concurrency` messages.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from digest.services import outbox_holds
from digest.services.digest_extras import DigestExtras, record_shown, record_shown_on
from digest.services.outbox import mark_sent_on
from digest.services.outbox_durable import mark_sent_durably, sent_durably
from digest.services.subscribers import record_digests_sent, record_digests_sent_on
from storage.db import Database
from storage.outage import is_outage, storage_reason, through_outage
from storage.types import utcnow

log = logging.getLogger(__name__)


@dataclass
class _Waiting:
    delivery_ids: Sequence[int]
    subscriber_id: int
    shown: DigestExtras | None
    done: asyncio.Future[None]


def write_sent(db: Database, delivery_ids: Sequence[int], subscriber_ids: Sequence[int], period: datetime,
               outage_seconds: float, shown: Sequence[tuple[int, DigestExtras]] = ()) -> None:
    """One group in one transaction: its rows as sent, its subscribers' periods, what its messages told."""
    ids, now = list(delivery_ids), utcnow()
    told = [(sid, extras) for sid, extras in shown if extras.updates or extras.silent]

    def group() -> None:
        with db.transaction() as connection:
            if ids:  # first: should anything below fail, nothing was written
                mark_sent_on(connection, ids, None, now)
            if subscriber_ids:
                record_digests_sent_on(connection, subscriber_ids, period)
            if told:
                record_shown_on(connection, db, told, period)
        outbox_holds.recorded(ids)

    try:
        if ids:
            sent_durably(group, ids, None, outage_seconds=outage_seconds)
        else:
            through_outage(group, seconds=outage_seconds, what="recording the digest slot")
    except Exception as exc:
        if is_outage(exc):
            raise
        log.warning("sent group write failed (%s); writing its parts one by one", storage_reason(exc))
        _write_apart(db, ids, subscriber_ids, period, outage_seconds, told, now)


def _write_apart(db: Database, ids: list[int], subscriber_ids: Sequence[int], period: datetime,
                 outage_seconds: float, told: Sequence[tuple[int, DigestExtras]], now: datetime) -> None:
    """The group's parts, each in its own transaction, "sent" first: a lost "sent" would be a resend."""
    if ids:
        mark_sent_durably(db, ids, None, now=now, outage_seconds=outage_seconds)
    through_outage(lambda: record_digests_sent(db, subscriber_ids, period), seconds=outage_seconds,
                   what="recording the digest slot")
    for subscriber_id, extras in told:  # each update told once, through a database restart like the slot
        through_outage(lambda: record_shown(db, subscriber_id, extras, period),  # noqa: B023 - called at once
                       seconds=outage_seconds, what="recording the updates told")


class SentRecorder:
    """Queues accepted messages' rows and writes them in groups; one per delivery pass."""

    def __init__(self, db: Database, period: datetime, outage_seconds: float) -> None:
        self.db, self.period, self.outage_seconds = db, period, outage_seconds
        self._queue: list[_Waiting] = []
        self._writer: asyncio.Task[None] | None = None
        self.groups = 0  # writes done (the figures a test or benchmark reads)
        self.recorded = 0  # messages and empty periods in them: recorded / groups is the mean group

    async def record(self, delivery_ids: Sequence[int], subscriber_id: int, shown: DigestExtras | None = None) -> None:
        """Rows of one accepted message (none: a period used up with nothing sent) and the extras it told;
        returns once written.

        The write is not cancelled with the caller: a message the server accepted is recorded even if
        the pass that sent it is being cancelled at shutdown.
        """
        waiting = _Waiting(list(delivery_ids), subscriber_id, shown, asyncio.get_running_loop().create_future())
        self._queue.append(waiting)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._drain())
        await asyncio.shield(waiting.done)

    async def _drain(self) -> None:
        while self._queue:
            group, self._queue = self._queue, []
            ids = [i for w in group for i in w.delivery_ids]
            subscribers = sorted({w.subscriber_id for w in group})
            shown = [(w.subscriber_id, w.shown) for w in group if w.shown is not None]
            try:
                await self.db.run(write_sent, self.db, ids, subscribers, self.period, self.outage_seconds, shown)
            except BaseException as exc:  # every waiter of this group learns it; the next group is tried afresh
                for w in group:
                    if not w.done.done():
                        w.done.set_exception(exc)
                if not isinstance(exc, Exception):
                    raise
            else:
                for w in group:
                    if not w.done.done():
                        w.done.set_result(None)
            self.groups += 1
            self.recorded += len(group)
