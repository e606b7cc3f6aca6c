"""The suppression list and bounce accounting, shared by every path that adds, resumes or mails an address.

Hard bounces and complaints suppress an address at once (and pause its subscriber); soft bounces count
toward `bounce_pause_threshold` (`record_bounce`). `subscribers.add_subscriber` and resuming a paused
subscriber call `ensure_not_suppressed`, and the email sender skips suppressed addresses, so the CLI,
the web app, the bot and the senders all inherit the rule. Only `lift` (`paperbell suppression remove`,
an admin's explicit override) takes an address off the list.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from digest.services.errors import Conflict, NotFound
from digest.settings import Settings
from storage.db import Database, in_slices
from storage.deliverability_models import Suppression
from storage.models import Subscriber, SubscriberKind
from storage.types import utcnow


class SuppressionReason(StrEnum):
    HARD_BOUNCE = "hard_bounce"
    COMPLAINT = "complaint"
    MANUAL = "manual"


class Suppressed(Conflict):
    """The address is on the suppression list; str says why and how an admin lifts it."""


def bounce_pause_reason(settings: Settings, subscriber: Subscriber, detail: str) -> str | None:
    """Why a subscriber is paused once its bounce count reaches the threshold (5xx at send time or a
    soft bounce reported later by the inbound role: one count, one threshold), else None."""
    if subscriber.bounce_count >= settings.bounce_pause_threshold:
        return f"paused after {subscriber.bounce_count} permanent delivery failures; last: {detail}"
    return None


def normalize(address: str) -> str:
    return address.strip().strip("<>").lower()


def _refusal(row: Suppression) -> Suppressed:
    return Suppressed(
        f"{row.address} is suppressed ({row.reason.replace('_', ' ')} on {row.created_at:%Y-%m-%d}); "
        f"an admin can lift it with `paperbell suppression remove {row.address}`"
    )


def ensure_not_suppressed(session: Session, address: str) -> None:
    """Raise `Suppressed` when the address is on the list (called inside the caller's transaction)."""
    row = session.exec(select(Suppression).where(Suppression.address == normalize(address))).first()
    if row is not None:
        raise _refusal(row)


def suppress(db: Database, address: str, reason: SuppressionReason, *, source: str,
             detail: str | None = None) -> Suppression:
    """Put the address on the list (idempotent: a repeat only counts the event) and pause its subscriber."""
    target = normalize(address)
    now = utcnow()
    for _ in range(2):  # a concurrent first insert of the same address: the retry updates it
        try:
            with db.session() as session:
                row = session.exec(select(Suppression).where(Suppression.address == target)).first()
                if row is None:
                    row = Suppression(address=target, reason=reason.value, source=source,
                                      detail=(detail or "")[:1000] or None)
                else:
                    row.events += 1
                    row.last_event_at = now
                    row.detail = (detail or row.detail or "")[:1000] or None
                session.add(row)
                session.execute(
                    update(Subscriber)
                    .where(col(Subscriber.kind) == SubscriberKind.EMAIL.value, col(Subscriber.address) == target)
                    .values(paused=True, pause_reason=f"suppressed: {reason.value.replace('_', ' ')}"
                            f"{f' ({detail})' if detail else ''}"[:1000])
                )
                session.flush()
                session.refresh(row)
                return row
        except IntegrityError:
            continue
    raise Conflict(f"could not record the suppression of {target}")


def suppressed_among(db: Database, addresses: Iterable[str]) -> set[str]:
    wanted = sorted({normalize(a) for a in addresses})
    if not wanted:
        return set()
    found: set[str] = set()
    with db.session() as session:
        for some in in_slices(wanted):  # every e-mail subscriber of a pass: may be more than one statement takes
            found.update(session.exec(select(Suppression.address).where(col(Suppression.address).in_(some))))
    return found


def list_suppressions(db: Database) -> list[Suppression]:
    with db.session() as session:
        return list(session.exec(select(Suppression).order_by(col(Suppression.id))).all())


def lift(db: Database, address: str) -> Suppression:
    """The admin override: take the address off the list (its subscriber stays paused until resumed)."""
    with db.session() as session:
        row = session.exec(select(Suppression).where(Suppression.address == normalize(address))).first()
        if row is None:
            raise NotFound(f"{normalize(address)} is not suppressed")
        session.delete(row)
        return row


def record_bounce(db: Database, settings: Settings, subscriber_id: int, error: str) -> bool:
    """Count a soft (or synchronous 5xx) failure; pause the subscriber at the threshold. True when now paused."""
    with db.session() as session:
        subscriber = session.get(Subscriber, subscriber_id)
        if subscriber is None:
            return False
        subscriber.bounce_count += 1
        reason = bounce_pause_reason(settings, subscriber, error)
        if reason is not None and not subscriber.paused:
            subscriber.paused, subscriber.pause_reason = True, reason[:1000]
        session.add(subscriber)
        return subscriber.paused
