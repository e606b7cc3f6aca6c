"""What happens to ONE e-mail subscriber when their mail could not be built or sent.

Called by digest.email.digests. Every failure (bad stored address, data that cannot be
rendered, a 4xx/5xx reply, a lost connection) is recorded on the subscriber: `send_failures` + 1,
`last_send_error`, and `retry_after` = now + a delay that doubles per consecutive failure up to
`email_retry_max_seconds`, so a broken subscriber is retried ever more rarely and never holds up
anybody else. Permanent (5xx) refusals still count toward `bounce_pause_threshold`; after
`email_max_failed_attempts` consecutive failures, or at once for an address that can never be
delivered, the subscriber is paused with the reason (shown by `subscribers list`, status, /metrics).
A delivered digest clears it all (digest.services.subscribers.record_digests_sent).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import col, select

from digest.services.suppression import bounce_pause_reason
from digest.settings import Settings
from storage.db import Database
from storage.models import Subscriber, SubscriberKind


@dataclass(frozen=True)
class Failure:
    """Why one subscriber's attempt failed; `permanent` = a 5xx refusal; `fatal` = pause at once."""

    reason: str
    permanent: bool = False
    fatal: bool = False


def backoff_seconds(settings: Settings, failures: int) -> float:
    """Wait after the `failures`-th consecutive failure: base, 2x base, 4x base, ... capped."""
    exponent = min(max(failures - 1, 0), 30)  # 2**30 x base is past any cap; avoids float overflow
    return float(min(settings.email_retry_base_seconds * 2**exponent, settings.email_retry_max_seconds))


def _pause_reason(settings: Settings, subscriber: Subscriber, failure: Failure) -> str | None:
    if failure.fatal:
        return f"paused: {failure.reason}"
    if failure.permanent and (bounced := bounce_pause_reason(settings, subscriber, failure.reason)):
        return bounced
    if subscriber.send_failures >= settings.email_max_failed_attempts:
        return f"paused after {subscriber.send_failures} failed delivery attempts; last: {failure.reason}"
    return None


def record_failure(db: Database, settings: Settings, subscriber_id: int, failure: Failure, now: datetime) -> bool:
    """Record one failed attempt, schedule the next, pause when the bound is reached. True when now paused."""
    with db.session() as session:
        subscriber = session.get(Subscriber, subscriber_id)
        if subscriber is None:
            return False
        subscriber.send_failures += 1
        if failure.permanent:
            subscriber.bounce_count += 1
        subscriber.last_send_error = failure.reason[:1000]
        subscriber.retry_after = now + timedelta(seconds=backoff_seconds(settings, subscriber.send_failures))
        reason = _pause_reason(settings, subscriber, failure)
        if reason is not None and not subscriber.paused:
            subscriber.paused, subscriber.pause_reason = True, reason[:1000]
        session.add(subscriber)
        return subscriber.paused


def in_backoff(subscriber: Subscriber, now: datetime) -> bool:
    return subscriber.retry_after is not None and subscriber.retry_after > now


def failing_counts(db: Database) -> dict[str, int]:
    """E-mail subscribers `paused` (any reason) and `backing_off` (failing, not yet paused), for status and /metrics."""
    with db.session() as session:
        paused = session.exec(
            select(func.count()).select_from(Subscriber).where(
                Subscriber.kind == SubscriberKind.EMAIL.value, col(Subscriber.paused).is_(True)
            )
        ).one()
        failing = session.exec(
            select(func.count()).select_from(Subscriber).where(
                Subscriber.kind == SubscriberKind.EMAIL.value, col(Subscriber.paused).is_(False),
                Subscriber.send_failures > 0,
            )
        ).one()
    return {"paused": int(paused), "backing_off": int(failing)}


def paused_subscribers(db: Database, limit: int = 20) -> list[dict[str, object]]:
    """The paused e-mail subscribers (first `limit`) with why, for `paperbell status`."""
    with db.session() as session:
        rows = session.exec(
            select(Subscriber.id, Subscriber.address, Subscriber.pause_reason)
            .where(Subscriber.kind == SubscriberKind.EMAIL.value, col(Subscriber.paused).is_(True))
            .order_by(col(Subscriber.id))
            .limit(limit)
        ).all()
    return [{"id": row[0], "address": row[1], "reason": row[2]} for row in rows]
