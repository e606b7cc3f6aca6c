"""The delivery outbox: claim pending ledger rows, then mark them sent, released or failed.

Called by the email digest service, the Discord delivery service and the runtime's senders. Claiming is
here; what then becomes of the rows (sent, released, failed, lease renewed) is in
digest.services.outbox_outcomes, re-exported here.
A `Delivery` row moves PENDING -> SENDING (claimed, with claimed_by/claimed_at and a message id)
-> SENT | FAILED, or back to PENDING on `release`. A process that dies while a row is SENDING
leaves it there: `recover_abandoned` (digest.services.outbox_liveness) returns it as soon as the
process is known dead, and in any case the next `claim` takes it once its lease has passed.

Message ids are assigned AT CLAIM TIME and kept on re-claim: a batch re-claimed after a crash
carries the same message id it had when the crashed process may already have sent it, so the
only possible duplicate (the message in flight at the crash) is recognisable (email Message-ID,
Discord nonce). Callers send one message per distinct `ClaimedDelivery.message_id`.

On PostgreSQL, claims lock rows with `SELECT … FOR UPDATE SKIP LOCKED` so any number of
senders work side by side; on SQLite writes are serialised and one sender runs.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import Row, Select, Text, and_, bindparam, case, or_, select, type_coerce, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from digest.services import match_sets, outbox_holds, trending
from digest.services.outbox_liveness import (
    announce_presence,
    claim_in_flight,
    claimer_tag,
    default_worker_id,
    keep_presence,
    recover_abandoned,
    release_own_claims,
)
from digest.services.outbox_outcomes import mark_failed, mark_sent, mark_sent_on, release, renew
from storage.db import Database, unindexed
from storage.models import Delivery, DeliveryStatus, Subscriber
from storage.types import utcnow

__all__ = [
    "DEFAULT_CLAIM_LIMIT", "DEFAULT_LEASE_SECONDS", "ClaimedDelivery", "claim", "claim_in_flight", "claimer_tag",
    "default_worker_id",
    "keep_presence", "mark_failed", "mark_sent", "mark_sent_on", "new_message_id", "pending_rows",
    "recover_abandoned", "release", "release_own_claims", "renew",
]

DEFAULT_LEASE_SECONDS = 300.0  # longer than any single send (SMTP timeout x retries), so live sends aren't stolen
DEFAULT_CLAIM_LIMIT = 500

_D = Delivery.__table__  # type: ignore[attr-defined]
_S = Subscriber.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class ClaimedDelivery:
    """One claimed ledger row; rows sharing `message_id` belong in one message."""

    delivery_id: int
    subscriber_id: int
    paper_id: int
    subscription_id: int | None
    message_id: str
    attempts: int
    reclaimed: bool  # True if it was SENDING under a lapsed lease (it may already have been sent once)
    explanation: dict[str, Any] = field(default_factory=dict)


def new_message_id(subscriber_id: int, domain: str = "paperbell.local") -> str:
    """A globally unique RFC 5322 msg-id, e.g. `<pb.12.3f2a…@paperbell.local>`."""
    return f"<pb.{subscriber_id}.{uuid.uuid4().hex}@{domain}>"


@dataclass(frozen=True)
class _ClaimRequest:
    """What one `claim` call asks for, resolved once (worker tag, clock, lease cut-off, filters)."""

    worker: str
    now: datetime
    stale_before: datetime
    subscriber_ids: list[int] | None
    kinds: list[str] | None
    limit: int
    batch_by: Literal["subscriber", "delivery"]
    message_id_domain: str


_COLUMNS = (_D.c.id, _D.c.subscriber_id, _D.c.message_id, _D.c.status)


def claim(
    db: Database,
    *,
    worker_id: str | None = None,
    subscriber_ids: Iterable[int] | None = None,
    kind: str | Sequence[str] | None = None,
    limit: int = DEFAULT_CLAIM_LIMIT,
    lease_seconds: float = DEFAULT_LEASE_SECONDS,
    batch_by: Literal["subscriber", "delivery"] = "subscriber",
    message_id_domain: str = "paperbell.local",
    now: datetime | None = None,
    digest_time: datetime | None = None,
) -> list[ClaimedDelivery]:
    """Claim up to `limit` deliverable rows (PENDING, or SENDING with a lapsed lease) for `worker_id`.

    batch_by="subscriber": one message id per subscriber in this claim (a digest); a subscriber
    whose rows already carry a message id (re-claim after a crash, or a release) gets exactly
    that batch back, nothing mixed in, so a resend is the same message. Subscribers with a live
    claim held by another sender are skipped, so one subscriber never has two messages in flight.
    batch_by="delivery": each row is its own message (instant Discord posts).
    `claimed_by` is stored as `host:pid[/worker_id]` so the death of this process is detected at once
    (see `recover_abandoned`). The claim counts as in flight while it runs: it runs in a worker thread,
    which commits even when the pass that asked for it was cancelled at shutdown, so the shutdown's
    `release_own_claims` waits for it rather than leaving its rows in SENDING.
    `digest_time` (default `now`): the moment the digest is for, which picks the day's trending papers.
    """
    wanted = None if subscriber_ids is None else sorted(set(subscriber_ids))
    if wanted is not None and not wanted:
        return []
    now = now or utcnow()
    request = _ClaimRequest(
        worker=claimer_tag(worker_id), now=now, stale_before=now - timedelta(seconds=lease_seconds),
        subscriber_ids=wanted, kinds=[kind] if isinstance(kind, str) else (list(kind) if kind is not None else None),
        limit=limit, batch_by=batch_by, message_id_domain=message_id_domain,
    )
    with claim_in_flight():
        announce_presence(db)
        with db.session() as session:  # matches recorded compactly become rows first, committed on their own
            match_sets.expand(session, db, subscriber_ids=wanted, kinds=request.kinds)
            trending.pick(session, db, subscriber_ids=wanted, kinds=request.kinds, now=digest_time or now)
        with db.session() as session:
            candidates = _lock_candidates(db, session, request)
            if not candidates:
                return []
            if batch_by == "subscriber":
                plan = _batches_per_subscriber(db, session, request, candidates)
            else:
                plan = _one_message_per_row(request, candidates)
            claimed = _take(session, request, plan)
        outbox_holds.hold(c.delivery_id for c in claimed)  # registered before the claim counts as finished
        return claimed


# --- the PostgreSQL / SQLite difference, in one place ---------------------------------------------
# PostgreSQL: concurrent senders lock what they take and skip what others hold (SKIP LOCKED); subscribers
# are partitioned between them first. SQLite serialises writers, so it needs neither: there the
# conditional UPDATE in `_take` is the only arbiter (it is on PostgreSQL too).


def _skip_locked(db: Database, query: Select[Any], *, key_share: bool = False) -> Select[Any]:
    return query.with_for_update(skip_locked=True, key_share=key_share) if db.is_postgres else query


def _own_subscribers(db: Database, session: Session, request: _ClaimRequest, query: Select[Any]) -> Select[Any] | None:
    """PostgreSQL, digests: lock whole subscribers before their rows; None when all are taken.

    Whoever locks the subscriber row owns all of its deliveries (locking rows first lets two claimers
    each skip what the other holds and both come back empty). NO KEY UPDATE (key_share) does not block
    the matcher's foreign-key checks (FOR KEY SHARE) when it inserts new deliveries.
    """
    if request.batch_by != "subscriber" or not db.is_postgres:
        return query
    owned = (
        select(_S.c.id)
        .where(_S.c.id.in_(query.with_only_columns(_D.c.subscriber_id).distinct()))
        .order_by(_S.c.id)
        .limit(request.limit)
    )
    locked = list(session.execute(_skip_locked(db, owned, key_share=True)).scalars())
    return query.where(_D.c.subscriber_id.in_(locked)) if locked else None


# --- the steps of a claim ----------------------------------------------------------------------------


def _claimable(stale_before: datetime) -> ColumnElement[bool]:
    return or_(
        _D.c.status == DeliveryStatus.PENDING.value,
        and_(_D.c.status == DeliveryStatus.SENDING.value, _D.c.claimed_at < stale_before),
    )


def _candidates_query(request: _ClaimRequest) -> Select[Any]:
    """Deliverable rows within the filters; for digests, not of a subscriber another sender is mid-message for."""
    query = select(*_COLUMNS).where(_claimable(request.stale_before))
    if request.subscriber_ids is not None:
        query = query.where(_D.c.subscriber_id.in_(request.subscriber_ids))
    if request.kinds is not None:
        query = query.where(_D.c.subscriber_id.in_(select(_S.c.id).where(_S.c.kind.in_(request.kinds))))
    if request.batch_by == "subscriber":
        busy = select(_D.c.subscriber_id).where(
            _D.c.status == DeliveryStatus.SENDING.value, _D.c.claimed_at >= request.stale_before
        )
        if request.subscriber_ids is not None:
            # only the batch's own subscribers: every row a pass sends was "sending" once, and until vacuum
            # runs PostgreSQL's status index still lists those versions (1.7M of them, 370 ms a claim, at
            # 100,000 subscribers); per subscriber it reads a handful
            busy = busy.where(_D.c.subscriber_id.in_(request.subscriber_ids))
        query = query.where(_D.c.subscriber_id.not_in(busy))
    return query


def _lock_candidates(db: Database, session: Session, request: _ClaimRequest) -> list[Row[Any]]:
    query = _own_subscribers(db, session, request, _candidates_query(request))
    if query is None:
        return []
    return list(session.execute(_skip_locked(db, query.order_by(_D.c.id).limit(request.limit))).all())


@dataclass
class _Plan:
    """What a claim assigns: per row its message id; per subscriber theirs (digests: one message each)."""

    messages: dict[int, str] = field(default_factory=dict)
    per_subscriber: dict[int, str] = field(default_factory=dict)
    was_sending: set[int] = field(default_factory=set)


def _batches_per_subscriber(db: Database, session: Session, request: _ClaimRequest, candidates: list[Row[Any]]
                            ) -> _Plan:
    """One message id per subscriber; a subscriber whose rows carry one gets that whole batch back."""
    by_subscriber: dict[int, list[Row[Any]]] = {}
    for row in candidates:
        by_subscriber.setdefault(row.subscriber_id, []).append(row)
    plan = _Plan()
    sending = DeliveryStatus.SENDING.value  # looked up once: these loops run once per candidate row
    for subscriber_id, rows in by_subscriber.items():
        existing = [row.message_id for row in rows if row.message_id]
        if existing:
            message_id = existing[0]
            # that batch may be incomplete in this window; fetch all of its rows
            batch = select(*_COLUMNS).where(_D.c.message_id == message_id, _claimable(request.stale_before))
            rows = list(session.execute(_skip_locked(db, batch)).all())
        else:
            message_id = new_message_id(subscriber_id, request.message_id_domain)
        plan.per_subscriber[subscriber_id] = message_id
        plan.messages.update(dict.fromkeys([row.id for row in rows], message_id))
        plan.was_sending.update(row.id for row in rows if row.status == sending)
    return plan


def _one_message_per_row(request: _ClaimRequest, candidates: list[Row[Any]]) -> _Plan:
    return _Plan(
        messages={row.id: row.message_id or new_message_id(row.subscriber_id, request.message_id_domain)
                  for row in candidates},
        was_sending={row.id for row in candidates if row.status == DeliveryStatus.SENDING.value},
    )


_IDS_PER_STATEMENT = 10_000  # bound parameters per statement stay well under SQLite's limit (32,766)
_RETURNED = (_D.c.id, _D.c.subscriber_id, _D.c.paper_id, _D.c.subscription_id, _D.c.message_id, _D.c.attempts,
             type_coerce(_D.c.explanation, Text))  # decoded below: mostly "{}", which needs no parser


def _take(session: Session, request: _ClaimRequest, plan: _Plan) -> list[ClaimedDelivery]:
    """Claim the planned rows and read them back in one statement (UPDATE … RETURNING), which also names a
    digest's rows (one message id per subscriber); rows still without theirs (one message per row) are named
    after it, in one executemany.

    The conditional UPDATE is the arbiter: a row someone else claimed meanwhile is not claimable, and only
    the rows this statement changed come back. The ids are matched by primary key (`unindexed`), never by
    scanning the status index.
    """
    stale = request.stale_before
    claimable = or_(unindexed(_D.c.status) == DeliveryStatus.PENDING.value,
                    and_(unindexed(_D.c.status) == DeliveryStatus.SENDING.value, _D.c.claimed_at < stale))
    values: dict[str, Any] = {"status": DeliveryStatus.SENDING.value, "claimed_by": request.worker,
                              "claimed_at": request.now}
    if plan.per_subscriber:
        values["message_id"] = case(plan.per_subscriber, value=_D.c.subscriber_id, else_=_D.c.message_id)
    ids = sorted(plan.messages)
    rows: list[Any] = []  # plain tuples, read by position: the hot loop below runs once per claimed row
    for start in range(0, len(ids), _IDS_PER_STATEMENT):
        rows += session.execute(
            update(_D).where(_D.c.id.in_(ids[start : start + _IDS_PER_STATEMENT]), claimable).values(**values)
            .returning(*_RETURNED)
        ).all()
    named = plan.messages
    unnamed = [{"b_id": row[0], "b_mid": named[row[0]]} for row in rows if row[4] != named[row[0]]]
    if unnamed:
        session.execute(update(_D).where(_D.c.id == bindparam("b_id")).values(message_id=bindparam("b_mid")),
                        unnamed, execution_options={"synchronize_session": False})
    sending = plan.was_sending
    claimed = [
        ClaimedDelivery(delivery_id, subscriber_id, paper_id, subscription_id, named[delivery_id], attempts,
                        delivery_id in sending, _explanation(stored))
        for delivery_id, subscriber_id, paper_id, subscription_id, _, attempts, stored in rows
    ]
    claimed.sort(key=lambda c: c.delivery_id)
    return claimed


def _explanation(stored: Any) -> dict[str, Any]:
    """A row's explanation as a new dict: PostgreSQL's driver already decoded it; SQLite gives the JSON text."""
    if isinstance(stored, str):
        if stored == "{}":
            return {}
        stored = json.loads(stored)
    return dict(stored or {})  # JSON null (None stored through the ORM) reads as no explanation, as before


def pending_rows(db: Database, subscriber_id: int) -> list[tuple[int, int, int | None, dict[str, object]]]:
    """A subscriber's PENDING rows as (delivery id, paper id, subscription id, explanation), oldest first,
    then what their trending subscriptions would pick if their digest were due now (delivery id 0):
    every caller previews (CLI, web, /digest, dry runs); sending claims rows instead."""
    with db.session() as session:
        match_sets.expand(session, db, subscriber_ids=[subscriber_id])
    with db.session() as session:
        rows = session.execute(
            select(_D.c.id, _D.c.paper_id, _D.c.subscription_id, _D.c.explanation)
            .where(_D.c.subscriber_id == subscriber_id, _D.c.status == DeliveryStatus.PENDING.value)
            .order_by(_D.c.id)
        ).all()
        picks = trending.preview_picks(session, subscriber_id, utcnow())
    return [(int(r[0]), int(r[1]), r[2], dict(r[3] or {})) for r in rows] + picks
