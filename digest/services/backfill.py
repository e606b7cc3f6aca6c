"""Backfill: a new subscription's first digest includes its matches among the papers stored recently.

Without it a new subscription only sees papers that arrive after it was saved, while the preview
showed recent matches (and the first digest said 0). `backfill_subscription` writes PENDING
ledger rows for the papers first seen in the last N days that the query matches, skipping any
(subscriber, paper) already in the ledger, in one transaction. The match cycle checks the same
ledger key, so a paper is never delivered twice to one subscriber.
"""

from __future__ import annotations

from digest.services.preview import preview_query
from digest.settings import Settings
from storage.db import Database
from storage.models import Delivery, DeliveryStatus, Subscription
from storage.types import utcnow


def backfill_subscription(db: Database, settings: Settings, subscription: Subscription, days: int) -> int:
    """Queue the last `days` days' matches of `subscription` for its subscriber's next delivery; returns how many."""
    if days <= 0:
        return 0
    assert subscription.id is not None
    preview = preview_query(db, settings, subscription.query, days=days, limit=None)
    papers = [paper for paper, _ in preview.examples]
    if not papers:
        return 0
    explanations = {paper.id: explanation.to_dict() for paper, explanation in preview.examples}
    now = utcnow()
    rows = [
        {"subscriber_id": subscription.subscriber_id, "paper_id": paper.id, "subscription_id": subscription.id,
         "status": DeliveryStatus.PENDING.value, "attempts": 0, "created_at": now,
         "explanation": {**explanations[paper.id], "subscription_id": subscription.id, "backfill": True}}
        for paper in papers if paper.id is not None
    ]
    # a paper already queued for this subscriber (by the matcher, or a concurrent form post) is skipped
    statement = db.insert(Delivery.__table__).on_conflict_do_nothing(  # type: ignore[attr-defined]
        index_elements=["subscriber_id", "paper_id"]
    )
    with db.session() as session:
        added = len(session.execute(statement.returning(Delivery.__table__.c.id), rows).all())  # type: ignore[attr-defined]
    return added
