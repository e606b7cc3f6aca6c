"""Lifecycle alerts: store the events ingest detects, and tell each opted-in reader of them once.

Ingest (digest.services.ingest) calls `store_events` in its own transaction, for papers that were
already stored (a record merging into a known paper: digest.core.lifecycle.detect_events); no extra
network call is made. A reader hears of an event when (1) the ledger says one of their subscriptions
delivered that paper (status sent) before the event, (2) that subscription opted in to the event's
kind (`subscription_updates`, none by default) and (3) no `update_notices` row says they were told.
Senders fold `pending_updates` into the next digest (e-mail, Discord digests; a short post for Discord
instant targets) and record them told once the message went out (`told_on`, through
digest.services.digest_extras.record_shown); the table's primary key makes a
second notice of the same event impossible.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy.engine import Connection
from sqlmodel import Session, col, select

from digest.core.assembly import UpdateNote
from digest.core.lifecycle import (
    LifecycleEvent,
    PaperFacts,
    UpdateKindsError,
    describe,
    detect_events,
    facts,
    format_kinds,
    parse_kinds,
)
from digest.core.links import safe_http_url
from digest.core.records import PaperRecord
from digest.services.errors import InvalidInput
from digest.services.subscribers import _scoped_subscription
from storage.db import Database
from storage.lifecycle_models import PaperEvent, SubscriptionUpdates, UpdateNotice
from storage.models import Delivery, DeliveryStatus, Paper, Subscription
from storage.types import utcnow

MAX_NOTES = 10  # updates in one digest; the rest wait for the next one


def paper_facts(paper: Paper) -> PaperFacts:
    """What of a stored paper the lifecycle events compare (taken before and after a merge)."""
    return facts(paper.version, paper.title, paper.abstract, paper.doi, paper.extras or {})


def merge_events(paper: Paper, before: PaperFacts, record: PaperRecord) -> list[tuple[int, LifecycleEvent]]:
    """The events of one merge: `before` is the stored paper's facts, `paper` is already merged."""
    assert paper.id is not None
    comment = record.extras.get("comment")
    return [(paper.id, e) for e in detect_events(before, paper_facts(paper), str(comment) if comment else None)]


def store_events(session: Session, found: Sequence[tuple[int, LifecycleEvent]]) -> int:
    """Insert the (paper id, event) pairs not stored yet; returns how many were new (in the caller's transaction)."""
    if not found:
        return 0
    paper_ids = sorted({paper_id for paper_id, _ in found})
    known = {
        (row.paper_id, row.kind, row.key)
        for row in session.exec(select(PaperEvent).where(col(PaperEvent.paper_id).in_(paper_ids)))
    }
    now = utcnow()
    added = 0
    for paper_id, event in found:
        if (paper_id, event.kind, event.key) in known:
            continue
        known.add((paper_id, event.kind, event.key))
        session.add(PaperEvent(paper_id=paper_id, kind=event.kind, key=event.key, detail=event.detail, created_at=now))
        added += 1
    return added


def set_update_kinds(
    db: Database, subscription_id: int, kinds: str | Iterable[str], *, owner_id: int | None = None,
    guild_id: str | None = None,
) -> str:
    """Opt a subscription in to exactly these kinds ("" or "none": opted out); returns the stored list.

    `kinds` is the reader's text ("new-version,code", "all", "none") or kind names; an unknown kind is
    refused (`InvalidInput`), someone else's subscription is reported as missing (`NotFound`)."""
    try:
        chosen = parse_kinds(kinds if isinstance(kinds, str) else ",".join(kinds))
    except UpdateKindsError as exc:
        raise InvalidInput(str(exc)) from None
    text = format_kinds(chosen)
    with db.session() as session:
        _scoped_subscription(session, subscription_id, owner_id, guild_id)
        row = session.get(SubscriptionUpdates, subscription_id)
        if not text:
            if row is not None:
                session.delete(row)
            return ""
        row = row or SubscriptionUpdates(subscription_id=subscription_id)
        row.kinds = text
        session.add(row)
    return text


def update_kinds(session: Session, subscription_ids: Sequence[int]) -> dict[int, set[str]]:
    """subscription id -> the kinds it opted in to (absent: none)."""
    if not subscription_ids:
        return {}
    rows = session.exec(
        select(SubscriptionUpdates).where(col(SubscriptionUpdates.subscription_id).in_(list(subscription_ids)))
    )
    return {row.subscription_id: {k for k in row.kinds.split(",") if k} for row in rows}


def pending_updates(db: Database, subscriber_id: int, limit: int = MAX_NOTES) -> list[UpdateNote]:
    """The events this subscriber should hear of now, oldest first (nothing for a reader who never opted in)."""
    with db.session() as session:
        subscription_ids = session.exec(
            select(Subscription.id).where(Subscription.subscriber_id == subscriber_id)
        ).all()
        wanted = update_kinds(session, [s for s in subscription_ids if s is not None])
        if not wanted:  # the common case costs one indexed lookup
            return []
        told = select(UpdateNotice.event_id).where(UpdateNotice.subscriber_id == subscriber_id)
        rows = session.execute(
            select(  # type: ignore[call-overload]
                PaperEvent, col(Delivery.sent_at), col(Delivery.subscription_id), col(Paper.title), col(Paper.abs_url)
            )
            .join(Delivery, col(Delivery.paper_id) == col(PaperEvent.paper_id))
            .join(Paper, col(Paper.id) == col(PaperEvent.paper_id))
            .where(
                Delivery.subscriber_id == subscriber_id,
                Delivery.status == DeliveryStatus.SENT.value,
                col(Delivery.subscription_id).in_(list(wanted)),
                col(Delivery.sent_at) < col(PaperEvent.created_at),
                col(PaperEvent.id).not_in(told),
            )
            .order_by(col(PaperEvent.created_at), col(PaperEvent.id))
            .limit(limit * 4)  # one event may come once per delivery of its paper
        ).all()
    notes: dict[int, UpdateNote] = {}
    for event, sent_at, subscription_id, title, abs_url in rows:
        if event.id is None or event.id in notes or event.kind not in wanted.get(subscription_id or 0, set()):
            continue
        line = describe(event.kind, event.detail, sent_at)
        url = safe_http_url(abs_url)  # a paper stored before the URL gate existed is gated here too
        notes[event.id] = UpdateNote(event.id, event.paper_id, event.kind, " ".join(title.split()), url, line)
    return list(notes.values())[:limit]


def told_on(connection: Connection, db: Database, told: Sequence[tuple[int, int]], now: datetime) -> None:
    """Record that these (subscriber, event) pairs were told, in the caller's transaction: one insert that leaves
    a pair already recorded (by a concurrent sender too) alone, so it never fails the writes sharing the transaction."""
    if told:
        connection.execute(db.insert(UpdateNotice.__table__).on_conflict_do_nothing(),  # type: ignore[attr-defined]
                           [{"subscriber_id": s, "event_id": e, "sent_at": now} for s, e in sorted(set(told))])
