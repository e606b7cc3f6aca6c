"""Backfill: a new subscription's first digest includes its matches among the papers stored recently.

Without it a new subscription only sees papers that arrive after it was saved, while the preview
showed recent matches (and the first digest said 0). `backfill_subscription` writes PENDING
ledger rows for the papers first seen in the last N days that the query matches, skipping any
(subscriber, paper) already in the ledger, in one transaction. The match cycle checks the same
ledger key, so a paper is never delivered twice to one subscriber.
"""

from __future__ import annotations

from sqlmodel import col, select

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
    with db.session() as session:
        already = set(session.exec(
            select(Delivery.paper_id).where(Delivery.subscriber_id == subscription.subscriber_id,
                                            col(Delivery.paper_id).in_([p.id for p in papers]))
        ).all())
        added = 0
        for paper in papers:
            if paper.id is None or paper.id in already:
                continue
            explanation = {**explanations[paper.id], "subscription_id": subscription.id, "backfill": True}
            session.add(Delivery(subscriber_id=subscription.subscriber_id, paper_id=paper.id,
                                 subscription_id=subscription.id, status=DeliveryStatus.PENDING.value,
                                 explanation=explanation, created_at=now))
            added += 1
    return added
