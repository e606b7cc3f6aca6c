"""The delivery loop every post-based chat channel shares: ledger rows → platform posts → marked sent, once.

A chat channel package (registered in digest.runtime.channels) supplies a `Platform`: how papers look there
(within the platform's limits) and how one post is sent. Everything else is here and the same for
all of them: which subscribers are due, claiming their pending rows (digest.services.outbox), turning
rows into items (digest.services.items), the feedback ranking of digests, marking rows sent only
when the platform acknowledged THE post that carried them, lifecycle updates and query health
(`tell_updates`: after a digest, or on any pass for an instant target, where the platform renders
them), and what a failure does:

  - `PostRejected` (the platform refuses this one post for good, e.g. too large): its papers are
    marked FAILED with the reason, the subscriber's other posts go on.
  - `TargetUnreachable` (unknown chat, app removed, bot blocked): the subscriber is paused with the
    reason (`paperbell status`, `subscribers list` show it) and the platform is told (`notify_paused`).
  - anything else is transient: the rows go back to pending and the subscriber waits a growing,
    capped delay (`chat_retry_base_seconds` … `chat_retry_max_seconds`, at least the platform's
    `retry_after`), stored on the subscriber so it holds across passes and processes.

Idempotency: a post's key is derived from who gets it and which papers it carries. When a send's
outcome is unknown (timeout, dropped connection) its rows are pinned together under that key, so the
retry renders the very same post; before posting it again the platform is asked whether that post
already arrived (`Platform.find_sent`: an idempotency key, the platform's history, or nothing), so a
lost reply costs at most one duplicate where the platform offers no way to look.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import update
from sqlmodel import col, select

from digest.core.assembly import Digest, DigestItem, build_digest
from digest.core.schedule import is_due
from digest.services import feedback, outbox, outbox_holds
from digest.services.channels import ChannelPass, FailureKind
from digest.services.items import load_items, recipient_of
from digest.services.outbox import ClaimedDelivery
from digest.services.outbox_durable import mark_sent_durably
from digest.services.posting_updates import tell_updates
from digest.services.subscribers import get_subscriber, record_digests_sent, set_subscriber_paused
from digest.settings import Settings
from storage.db import Database
from storage.models import Delivery, Schedule, Subscriber
from storage.types import utcnow

log = logging.getLogger(__name__)
CLAIM_LIMIT = 500
DIGEST_MAX_ITEMS = 50  # a digest's papers per pass; the rest stays pending for the next digest
CONCURRENCY = 8  # subscribers posted to at once (pacing per platform is the platform's `send`)
PART_PREFIX = "post-part:"  # message id of rows pinned to one post after an unknown outcome


class PostRejected(Exception):
    """The platform refused this one post for good (too large, malformed): fail its papers, go on."""


class TargetUnreachable(Exception):
    """Nothing can reach this target (unknown chat, removed app, blocked bot): pause with this reason."""


class RetryLater(Exception):
    """A passing failure; `retry_after` (s) is the platform's own wait when it named one (429)."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


Rendered = tuple[list[int], Any]  # (delivery ids the post carries, the platform's body for it)


class Platform(Protocol):
    """What a chat channel package supplies; everything else is this module's."""

    kinds: tuple[str, ...]  # SubscriberKind values this platform posts to
    label: str  # the platform's name: in reports, logs and pause reasons

    def render_instant(self, subscriber: Subscriber, item: DigestItem) -> Any:
        """One paper as one post body, within the platform's limits."""
        ...

    def render_digest(self, subscriber: Subscriber, digest: Digest) -> list[Rendered]:
        """A digest as few post bodies as the limits allow; each names the delivery ids it carries."""
        ...

    async def send(self, subscriber: Subscriber, body: Any, *, key: str) -> str:
        """Post one body; return the platform's id of the post once it acknowledged it.

        `key` is the same for the same papers to the same subscriber (an idempotency key where the
        platform takes one). Raises PostRejected / TargetUnreachable / RetryLater; anything else
        counts as an unknown outcome (the post may have arrived).
        """
        ...

    async def find_sent(self, subscriber: Subscriber, body: Any, *, key: str, since: datetime) -> str | None:
        """The id of this very post if it already arrived since `since` (after a lost reply), else None."""
        ...

    async def notify_paused(self, subscriber: Subscriber, reason: str) -> None:
        """Tell the target's people why posts stopped, where the platform still lets us (best effort)."""
        ...

    async def aclose(self) -> None:
        """Close the platform's client and its connections (the channel's `aclose`)."""
        ...


def post_key(subscriber_id: int, paper_ids: Sequence[int]) -> str:
    """32 hex characters naming (subscriber, set of papers): a retry of the same papers, never another post."""
    text = f"{subscriber_id}:{','.join(str(p) for p in sorted(set(paper_ids)))}"
    return hashlib.sha256(text.encode()).hexdigest()[:32]


@dataclass
class Post:
    """One post and the ledger rows it carries; `pinned_at` when it repeats a send of unknown outcome."""

    delivery_ids: list[int]
    paper_ids: list[int]
    body: Any
    key: str
    pinned_at: datetime | None = None


@dataclass
class _Pass:
    """One pass's running tally, turned into the protocol's `ChannelPass` at the end."""

    report: ChannelPass
    paused: list[tuple[int, str]] = field(default_factory=list)


# --- who is due -------------------------------------------------------------------------------------


def due_subscribers(db: Database, kinds: Sequence[str], now: datetime) -> list[Subscriber]:
    """Confirmed, unpaused subscribers of these kinds whose slot has come and whose back-off has passed."""
    with db.session() as session:
        rows = session.exec(
            select(Subscriber)
            .where(col(Subscriber.kind).in_(list(kinds)), col(Subscriber.paused).is_(False))
            .order_by(col(Subscriber.id))
        ).all()
    return [s for s in rows if s.confirmed_at is not None and is_due(s, now)
            and (s.retry_after is None or s.retry_after <= now)]


def backoff_seconds(settings: Settings, failures: int, retry_after: float | None = None) -> float:
    """Wait after the `failures`-th consecutive failure: base · 2^(n-1), capped, never below the platform's."""
    exponent = min(max(failures - 1, 0), 30)
    delay = min(settings.chat_retry_base_seconds * 2**exponent, settings.chat_retry_max_seconds)
    return max(delay, retry_after or 0.0)


def _record_failure(db: Database, settings: Settings, subscriber_id: int, reason: str, now: datetime,
                    retry_after: float | None) -> float:
    with db.session() as session:
        subscriber = session.get(Subscriber, subscriber_id)
        if subscriber is None:
            return 0.0
        subscriber.send_failures += 1
        delay = backoff_seconds(settings, subscriber.send_failures, retry_after)
        subscriber.retry_after = now + timedelta(seconds=delay)
        subscriber.last_send_error = reason[:500]
        session.add(subscriber)
        return delay


def _clear_failures(db: Database, subscriber_id: int) -> None:
    with db.session() as session:
        session.execute(update(Subscriber).where(col(Subscriber.id) == subscriber_id, col(Subscriber.send_failures) > 0)
                        .values(send_failures=0, retry_after=None, last_send_error=None))


def _pin(db: Database, delivery_ids: list[int], key: str) -> None:
    """Rows whose send had an unknown outcome keep travelling together under their post's key."""
    with db.session() as session:
        session.execute(update(Delivery).where(col(Delivery.id).in_(delivery_ids)).values(message_id=PART_PREFIX + key))


# --- rows → posts -----------------------------------------------------------------------------------


def plan_posts(platform: Platform, subscriber: Subscriber, claimed: Sequence[ClaimedDelivery],
               items: Sequence[DigestItem], now: datetime, plan: feedback.FeedbackPlan | None = None) -> list[Post]:
    """The posts to send: first each pinned group exactly as before, then the rest rendered afresh."""
    assert subscriber.id is not None
    by_delivery = {item.delivery_id: item for item in items}
    pinned: dict[str, list[DigestItem]] = {}
    for row in claimed:
        if row.message_id.startswith(PART_PREFIX) and row.delivery_id in by_delivery:
            pinned.setdefault(row.message_id, []).append(by_delivery.pop(row.delivery_id))
    posts = [post for group in pinned.values() for post in _render(platform, subscriber, group, now, None, pinned=True)]
    rest = [item for item in items if item.delivery_id in by_delivery]
    return posts + _render(platform, subscriber, rest, now, plan)


def _render(platform: Platform, subscriber: Subscriber, items: list[DigestItem], now: datetime,
            plan: feedback.FeedbackPlan | None, *, pinned: bool = False) -> list[Post]:
    assert subscriber.id is not None
    if not items:
        return []
    paper_of = {item.delivery_id: item.paper_id for item in items}
    if subscriber.schedule == Schedule.INSTANT:
        rendered = [([item.delivery_id], platform.render_instant(subscriber, item)) for item in items]
    else:
        digest = build_digest(recipient_of(subscriber), items, now=now, max_items=DIGEST_MAX_ITEMS,
                              **({"rank": plan.rank} if plan is not None else {}))
        rendered = platform.render_digest(subscriber, digest) if digest.items else []
    posts = []
    for ids, body in rendered:
        papers = [paper_of[i] for i in ids]
        posts.append(Post(ids, papers, body, post_key(subscriber.id, papers), now if pinned else None))
    return posts


# --- the loop -----------------------------------------------------------------------------------------


async def deliver_posts(settings: Settings, db: Database, platform: Platform, name: str, now: datetime | None = None,
                        *, spend_empty_slots: bool = True, worker_id: str | None = None) -> ChannelPass:
    """Post everything due to every subscriber of this platform once, each subscriber isolated."""
    now = now or utcnow()
    worker = worker_id or f"{name}-{os.getpid()}"
    tally = _Pass(ChannelPass(name))
    subscribers = await db.run(due_subscribers, db, platform.kinds, now)
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(subscriber: Subscriber) -> None:
        async with gate:
            status = await _deliver_to(settings, db, platform, subscriber, now, worker, tally, spend_empty_slots)
        tally.report.count(status)

    await asyncio.gather(*(one(s) for s in subscribers))
    return tally.report


async def _deliver_to(settings: Settings, db: Database, platform: Platform, subscriber: Subscriber, now: datetime,
                      worker: str, tally: _Pass, spend_empty_slots: bool) -> str:
    """Claim → render → send → record for one subscriber; returns its outcome for the report."""
    assert subscriber.id is not None
    digest = subscriber.schedule != Schedule.INSTANT
    claimed = await db.run(outbox.claim, db, worker_id=worker, subscriber_ids=[subscriber.id],
                           kind=subscriber.kind, limit=CLAIM_LIMIT, batch_by="delivery", now=now)
    if not digest:  # an instant target hears of a paper's new version, DOI or code on any pass
        await tell_updates(db, platform, subscriber, now, digest=False)
    if not claimed:
        if digest and spend_empty_slots:
            await db.run(record_digests_sent, db, [subscriber.id], now)  # the period is used up even when empty
        return "nothing_pending"
    unsent = {c.delivery_id for c in claimed}
    error: str | None = None
    try:
        items = await load_items(settings, db, [(c.delivery_id, c.paper_id, c.subscription_id, c.explanation)
                                                for c in claimed])
        plan = await db.run(feedback.plan_for, db, subscriber.id, items, settings.feedback_representation) \
            if digest else None
        for post in plan_posts(platform, subscriber, claimed, items, now, plan):
            await _send(db, platform, subscriber, post, tally)
            unsent.difference_update(post.delivery_ids)
        if digest:
            await tell_updates(db, platform, subscriber, now, digest=True)  # folded in right after the digest
            await db.run(record_digests_sent, db, [subscriber.id], now)  # also clears the back-off
        else:
            await db.run(_clear_failures, db, subscriber.id)
        return "sent"
    except TargetUnreachable as refused:
        error = f"{platform.label}: {refused}"[:500]
        await _pause(db, platform, subscriber, error, tally)
        return "paused"
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"[:500]
        hint = exc.retry_after if isinstance(exc, RetryLater) else None
        delay = await db.run(_record_failure, db, settings, subscriber.id, error, now, hint)
        tally.report.failures.append(f"subscriber #{subscriber.id}: {error} (next try in {delay:.0f} s)")
        log.warning("%s: delivery to %s failed, next try in %.0f s: %s", platform.label, subscriber.address,
                    delay, error)
        return "retry_later"
    finally:
        if unsent:  # not posted (past the digest cap, refused or failed): back to pending for later
            await db.run(outbox.release, db, sorted(unsent), error)
        outbox_holds.let_go(c.delivery_id for c in claimed)


async def _send(db: Database, platform: Platform, subscriber: Subscriber, post: Post, tally: _Pass) -> None:
    """Send one post; its rows end SENT (acknowledged) or FAILED (rejected); other errors propagate pinned."""
    assert subscriber.id is not None
    try:
        found = None
        if post.pinned_at is not None:  # the last try of exactly these papers may have arrived
            found = await platform.find_sent(subscriber, post.body, key=post.key,
                                             since=post.pinned_at - timedelta(days=1))
        message_id = found or await platform.send(subscriber, post.body, key=post.key)
    except PostRejected as rejected:
        reason = f"{platform.label} rejected the post: {rejected}"[:500]
        await db.run(outbox.mark_failed, db, post.delivery_ids, reason)
        tally.report.failures.append(f"subscriber #{subscriber.id}: {reason}")
        log.warning("%s: %d papers to %s failed for good: %s", platform.label, len(post.delivery_ids),
                    subscriber.address, reason)
        return
    except (TargetUnreachable, RetryLater):
        raise  # known not to have been posted: nothing to pin
    except BaseException:
        await db.run(_pin, db, post.delivery_ids, post.key)  # unknown outcome: the retry repeats this post
        raise
    await db.run(mark_sent_durably, db, post.delivery_ids, message_id, now=utcnow())
    tally.report.messages += 1
    tally.report.papers += len(post.delivery_ids)


async def _pause(db: Database, platform: Platform, subscriber: Subscriber, reason: str, tally: _Pass) -> None:
    assert subscriber.id is not None
    await db.run(set_subscriber_paused, db, subscriber.id, True, reason)
    tally.report.failures.append(f"subscriber #{subscriber.id}: paused: {reason}")
    log.warning("%s: paused %s %s: %s", platform.label, subscriber.kind, subscriber.address, reason)
    try:
        await platform.notify_paused(subscriber, reason)
    except Exception:  # telling someone is best effort; the pause itself is recorded
        log.exception("%s: could not report the pause of %s", platform.label, subscriber.address)


# --- the Channel protocol, for any platform --------------------------------------------------------------


class PostingChannel:
    """A `Channel` (digest.services.channels) over one `Platform`: what a chat package registers."""

    def __init__(self, settings: Settings, db: Database, platform: Platform, name: str) -> None:
        self.settings, self.db, self.platform, self.name = settings, db, platform, name

    async def due(self, now: datetime) -> list[int]:
        return [s.id for s in await self.db.run(due_subscribers, self.db, self.platform.kinds, now) if s.id is not None]

    async def deliver_due(self, now: datetime, *, spend_empty_slots: bool = True) -> ChannelPass:
        return await deliver_posts(self.settings, self.db, self.platform, self.name, now,
                                   spend_empty_slots=spend_empty_slots)

    async def preview(self, subscriber_id: int, now: datetime) -> str:
        """The post bodies pending rows would become now, as JSON; claims and sends nothing."""
        import json

        subscriber = await self.db.run(get_subscriber, self.db, subscriber_id)
        rows = await self.db.run(outbox.pending_rows, self.db, subscriber_id)
        items = await load_items(self.settings, self.db, rows)
        posts = _render(self.platform, subscriber, items, now, None)
        return json.dumps([post.body for post in posts], indent=2, ensure_ascii=False, default=str)

    def classify(self, error: BaseException) -> FailureKind:
        return classify(error)

    async def aclose(self) -> None:
        await self.platform.aclose()


def classify(error: BaseException) -> FailureKind:
    """The protocol's three kinds, for the exceptions of this module."""
    if isinstance(error, PostRejected):
        return FailureKind.REFUSED
    if isinstance(error, TargetUnreachable):
        return FailureKind.UNREACHABLE
    return FailureKind.TRANSIENT
