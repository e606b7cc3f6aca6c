"""What the learned ranking learned, told back to the reader, and how they reset it.

* `what_it_learned`: up to five plain-words phrases for the manage page and `/subscriptions`.
* `reset_learning`: forgets a subscriber's votes (every voter's, for a channel); the next digest is
  in the order without votes again.
"""

from __future__ import annotations

from sqlalchemy import delete
from sqlmodel import col, select

from digest.services.feedback import scorer_for, texts_of, votes_for
from storage.db import Database
from storage.feedback_models import PaperVote
from storage.models import Delivery

CONTEXT_PAPERS = 300  # recent deliveries the explanation contrasts the liked papers with


def what_it_learned(db: Database, subscriber_id: int) -> list[str]:
    """Plain-words phrases for what lifts a paper in this subscriber's order (empty before it learned)."""
    votes = votes_for(db, subscriber_id)
    if not any(v > 0 for v in votes.values()):
        return []
    with db.session() as session:
        recent = session.exec(
            select(Delivery.paper_id).where(Delivery.subscriber_id == subscriber_id)
            .order_by(col(Delivery.created_at).desc()).limit(CONTEXT_PAPERS)
        ).all()
    scorer = scorer_for(db, subscriber_id, [int(p) for p in recent], votes)
    liked = texts_of(db, [p for p, v in votes.items() if v > 0])
    from digest.feedback.explain import learned_features  # scikit-learn: only when there is something to explain

    return learned_features(scorer, liked)


def reset_learning(db: Database, subscriber_id: int) -> int:
    """Delete the subscriber's votes; returns how many were forgotten."""
    with db.session() as session:
        result = session.execute(delete(PaperVote).where(col(PaperVote.subscriber_id) == subscriber_id))
        return int(getattr(result, "rowcount", 0) or 0)

