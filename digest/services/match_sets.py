"""Pending matches in compact form, expanded into ledger rows when delivery reads them.

The match cycle (digest.services.matching) records each batch's matches as one `MatchSet` row per
subscriber — the paper and subscription ids as packed arrays — instead of one `Delivery` row per
(subscriber, paper): a cycle of 2M matches writes tens of thousands of rows, not millions of rows
with four index entries and three foreign-key checks each. The outbox (digest.services.outbox)
calls `expand` for the subscribers it is about to read, just before it reads them: their sets become
PENDING `Delivery` rows (skipping pairs already in the ledger, so a paper still reaches a subscriber
at most once) and are deleted, in one transaction. So a subscriber's rows are written when its
digest is due, spread over the day, and a weekly subscriber's week of matches is written once.

Expansion drops papers deleted since the match, and a subscription deleted since then leaves its
rows with no subscription (as the ledger's ON DELETE SET NULL would have); a deleted subscriber's
sets go with it (ON DELETE CASCADE). The counts here let status pages and metrics include matches
not expanded yet without expanding them.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from itertools import pairwise
from typing import Any

from sqlalchemy import Row, Select, delete, func, select
from sqlmodel import Session

from digest.services.ledger_writes import insert_ledger, sqlite_stamp
from storage.db import Database, in_slices
from storage.models import Delivery, DeliveryStatus, MatchSet, Paper, Subscriber, Subscription

log = logging.getLogger(__name__)
_M = MatchSet.__table__  # type: ignore[attr-defined]
_S = Subscriber.__table__  # type: ignore[attr-defined]
# numpy is imported in the functions that build arrays: `paperbell status` and /healthz only count sets
_INT64 = "<i8"  # the stored arrays: little-endian int64
_INT64_BYTES = 8


def record(session: Session, rows: tuple[Any, Any, Any], now: datetime) -> int:
    """One set per subscriber for these (subscriber, paper, subscription) arrays, sorted by subscriber.

    Written through the driver (COPY on PostgreSQL, one executemany on SQLite) from a generator: a
    million subscriptions make hundreds of thousands of sets per cycle, and building them as ORM
    parameters cost more time and memory than the match."""
    import numpy as np

    subscribers, papers, subscriptions = rows
    if not len(subscribers):
        return 0
    bounds = np.concatenate(([0], np.flatnonzero(np.diff(subscribers)) + 1, [len(subscribers)])).tolist()
    owners = subscribers[bounds[:-1]].tolist()
    paper_ids = np.ascontiguousarray(papers, _INT64)
    subscription_ids = np.ascontiguousarray(subscriptions, _INT64)
    sets = (
        (owner, b - a, paper_ids[a:b].tobytes(), subscription_ids[a:b].tobytes())
        for owner, (a, b) in zip(owners, pairwise(bounds), strict=True)
    )
    naive = now.astimezone(UTC).replace(tzinfo=None)  # what UTCDateTime stores
    connection: Any = session.connection()
    raw = connection.connection.driver_connection
    columns = "match_sets (subscriber_id, pairs, paper_ids, subscription_ids, created_at)"
    if connection.dialect.name == "postgresql":
        with raw.cursor() as cursor, cursor.copy(f"COPY {columns} FROM STDIN") as copy:
            for row in sets:
                copy.write_row((*row, naive))
        return len(subscribers)
    cursor = raw.cursor()
    try:  # the time is a literal (ours, digits and separators), not bound on every row
        cursor.executemany(f"INSERT INTO {columns} VALUES (?, ?, ?, ?, '{sqlite_stamp(naive)}')", sets)
    finally:
        cursor.close()
    return len(subscribers)


def expand(
    session: Session, db: Database, *, subscriber_ids: Sequence[int] | None = None,
    kinds: Sequence[str] | None = None,
) -> int:
    """Turn the sets of these subscribers (all when None) into PENDING ledger rows; returns rows created.

    Runs in the caller's transaction. Two expansions of the same subscriber at once are harmless: the
    ledger's unique (subscriber, paper) keeps one row, and deleting a set twice deletes it once.
    """
    query = select(_M.c.id, _M.c.subscriber_id, _M.c.paper_ids, _M.c.subscription_ids, _M.c.created_at)
    if subscriber_ids is not None:
        if not subscriber_ids:
            return 0
        query = query.where(_M.c.subscriber_id.in_(list(subscriber_ids)))
    if kinds is not None:
        query = query.where(_M.c.subscriber_id.in_(select(_S.c.id).where(_S.c.kind.in_(list(kinds)))))
    sets = [row for row in session.execute(query.order_by(_M.c.id)).all() if _well_formed(row)]
    if not sets:
        return 0
    created = 0
    for stamp in sorted({row.created_at for row in sets}):
        created += _expand_group(session, db, [row for row in sets if row.created_at == stamp], stamp)
    ids = [row.id for row in sets]
    for some in in_slices(ids):
        session.execute(delete(_M).where(_M.c.id.in_(some)))
    return created


def _well_formed(row: Row[Any]) -> bool:
    """A set whose arrays cannot be read is left in place, logged, and skipped: it must not stop the
    subscriber's other matches (or anyone else's) from being delivered, nor be silently dropped."""
    size = len(row.paper_ids)
    if size % _INT64_BYTES == 0 and size == len(row.subscription_ids):
        return True
    log.error("match set #%s of subscriber #%s is malformed (%d and %d bytes); skipped", row.id,
              row.subscriber_id, size, len(row.subscription_ids))
    return False


def _expand_group(session: Session, db: Database, sets: list[Row[Any]], stamp: datetime) -> int:
    """The rows of sets written by one cycle (one created_at), in bulk."""
    import numpy as np

    counts = [len(row.paper_ids) // _INT64_BYTES for row in sets]
    subscribers = np.repeat(np.asarray([row.subscriber_id for row in sets], np.int64), counts)
    papers = np.frombuffer(b"".join(row.paper_ids for row in sets), _INT64)
    subscriptions = np.frombuffer(b"".join(row.subscription_ids for row in sets), _INT64)
    keep = np.isin(papers, _existing(session, Paper.id, np.unique(papers)))  # papers deleted since: dropped
    subscribers, papers, subscriptions = subscribers[keep], papers[keep], subscriptions[keep]
    live = np.isin(subscriptions, _existing(session, Subscription.id, np.unique(subscriptions)))
    created = insert_ledger(session, db, (subscribers[live], papers[live], subscriptions[live]), stamp)
    if not live.all():
        created += _insert_without_subscription(session, db, subscribers[~live], papers[~live], stamp)
    return created


def _existing(session: Session, column: Any, ids: Any) -> Any:
    """Those of `ids` still present in `column`'s table."""
    import numpy as np

    found: list[int] = []
    values = ids.tolist()
    for some in in_slices(values):
        found += session.execute(select(column).where(column.in_(some))).scalars()
    return np.asarray(found, np.int64)


def _insert_without_subscription(session: Session, db: Database, subscribers: Any, papers: Any,
                                 stamp: datetime) -> int:
    """Rows whose subscription was deleted after the match (rare): subscription_id NULL."""
    statement = db.insert(Delivery.__table__).on_conflict_do_nothing(  # type: ignore[attr-defined]
        index_elements=["subscriber_id", "paper_id"]
    )
    rows = [
        {"subscriber_id": s, "paper_id": p, "subscription_id": None, "status": DeliveryStatus.PENDING.value,
         "explanation": {}, "created_at": stamp.astimezone(UTC), "attempts": 0}
        for s, p in zip(subscribers.tolist(), papers.tolist(), strict=True)
    ]
    # counted from RETURNING: an executemany's rowcount is not reliable on every driver
    inserted = session.execute(statement.returning(Delivery.__table__.c.id), rows)  # type: ignore[attr-defined]
    return len(inserted.all())


def waiting_by_kind(session: Session) -> dict[str, int]:
    """Matches not expanded yet, per subscriber kind."""
    rows = session.execute(
        select(_S.c.kind, func.sum(_M.c.pairs)).select_from(_M.join(_S, _S.c.id == _M.c.subscriber_id))
        .group_by(_S.c.kind)
    ).all()
    return {str(kind): int(total or 0) for kind, total in rows}


def waiting_for(session: Session, subscriber_ids: Sequence[int] | Select[Any]) -> int:
    """Matches not expanded yet of these subscribers (ids, or a query selecting them)."""
    wanted = subscriber_ids if isinstance(subscriber_ids, Select) else list(subscriber_ids)
    total = session.execute(select(func.sum(_M.c.pairs)).where(_M.c.subscriber_id.in_(wanted)))
    return int(total.scalar() or 0)


def oldest(session: Session) -> datetime | None:
    """When the oldest set not expanded yet was recorded."""
    value: datetime | None = session.execute(select(func.min(_M.c.created_at))).scalar()
    return value


def expand_now(db: Database, subscriber_ids: Sequence[int] | None = None) -> int:
    """`expand` in a transaction of its own (all subscribers when None): tests, the benchmark, the demo."""
    with db.session() as session:
        return expand(session, db, subscriber_ids=subscriber_ids)
