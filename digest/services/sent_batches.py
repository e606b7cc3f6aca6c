"""Group commit of "sent": the messages accepted meanwhile are recorded in one write, not two per message.

Used by the e-mail digest service (digest.email.digests). A send that was accepted calls `record` and
waits until its rows are written; one writer takes everything queued while the previous write ran and
records it at once: the rows as sent (`mark_sent_durably`, retried through a database outage, held in
this process if the database stays away) and the subscribers' digest periods as used up
(`record_digests_sent`). The caller keeps its in-flight slot until its write is done, so the bound on
messages accepted by the server but not yet recorded (what a kill -9 can duplicate) is unchanged;
only the number of transactions falls, from two per message to two per group.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from digest.services.outbox_durable import mark_sent_durably
from digest.services.subscribers import record_digests_sent
from storage.db import Database
from storage.outage import through_outage
from storage.types import utcnow


@dataclass
class _Waiting:
    delivery_ids: Sequence[int]
    subscriber_id: int
    done: asyncio.Future[None]


def write_sent(db: Database, delivery_ids: Sequence[int], subscriber_ids: Sequence[int], period: datetime,
               outage_seconds: float) -> None:
    """One group: its rows as sent (first: a lost "sent" is a resend), then its subscribers' periods."""
    if delivery_ids:
        mark_sent_durably(db, delivery_ids, None, now=utcnow(), outage_seconds=outage_seconds)
    through_outage(lambda: record_digests_sent(db, subscriber_ids, period), seconds=outage_seconds,
                   what="recording the digest slot")


class SentRecorder:
    """Queues accepted messages' rows and writes them in groups; one per delivery pass."""

    def __init__(self, db: Database, period: datetime, outage_seconds: float) -> None:
        self.db, self.period, self.outage_seconds = db, period, outage_seconds
        self._queue: list[_Waiting] = []
        self._writer: asyncio.Task[None] | None = None
        self.groups = 0  # writes done (the figure a test or benchmark reads)

    async def record(self, delivery_ids: Sequence[int], subscriber_id: int) -> None:
        """Rows of one accepted message (none: a period used up with nothing sent); returns once written.

        The write is not cancelled with the caller: a message the server accepted is recorded even if
        the pass that sent it is being cancelled at shutdown.
        """
        waiting = _Waiting(list(delivery_ids), subscriber_id, asyncio.get_running_loop().create_future())
        self._queue.append(waiting)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._drain())
        await asyncio.shield(waiting.done)

    async def _drain(self) -> None:
        while self._queue:
            group, self._queue = self._queue, []
            ids = [i for w in group for i in w.delivery_ids]
            subscribers = sorted({w.subscriber_id for w in group})
            try:
                await self.db.run(write_sent, self.db, ids, subscribers, self.period, self.outage_seconds)
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
