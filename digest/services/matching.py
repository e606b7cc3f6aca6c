"""The match step of the cycle: new papers × all active subscriptions → pending ledger rows.

Called by `paperbell demo`, the scheduler's match job, tests and bench/match_cycle.py. The compiled
subscriptions are kept between cycles (digest.services.match_cache) and only what changed is
recompiled. Papers are taken in id order after the 'match' cursor, up to a safe upper bound (below);
for each batch the pending `Delivery` rows (bulk: COPY on PostgreSQL, executemany on SQLite, both
skipping existing (subscriber, paper) rows) and the advanced cursor are written in ONE transaction,
so a crash either matches a batch completely or not at all. The ledger stores no explanation:
delivery builds it for the papers it shows (`match_cache.explain`). A paper matched by several of
one subscriber's queries is recorded once, under the lowest subscription id.

The safe upper bound keeps the id cursor from skipping a paper whose transaction commits late (on
PostgreSQL ids are drawn at insert, in one order, and become visible at commit, in another). In a
separate, instant transaction the cycle takes `SHARE` on papers with NOWAIT and reads max(id): with
no insert in flight, every id up to it is committed or abandoned, and later inserts draw larger
ids. NOWAIT never queues, so an ingest is never made to wait behind the cycle (at most for that
one index lookup); if an ingest is in flight the cycle defers and the next one matches. The batch
transactions hold only the cursor row's lock. On SQLite writers are serialised, so max(id) is safe.
"""

from __future__ import annotations

import logging
import struct
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col, select

from digest.query import PaperDoc
from digest.services.match_cache import MatcherCache, active_subscription_rows, analysed, matcher_cache
from digest.services.subscribers import query_limits
from digest.settings import Settings
from storage.db import Database
from storage.models import Cursor, DeliveryStatus, Paper
from storage.types import utcnow

log = logging.getLogger(__name__)
MATCH_CURSOR = "match"
WRITE_CHUNK = 200_000  # ledger rows per write call
SQLITE_WRITE_CACHE_KIB = 256 * 1024  # page cache of the connection writing a batch's ledger rows


@dataclass
class MatchReport:
    papers: int = 0
    subscriptions: int = 0
    deliveries_created: int = 0
    invalid_subscriptions: list[int] = field(default_factory=list)
    deferred: str | None = None  # why this cycle matched nothing (an ingest was in flight)


def safe_bound(db: Database) -> int | None:
    """The highest paper id the cycle may match now, or None while an insert is in flight (PostgreSQL)."""
    with db.engine.connect() as connection:
        if db.is_postgres:
            try:
                connection.exec_driver_sql("LOCK TABLE papers IN SHARE MODE NOWAIT")
            except OperationalError:
                connection.rollback()
                return None
        bound = connection.exec_driver_sql("SELECT coalesce(max(id), 0) FROM papers").scalar()
        connection.commit()  # releases the lock at once
    return int(bound or 0)


def lock_cursor(session: Session, db: Database) -> Cursor:
    """The match cursor, row-locked so two processes never match the same batch concurrently."""
    if db.is_postgres:
        session.exec(  # type: ignore[call-overload]
            text("INSERT INTO cursors (name, value, updated_at) VALUES (:n, 0, now()) ON CONFLICT DO NOTHING"),
            params={"n": MATCH_CURSOR},
        )
        return session.exec(select(Cursor).where(Cursor.name == MATCH_CURSOR).with_for_update()).one()
    cursor_row = session.get(Cursor, MATCH_CURSOR)
    if cursor_row is None:
        cursor_row = Cursor(name=MATCH_CURSOR, value=0)
        session.add(cursor_row)
        session.flush()
    return cursor_row


def _papers(session: Session, after: int, bound: int, limit: int) -> list[tuple[int, PaperDoc]]:
    rows = session.execute(
        select(  # type: ignore[call-overload]
            col(Paper.id), col(Paper.canonical_id), col(Paper.title), col(Paper.abstract),
            col(Paper.authors), col(Paper.categories),
        )
        .where(col(Paper.id) > after, col(Paper.id) <= bound)
        .order_by(col(Paper.id))
        .limit(limit)
    ).all()
    return [(r[0], PaperDoc(r[1], r[2] or "", r[3] or "", list(r[4] or []), list(r[5] or []))) for r in rows]


def ledger_rows(pair_sids: Any, pair_docs: Any, sids: Any, owners: Any, paper_ids: Any) -> tuple[Any, Any, Any]:
    """(subscriber, paper, subscription) arrays, one per (subscriber, paper), lowest subscription first."""
    subscribers = owners[np.searchsorted(sids, pair_sids)]
    key = subscribers * len(paper_ids) + pair_docs
    # pairs come ordered by subscription id, so the first occurrence of a key has the lowest one
    _keys, first = np.unique(key, return_index=True)
    return subscribers[first], paper_ids[pair_docs[first]], pair_sids[first]


def _copy_binary(columns: tuple[Any, ...]) -> bytes:
    """PostgreSQL binary COPY data for rows of bigint columns, built by numpy without a per-row loop."""
    fields = [("n", ">i2")]
    for i in range(len(columns)):
        fields += [(f"l{i}", ">i4"), (f"v{i}", ">i8")]  # each field: its length, then the value
    dtype = np.dtype(fields)
    rows = np.empty(len(columns[0]), dtype)
    rows["n"] = len(columns)
    for i, values in enumerate(columns):
        rows[f"l{i}"] = 8
        rows[f"v{i}"] = values
    return b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0) + rows.tobytes() + struct.pack(">h", -1)


def insert_ledger(session: Session, db: Database, rows: tuple[Any, Any, Any], now: datetime) -> int:
    """Pending deliveries for these rows, skipping (subscriber, paper) pairs already in the ledger.

    Written in chunks so the driver-side copies stay small whatever the number of matches.
    """
    subscribers, papers, subscriptions = rows
    connection = session.connection()
    naive = now.astimezone(UTC).replace(tzinfo=None)  # what UTCDateTime stores
    created = 0
    if not db.is_postgres and len(subscribers):
        # The ledger's indexes outgrow SQLite's default 2 MB page cache at a few hundred thousand rows,
        # after which every insert re-reads index pages through the OS; this connection (one session,
        # NullPool) gets room for them while it writes, and gives it back when it closes.
        connection.exec_driver_sql(f"PRAGMA cache_size=-{SQLITE_WRITE_CACHE_KIB}")
    for start in range(0, len(subscribers), WRITE_CHUNK):
        part = slice(start, start + WRITE_CHUNK)
        if db.is_postgres:
            created += _copy_ledger(connection, (subscribers[part], papers[part], subscriptions[part]), naive)
            continue
        created += _insert_sqlite(connection, (subscribers[part], papers[part], subscriptions[part]), naive)
    return created


def _insert_sqlite(connection: Any, columns: tuple[Any, Any, Any], naive: datetime) -> int:
    """SQLite: one executemany binding only the three ids per row.

    The constant columns are literals in the statement: binding them per row (and building a list of
    2M five-tuples for it) took a third of the write. Both literals are ours: a status enum value and
    SQLAlchemy's SQLite DATETIME text of the cycle's clock (digits and separators only).
    """
    stamp = naive.strftime("%Y-%m-%d %H:%M:%S.%f")
    raw = connection.connection.driver_connection
    cursor = raw.cursor()
    try:
        cursor.executemany(
            "INSERT OR IGNORE INTO deliveries (subscriber_id, paper_id, subscription_id, status, explanation,"
            f" created_at, attempts) VALUES (?, ?, ?, '{DeliveryStatus.PENDING.value}', '{{}}', '{stamp}', 0)",
            zip(columns[0].tolist(), columns[1].tolist(), columns[2].tolist(), strict=True),
        )
        return int(cursor.rowcount)
    finally:
        cursor.close()


def _copy_ledger(connection: Any, columns: tuple[Any, Any, Any], naive: datetime) -> int:
    """PostgreSQL: COPY (binary) into a temporary table, then one INSERT … ON CONFLICT DO NOTHING."""
    raw = connection.connection.driver_connection
    with raw.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE IF NOT EXISTS match_rows (subscriber_id bigint, paper_id bigint,"
            " subscription_id bigint) ON COMMIT DELETE ROWS"
        )
        cursor.execute("TRUNCATE match_rows")
        with cursor.copy("COPY match_rows FROM STDIN WITH (FORMAT BINARY)") as copy:
            copy.write(_copy_binary(columns))
        cursor.execute(
            "INSERT INTO deliveries (subscriber_id, paper_id, subscription_id, status, explanation,"
            " created_at, attempts) SELECT subscriber_id, paper_id, subscription_id, %s, '{}', %s, 0"
            " FROM match_rows ON CONFLICT DO NOTHING",
            (DeliveryStatus.PENDING.value, naive),
        )
        return int(cursor.rowcount)


def run_match_cycle(
    db: Database, settings: Settings, now: datetime | None = None, *, batch_size: int = 2000
) -> MatchReport:
    """Match every paper not matched yet; returns what was done. Safe to call at any time."""
    report = MatchReport()
    now = now or utcnow()
    bound = safe_bound(db)
    if bound is None:
        report.deferred = "papers are being ingested; the next cycle matches them"
        log.info("match cycle deferred: %s", report.deferred)
        return report
    cache = matcher_cache(db.url, query_limits(settings))
    with cache.lock:
        with db.session() as session:
            cache.sync(active_subscription_rows(session))
        report.subscriptions = len(cache.texts)
        report.invalid_subscriptions = list(cache.invalid)
        while True:
            with db.session() as session:
                if not match_batch(session, db, cache, bound, batch_size, now, report):
                    return report


def match_batch(
    session: Session, db: Database, cache: MatcherCache, bound: int, batch_size: int, now: datetime,
    report: MatchReport,
) -> bool:
    """One batch in the caller's transaction: the ledger rows and the cursor. False when none was left."""
    cursor = lock_cursor(session, db)
    papers = _papers(session, cursor.value, bound, batch_size)
    if not papers:
        return False
    report.papers += len(papers)
    docs = [analysed(paper_id, doc) for paper_id, doc in papers]
    pair_sids, pair_docs = cache.matcher.match_pairs(docs)
    paper_ids = np.fromiter((paper_id for paper_id, _ in papers), np.int64, len(papers))
    sids, owners = cache.owner_arrays()
    rows = ledger_rows(pair_sids, pair_docs, sids, owners, paper_ids)
    report.deliveries_created += insert_ledger(session, db, rows, now)
    cursor.value = papers[-1][0]
    cursor.updated_at = now
    session.add(cursor)
    return True
