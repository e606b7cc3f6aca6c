"""The match step of the cycle: new papers × all active subscriptions → pending ledger rows.

Called by `paperbell demo`, the scheduler's match job and tests. Papers are taken in id order
after the 'match' cursor; for each batch the pending `Delivery` rows and the advanced cursor are
written in ONE transaction, so a crash either matches a batch completely or not at all. The
ledger's unique (subscriber, paper) key means a paper matched by several of one subscriber's
queries, or matched again later, is delivered once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import text
from sqlmodel import Session, col, select

from digest.query import QueryError, compile_matcher, parse_query
from digest.services.preview import paper_to_doc
from digest.services.subscribers import query_limits
from digest.settings import Settings
from storage.db import Database
from storage.models import Cursor, Delivery, DeliveryStatus, Paper, Subscriber, Subscription
from storage.types import utcnow

log = logging.getLogger(__name__)
MATCH_CURSOR = "match"


@dataclass
class MatchReport:
    papers: int = 0
    subscriptions: int = 0
    deliveries_created: int = 0
    invalid_subscriptions: list[int] = field(default_factory=list)


def _lock_cursor(session: Session, db: Database) -> Cursor:
    """The match cursor, locked so two processes never match the same batch concurrently."""
    if db.is_postgres:
        # SHARE mode waits for in-flight paper inserts to commit, so no lower id can appear later
        # behind the cursor; the cursor row lock serialises concurrent match runs.
        session.exec(text("LOCK TABLE papers IN SHARE MODE"))  # type: ignore[call-overload]
        session.exec(  # type: ignore[call-overload]
            text("INSERT INTO cursors (name, value, updated_at) VALUES (:n, 0, now()) ON CONFLICT DO NOTHING"),
            params={"n": MATCH_CURSOR},
        )
        cursor = session.exec(select(Cursor).where(Cursor.name == MATCH_CURSOR).with_for_update()).one()
        return cursor
    cursor_row = session.get(Cursor, MATCH_CURSOR)
    if cursor_row is None:
        cursor_row = Cursor(name=MATCH_CURSOR, value=0)
        session.add(cursor_row)
        session.flush()
    return cursor_row


def _active_subscriptions(session: Session) -> list[tuple[Subscription, Subscriber]]:
    # Unconfirmed e-mail subscribers are matched too: their papers wait in the outbox until consent.
    rows = session.exec(
        select(Subscription, Subscriber)
        .join(Subscriber, col(Subscription.subscriber_id) == col(Subscriber.id))
        .where(col(Subscription.paused).is_(False), col(Subscriber.paused).is_(False))
        .order_by(col(Subscription.id))
    ).all()
    return [(subscription, subscriber) for subscription, subscriber in rows]


def run_match_cycle(
    db: Database, settings: Settings, now: datetime | None = None, *, batch_size: int = 2000
) -> MatchReport:
    """Match every paper not matched yet; returns what was done. Safe to call at any time."""
    report = MatchReport()
    now = now or utcnow()
    while True:
        with db.session() as session:
            cursor = _lock_cursor(session, db)
            papers = list(
                session.exec(
                    select(Paper).where(col(Paper.id) > cursor.value).order_by(col(Paper.id)).limit(batch_size)
                ).all()
            )
            if not papers:
                return report
            pairs = _active_subscriptions(session)
            queries = {}
            owner_of: dict[int, int] = {}
            for subscription, subscriber in pairs:
                assert subscription.id is not None and subscriber.id is not None
                try:
                    queries[subscription.id] = parse_query(subscription.query, query_limits(settings))
                except QueryError as exc:
                    # A limit lowered after saving can invalidate a stored query: skip it, say so, go on.
                    log.warning("subscription #%s skipped, its query no longer parses: %s", subscription.id, exc)
                    report.invalid_subscriptions.append(subscription.id)
                    continue
                owner_of[subscription.id] = subscriber.id
            report.subscriptions = len(queries)
            report.papers += len(papers)
            matches = compile_matcher(queries).match([paper_to_doc(paper) for paper in papers]) if queries else []

            paper_ids = [paper.id for paper in papers]
            already = {
                (subscriber_id, paper_id)
                for subscriber_id, paper_id in session.exec(
                    select(Delivery.subscriber_id, Delivery.paper_id).where(col(Delivery.paper_id).in_(paper_ids))
                ).all()
            }
            for match in matches:
                paper = papers[match.doc_index]
                assert paper.id is not None
                key = (owner_of[match.subscription_id], paper.id)
                if key in already:
                    continue
                already.add(key)
                explanation = match.explanation.to_dict()
                explanation["subscription_id"] = match.subscription_id
                session.add(
                    Delivery(
                        subscriber_id=key[0],
                        paper_id=paper.id,
                        subscription_id=match.subscription_id,
                        status=DeliveryStatus.PENDING.value,
                        explanation=explanation,
                        created_at=now,
                    )
                )
                report.deliveries_created += 1
            last_id = papers[-1].id
            assert last_id is not None
            cursor.value = last_id
            cursor.updated_at = now
            session.add(cursor)
