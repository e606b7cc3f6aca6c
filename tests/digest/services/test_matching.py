"""The match step on a real database: ledger rows, the cursor, and never matching twice."""

from __future__ import annotations

from sqlmodel import select

from digest.services import match_sets
from digest.services import subscribers as service
from digest.services.matching import run_match_cycle
from digest.settings import Settings
from storage.db import Database
from storage.models import Cursor, Delivery, Paper


def add_papers(db: Database, *titles: str) -> list[int]:
    ids = []
    with db.session() as session:
        for index, title in enumerate(titles):
            paper = Paper(canonical_id=f"2401.{index:05d}{len(title)}", title=title, abstract="Plain abstract.")
            session.add(paper)
            session.flush()
            assert paper.id is not None
            ids.append(paper.id)
    return ids


def deliveries(db: Database) -> list[Delivery]:
    """The ledger as delivery reads it: recorded matches expanded into rows first."""
    match_sets.expand_now(db)
    with db.session() as session:
        return list(session.exec(select(Delivery).order_by(Delivery.id)).all())  # type: ignore[arg-type]


def test_matches_become_pending_ledger_rows_once(db: Database, settings: Settings) -> None:
    service.add_subscriber(db, settings, "email", "ada@example.org")
    first = service.add_subscription(db, settings, "ada@example.org", "autoencoder")
    service.add_subscription(db, settings, "ada@example.org", '"sparse autoencoders"')
    service.add_subscriber(db, settings, "email", "grace@example.org")
    service.add_subscription(db, settings, "grace@example.org", "diffusion")
    ids = add_papers(db, "Sparse Autoencoders find features", "Diffusion models", "Unrelated title")

    report = run_match_cycle(db, settings)
    assert report.papers == 3 and report.matches_recorded == 2
    rows = deliveries(db)
    # one row for Ada although both of her queries match the first paper
    assert [(r.paper_id, r.status) for r in rows] == [(ids[0], "pending"), (ids[1], "pending")]
    assert rows[0].subscription_id == first.id
    assert rows[0].explanation == {}  # built at delivery time, for the papers shown

    again = run_match_cycle(db, settings)
    assert again.papers == 0 and again.matches_recorded == 0
    with db.session() as session:
        cursor = session.get(Cursor, "match")
        assert cursor is not None and cursor.value == ids[-1]

    # a new paper is matched on the next cycle, old ones are not matched again
    add_papers(db, "Another diffusion paper here")
    assert run_match_cycle(db, settings).matches_recorded == 1
    assert len(deliveries(db)) == 3


def test_paused_subscriptions_and_subscribers_are_skipped(db: Database, settings: Settings) -> None:
    service.add_subscriber(db, settings, "email", "ada@example.org")
    paused = service.add_subscription(db, settings, "ada@example.org", "diffusion")
    service.set_subscription_paused(db, paused.id or 0, True)
    service.add_subscriber(db, settings, "email", "grace@example.org")
    service.add_subscription(db, settings, "grace@example.org", "diffusion")
    service.set_subscriber_paused(db, "grace@example.org", True, "on holiday")
    add_papers(db, "Diffusion models")
    assert run_match_cycle(db, settings).matches_recorded == 0


def test_a_stored_query_that_no_longer_parses_is_skipped(db: Database, settings: Settings) -> None:
    service.add_subscriber(db, settings, "email", "ada@example.org")
    long_query = service.add_subscription(db, settings, "ada@example.org", "diffusion OR " * 5 + "video")
    service.add_subscription(db, settings, "ada@example.org", "video")
    add_papers(db, "Video generation")
    strict = settings.model_copy(update={"query_max_clauses": 2})
    report = run_match_cycle(db, strict)
    assert report.invalid_subscriptions == [long_query.id]
    assert report.matches_recorded == 1
