"""Query health for readers: per saved query, papers matched in the last 30 days and recent near misses.

Matched counts come from the delivery ledger (rows of that subscription created in the window, any
status but dropped; a paper two of one reader's queries match counts under the lower one, as the
ledger records it). The match cycle (digest.services.matching) asks `narrow_subscriptions` once per
cycle which queries matched fewer than `NARROW` papers, has the compiled matcher find their near
misses in each batch it already indexes (digest.query.near) and keeps the newest three per query
here (`record_near_misses`, table `query_health`), looking again at most every 12 hours per query.
Readers see `health_lines` in each digest footer, `subscriptions list`, Discord's `/subscriptions` and
the manage page; a query that matched nothing
for 30 days also gets a plain note at most once a week (`silent_noted_on`), and the admin health
report lists such queries (`silent_queries`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func
from sqlalchemy.engine import Connection
from sqlmodel import Session, col, select

from digest.core.assembly import QueryHealthLine
from digest.services import trending
from storage.db import Database
from storage.lifecycle_models import QueryHealth
from storage.models import Delivery, DeliveryStatus, Subscriber, Subscription

WINDOW = timedelta(days=30)
NARROW = 3  # fewer matches than this in the window: the query is narrow, its near misses are worth showing
NOTE_EVERY = timedelta(days=7)
KEEP = 3  # near misses kept and shown per query
REFRESH = timedelta(hours=12)  # a query's near misses are looked for again after this


def match_counts(session: Session, subscription_ids: Collection[int] | None, now: datetime) -> dict[int, int]:
    """subscription id -> ledger rows created in the window (all subscriptions when `subscription_ids` is None)."""
    statement = (
        select(col(Delivery.subscription_id), func.count())
        .where(col(Delivery.created_at) >= now - WINDOW, Delivery.status != DeliveryStatus.DROPPED.value)
        .group_by(col(Delivery.subscription_id))
    )
    if subscription_ids is not None:
        if not subscription_ids:
            return {}
        statement = statement.where(col(Delivery.subscription_id).in_(list(subscription_ids)))
    return {int(sid): int(count) for sid, count in session.execute(statement) if sid is not None}


def narrow_subscriptions(session: Session, subscription_ids: Collection[int], now: datetime) -> set[int]:
    """The active subscriptions that matched fewer than NARROW papers in the window, except those whose near
    misses were refreshed in the last REFRESH (readers see them at most daily: no rewrite every cycle)."""
    counts = match_counts(session, None, now)
    fresh = set(session.execute(select(col(QueryHealth.subscription_id)).where(
        col(QueryHealth.updated_at) > now - REFRESH)).scalars())
    return {sid for sid in subscription_ids if counts.get(sid, 0) < NARROW and sid not in fresh}


def record_near_misses(session: Session, found: Mapping[int, Sequence[tuple[int, str, str]]], now: datetime) -> None:
    """Keep the newest KEEP near misses per subscription: `found` is sid -> [(paper id, title, failed clause)].

    Stored as `[paper id, title, clause]` lists, with bulk Core statements (no ORM object per query): with
    every query narrow a batch touches tens of thousands of rows."""
    if not found:
        return
    ids = list(found)
    existing: dict[int, list[Any]] = {}
    for start in range(0, len(ids), 1000):
        rows = session.execute(select(col(QueryHealth.subscription_id), col(QueryHealth.near_misses))
                               .where(col(QueryHealth.subscription_id).in_(ids[start : start + 1000])))
        existing.update((int(sid), list(misses)) for sid, misses in rows)
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for sid, misses in found.items():
        fresh = [[paper, title, clause] for paper, title, clause in misses]
        seen = {miss[0] for miss in fresh}
        older = [m for m in existing.get(sid) or [] if isinstance(m, list) and m and m[0] not in seen]
        row = {"subscription_id": sid, "near_misses": (fresh + older)[:KEEP], "updated_at": now}
        if sid in existing:
            updates.append({"sid": sid, **row})
        else:
            inserts.append(row)
    table = QueryHealth.__table__  # type: ignore[attr-defined]
    if inserts:
        session.execute(table.insert(), inserts)
    if updates:
        session.execute(table.update().where(table.c.subscription_id == bindparam("sid")), updates)


def _line(sid: int, query: str, created_at: datetime, count: int, row: QueryHealth | None, now: datetime
          ) -> QueryHealthLine:
    misses: tuple[tuple[str, str], ...] = ()
    if count < NARROW and row is not None:
        misses = tuple((str(m[1]), str(m[2])) for m in row.near_misses[:KEEP] if isinstance(m, list) and len(m) == 3)
    silent = count == 0 and created_at <= now - WINDOW and (
        row is None or row.silent_noted_at is None or row.silent_noted_at <= now - NOTE_EVERY)
    return QueryHealthLine(sid, query, count, misses, silent)


def health_of(session: Session, subscriptions: Sequence[Subscription], now: datetime) -> list[QueryHealthLine]:
    """One line per query subscription (trending ones have no query to be narrow), in the given order."""
    wanted = [s for s in subscriptions if s.id is not None and not trending.is_trending(s.query)]
    ids = [s.id for s in wanted if s.id is not None]
    counts = match_counts(session, ids, now)
    rows = {r.subscription_id: r for r in session.exec(
        select(QueryHealth).where(col(QueryHealth.subscription_id).in_(ids)))} if ids else {}
    return [_line(s.id, s.query, s.created_at, counts.get(s.id, 0), rows.get(s.id), now)
            for s in wanted if s.id is not None]


def health_by_id(db: Database, subscriptions: Sequence[Subscription], now: datetime) -> dict[int, QueryHealthLine]:
    """subscription id -> its health (for lists such as Discord's /subscriptions)."""
    with db.session() as session:
        return {line.subscription_id: line for line in health_of(session, subscriptions, now)}


def health_lines(db: Database, subscriber_id: int, now: datetime) -> list[QueryHealthLine]:
    """The health of a subscriber's active queries, for their digest footer."""
    with db.session() as session:
        subscriptions = session.exec(select(Subscription).where(
            Subscription.subscriber_id == subscriber_id, col(Subscription.paused).is_(False)
        ).order_by(col(Subscription.id))).all()
        return health_of(session, subscriptions, now)


def silent_noted_on(connection: Connection, db: Database, subscription_ids: Sequence[int], now: datetime) -> None:
    """The reader was told these queries matched nothing for 30 days (not again for a week), in the caller's
    transaction: one upsert (a row written meanwhile by the health refresh is updated, not a conflict that
    would fail the writes sharing the transaction)."""
    if not subscription_ids:
        return
    table = QueryHealth.__table__  # type: ignore[attr-defined]
    insert = db.insert(table)
    connection.execute(
        insert.on_conflict_do_update(index_elements=[table.c.subscription_id],
                                     set_={"silent_noted_at": insert.excluded.silent_noted_at}),
        # a new row is not 'fresh': its near misses are looked for at the next refresh
        [{"subscription_id": sid, "near_misses": [], "updated_at": now - REFRESH, "silent_noted_at": now}
         for sid in sorted(set(subscription_ids))],
    )


def silent_queries(db: Database, now: datetime, limit: int = 50) -> list[dict[str, Any]]:
    """Active queries older than the window that matched nothing in it (for the admin health report)."""
    with db.session() as session:
        rows = session.execute(
            select(col(Subscription.id), col(Subscription.query), col(Subscription.subscriber_id))
            .join(Subscriber, col(Subscription.subscriber_id) == col(Subscriber.id))
            .where(col(Subscription.paused).is_(False), col(Subscriber.paused).is_(False),
                   col(Subscription.created_at) <= now - WINDOW)
            .order_by(col(Subscription.id))
        ).all()
        counts = match_counts(session, None, now)
    silent = [{"subscription_id": sid, "query": query, "subscriber_id": owner}
              for sid, query, owner in rows if counts.get(sid, 0) == 0 and not trending.is_trending(query)]
    return silent[:limit]
