"""The tables on a real database: round trips, aware timestamps, and the ledger's uniqueness."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from storage.db import Database
from storage.models import Delivery, Paper, Subscriber, Subscription


def _paper(db: Database, canonical_id: str = "2410.17243") -> Paper:
    with db.session() as session:
        paper = Paper(
            canonical_id=canonical_id, version=2, title="A title", abstract="An abstract.",
            authors=["Ada Lovelace"], categories=["cs.LG"], extras={"upvotes": 3},
            published_at=datetime(2024, 10, 22, 17, 0, tzinfo=UTC),
        )
        session.add(paper)
        session.flush()
        session.refresh(paper)
        return paper


def _subscriber(db: Database) -> Subscriber:
    with db.session() as session:
        subscriber = Subscriber(kind="email", address="ada@example.org")
        session.add(subscriber)
        session.flush()
        session.refresh(subscriber)
        return subscriber


def test_paper_round_trip_keeps_json_and_aware_times(db: Database) -> None:
    paper = _paper(db)
    with db.session() as session:
        loaded = session.exec(select(Paper).where(Paper.canonical_id == "2410.17243")).one()
    assert loaded.id == paper.id
    assert loaded.authors == ["Ada Lovelace"] and loaded.extras == {"upvotes": 3}
    assert loaded.published_at == datetime(2024, 10, 22, 17, 0, tzinfo=UTC)
    assert loaded.first_seen_at.tzinfo is not None


def test_canonical_id_is_unique(db: Database) -> None:
    _paper(db)
    with pytest.raises(IntegrityError):
        _paper(db)


def test_ledger_refuses_a_second_delivery_of_the_same_paper(db: Database) -> None:
    paper, subscriber = _paper(db), _subscriber(db)
    assert paper.id and subscriber.id
    with db.session() as session:
        session.add(Delivery(subscriber_id=subscriber.id, paper_id=paper.id))
    with pytest.raises(IntegrityError), db.session() as session:
        session.add(Delivery(subscriber_id=subscriber.id, paper_id=paper.id, status="sent"))
    with db.session() as session:
        assert len(session.exec(select(Delivery)).all()) == 1


def test_deleting_a_subscriber_cascades_to_subscriptions_and_ledger(db: Database) -> None:
    paper, subscriber = _paper(db), _subscriber(db)
    assert paper.id and subscriber.id
    with db.session() as session:
        session.add(Subscription(subscriber_id=subscriber.id, query="x"))
        session.add(Delivery(subscriber_id=subscriber.id, paper_id=paper.id))
    with db.session() as session:
        session.delete(session.get(Subscriber, subscriber.id))
    with db.session() as session:
        assert session.exec(select(Subscription)).all() == []
        assert session.exec(select(Delivery)).all() == []


def test_naive_datetimes_are_refused(db: Database) -> None:
    with pytest.raises(Exception, match="naive"), db.session() as session:
        session.add(Paper(canonical_id="x", title="t", published_at=datetime(2024, 1, 1)))
        session.flush()
