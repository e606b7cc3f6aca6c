"""The match step of the cycle: new papers × all active subscriptions → pending ledger rows.

Called by `paperbell demo`, the scheduler's match job, tests and bench/match_cycle.py. The compiled
subscriptions are kept between cycles (digest.services.match_cache) and only what changed is
recompiled. Papers are taken in id order after the 'match' cursor, up to a safe upper bound (below);
for each batch the matches, compactly (digest.services.match_sets: one row per subscriber, expanded
into `Delivery` rows when that subscriber's delivery reads them), and the advanced cursor are
written in ONE transaction, so a crash either matches a batch completely or not at all. The ledger
stores no explanation: delivery builds it for the papers it shows (`match_cache.explain`). A paper
matched by several of one subscriber's queries is recorded once, under the lowest subscription id.

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
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col, select

from digest.core.records import matcher_categories
from digest.query import PaperDoc
from digest.query.people import ORCIDS_EXTRA, author_ids
from digest.services import match_sets
from digest.services.match_cache import MatcherCache, active_subscription_rows, analysed, matcher_cache
from digest.services.subscribers import query_limits
from digest.settings import Settings
from storage.db import Database
from storage.models import Cursor, Paper
from storage.types import utcnow

log = logging.getLogger(__name__)
MATCH_CURSOR = "match"
# Memory per batch grows with compiled nodes × papers (the bit matrix) and with its matches (arrays of
# ~50 bytes per match while deduplicated): with a million subscriptions a 2,000-paper batch held 35M
# matches and 3.5 GB, twice these budgets 1.6 GB, these 1.3 GB. Batches shrink to keep both within
# these budgets (never below MIN_BATCH papers).
MATRIX_BUDGET_BYTES = 32 << 20
PAIRS_BUDGET = 1_500_000
MIN_BATCH = 64


@dataclass
class MatchReport:
    papers: int = 0
    subscriptions: int = 0
    matches_recorded: int = 0  # (subscriber, paper) pairs recorded; one already in the ledger is skipped at delivery
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
            col(Paper.authors), col(Paper.categories), col(Paper.sources),
            Paper.__table__.c.extras[ORCIDS_EXTRA],  # type: ignore[attr-defined]  # the ORCIDs only, not all extras
        )
        .where(col(Paper.id) > after, col(Paper.id) <= bound)
        .order_by(col(Paper.id))
        .limit(limit)
    ).all()
    return [
        (r[0], PaperDoc(r[1], r[2] or "", r[3] or "", list(r[4] or []), matcher_categories(r[5] or [], r[6] or []),
                        author_ids(r[7])))
        for r in rows
    ]


def ledger_rows(pair_sids: Any, pair_docs: Any, sids: Any, owners: Any, paper_ids: Any) -> tuple[Any, Any, Any]:
    """(subscriber, paper, subscription) arrays, one per (subscriber, paper), lowest subscription first."""
    subscribers = owners[np.searchsorted(sids, pair_sids)]
    key = subscribers * len(paper_ids) + pair_docs
    # pairs come ordered by subscription id, so the first occurrence of a key has the lowest one
    _keys, first = np.unique(key, return_index=True)
    return subscribers[first], paper_ids[pair_docs[first]], pair_sids[first]


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
        size = min(batch_size, papers_for_matrix(len(cache.matcher.program)))
        while True:
            recorded = report.matches_recorded
            with db.session() as session:
                if not match_batch(session, db, cache, bound, size, now, report):
                    return report
            size = next_batch_size(size, report.matches_recorded - recorded, batch_size)


def papers_for_matrix(nodes: int) -> int:
    """Papers per batch whose bit matrix (one row of 64-bit words per compiled node) fits the budget."""
    words = MATRIX_BUDGET_BYTES // (8 * max(1, nodes))
    return max(MIN_BATCH, 64 * words)


def next_batch_size(size: int, recorded: int, most: int) -> int:
    """The next batch's papers, so its matches (as arrays) stay within the budget at this batch's rate."""
    if not recorded:
        return most
    return max(MIN_BATCH, min(most, size * PAIRS_BUDGET // recorded))


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
    report.matches_recorded += match_sets.record(session, rows, now)
    cursor.value = papers[-1][0]
    cursor.updated_at = now
    session.add(cursor)
    return True
