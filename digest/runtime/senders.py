"""The senders: a loop in every `paperbell run` worker that delivers what is due, then waits.

Each pass calls `deliver_due` on every channel it was given (`digest.runtime.channels`); each
channel claims → sends → marks through digest.services.outbox. The loop wakes on `wake()` (after a
match run, or the scheduler's deliver job) and otherwise polls every `sender_poll_seconds`; it
also returns rows of dead processes to the outbox (`outbox.recover_abandoned`).

Shutdown (`stop()`): no new pass starts; the pass in flight gets `shutdown_timeout_seconds` to
finish, then it is cancelled and every row this process still holds is released (message ids
kept, so a message that did go out is recognisable if it is sent again); last, every channel's
clients are closed (`close_channels`, also what `paperbell run --once` calls after its pass).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from datetime import datetime

from digest.runtime.logging import log_job
from digest.runtime.metrics import Metrics
from digest.services import outbox
from digest.services.channels import Channel, ChannelPass
from digest.services.outbox_durable import recover
from digest.services.outbox_liveness import PRESENCE_CHECK_SECONDS
from digest.settings import Settings
from storage.db import Database
from storage.outage import is_outage
from storage.types import utcnow

log = logging.getLogger(__name__)
# outcomes that say nothing happened: a pass with only these is not logged
QUIET_STATUSES = frozenset({"sent", "not_due", "unconfirmed", "paused"})


def log_failure(what: str, exc: BaseException) -> None:
    """A database outage is one warning line (it is expected to pass); anything else keeps its traceback."""
    if is_outage(exc):
        log.warning("%s: database unavailable, retrying at the next poll: %s", what, str(exc).splitlines()[0][:200])
    else:
        log.exception(what)


class Senders:
    """One delivery loop per process (every channel in each pass)."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        metrics: Metrics,
        *,
        channels: Sequence[Channel] = (),
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.settings = settings
        self.db = db
        self.metrics = metrics
        self.channels = list(channels)
        self.clock = clock  # injected in tests to walk through days, time zones and DST changes
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._presence: asyncio.Task[None] | None = None
        self.passes = 0
        self.last_pass_at: float | None = None

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> asyncio.Task[None]:
        self._task = asyncio.create_task(self._loop(), name="paperbell-senders")
        self._presence = asyncio.create_task(self._keep_presence(), name="paperbell-presence")
        return self._task

    async def _keep_presence(self) -> None:
        """Hold this process's presence lock, taking it again after a database restart, even mid-pass.

        Checked several times per `presence_grace_seconds`, so other senders never take a live claim back.
        """
        interval = min(PRESENCE_CHECK_SECONDS, self.settings.presence_grace_seconds / 3)
        while not self._stopping.is_set():
            try:
                await self.db.run(outbox.keep_presence, self.db)
            except Exception as exc:  # the database is away: try again at the next tick
                log_failure("senders: presence lock not held", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=interval)

    async def stop(self) -> None:
        """Stop taking work; let the current pass finish within the shutdown timeout, else release; close channels."""
        self._stopping.set()
        self._wake.set()
        try:
            if self._task is not None:
                await self._finish()
        finally:
            await self.close_channels()

    async def close_channels(self) -> None:
        """Close every channel's clients, once; a failing close is logged and the others still close."""
        channels, self.channels = self.channels, []
        for channel in channels:
            try:
                await channel.aclose()
            except Exception:
                log.exception("senders: closing the %s channel failed", channel.name)

    async def _finish(self) -> None:
        """The pass in flight finishes within the shutdown timeout or is cancelled; this process's claims go back."""
        assert self._task is not None
        done, _ = await asyncio.wait({self._task}, timeout=self.settings.shutdown_timeout_seconds)
        if not done:
            log.warning("senders: in-flight sends did not finish in %.0fs, releasing them",
                        self.settings.shutdown_timeout_seconds)
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._presence is not None:
            await asyncio.gather(self._presence, return_exceptions=True)
        released = await self.db.run(outbox.release_own_claims, self.db)
        if released:
            log.warning("senders: released %d in-flight deliveries at shutdown", released)

    async def _loop(self) -> None:
        recovered_at = 0.0
        while not self._stopping.is_set():
            self._wake.clear()
            if time.monotonic() - recovered_at > self.settings.leader_retry_seconds:
                recovered_at = time.monotonic()
                try:
                    recovered = await self.db.run(recover, self.db,
                                                  grace_seconds=self.settings.presence_grace_seconds)
                    if recovered:
                        log.warning("outbox: %d deliveries of a dead process returned to pending", recovered)
                except Exception as exc:
                    log_failure("outbox recovery failed", exc)
            try:
                sent = await self.run_pass()
            except Exception as exc:
                log_failure("sender pass failed", exc)
                sent = 0
            if sent and not self._stopping.is_set():
                continue  # there may be more (claims are bounded): go again at once
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.settings.sender_poll_seconds)

    async def run_pass(self) -> int:
        """One delivery pass over every channel; returns how many messages went out."""
        total = 0
        for channel in self.channels:
            if self._stopping.is_set():
                break
            total += (await self.deliver(channel.name)).messages
        self.passes += 1
        self.last_pass_at = time.time()
        return total

    async def deliver(self, name: str, *, spend_empty_slots: bool = True) -> ChannelPass:
        """One pass of the channel called `name`: what it sent, measured and logged.

        `spend_empty_slots=False` after a failed match: "nothing pending" is not known then, so no
        subscriber's digest period is used up on it.
        """
        channel = next(c for c in self.channels if c.name == name)
        started = time.perf_counter()
        report = await channel.deliver_due(self.clock(), spend_empty_slots=spend_empty_slots)
        self.metrics.messages_sent.labels(name).inc(report.messages)
        duration = time.perf_counter() - started
        self.metrics.job_duration.labels(f"send_{name}").observe(duration)
        if report.messages or report.failures or set(report.statuses) - QUIET_STATUSES:
            others = {k: v for k, v in report.statuses.items() if k != "sent"}
            log_job(f"send:{name}", "error" if report.failures else "ok", duration, messages=report.messages,
                    papers=report.papers, errors=len(report.failures), **others)
        return report
