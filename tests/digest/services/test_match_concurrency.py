"""PostgreSQL: a match cycle and an ingest at the same time — neither waits for the other, no paper is skipped."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from digest.services import match_sets
from digest.services import subscribers as service
from digest.services.match_cache import active_subscription_rows, matcher_cache
from digest.services.matching import MatchReport, match_batch, run_match_cycle, safe_bound
from digest.services.subscribers import query_limits
from digest.settings import Settings
from storage.db import Database
from storage.models import Delivery, Paper
from storage.types import utcnow

pytestmark = pytest.mark.usefixtures("postgres_only")


@pytest.fixture
def postgres_only(db: Database) -> None:
    if not db.is_postgres:
        pytest.skip("concurrency of the cycle and ingestion is a PostgreSQL matter (SQLite has one writer)")


@pytest.fixture
def ingest_engine(db: Database) -> Iterator[Engine]:
    """A second client, as the ingest process: it gives up on any lock it cannot get within 200 ms."""
    engine = create_engine(db.url, connect_args={"options": "-c lock_timeout=200ms"})
    yield engine
    engine.dispose()


def paper(name: str) -> Paper:
    return Paper(canonical_id=f"2501.{name}", title=f"Diffusion paper {name}", abstract="About diffusion.")


def matched_papers(db: Database) -> set[str]:
    match_sets.expand_now(db)  # the ledger as delivery reads it
    with db.session() as session:
        rows = session.exec(select(Paper.canonical_id).join(Delivery, Delivery.paper_id == Paper.id)).all()  # type: ignore[arg-type]
        return set(rows)


def subscribe(db: Database, settings: Settings) -> None:
    service.add_subscriber(db, settings, "email", "ada@example.org")
    service.add_subscription(db, settings, "ada@example.org", "diffusion")


def test_an_open_cycle_transaction_never_blocks_an_ingest(
    db: Database, settings: Settings, ingest_engine: Engine
) -> None:
    subscribe(db, settings)
    with db.session() as session:
        session.add(paper("00001"))
    cache = matcher_cache(db.url, query_limits(settings))
    bound = safe_bound(db)
    assert bound is not None
    with db.session() as session:
        cache.sync(active_subscription_rows(session))
    report = MatchReport()
    with db.session() as cycle:  # a batch done (ledger rows written, cursor moved) but not committed yet
        assert match_batch(cycle, db, cache, bound, 2000, utcnow(), report)
        with Session(ingest_engine) as ingest:  # raises if it had to wait more than 200 ms for a lock
            ingest.add(paper("00002"))
            ingest.commit()
    assert report.matches_recorded == 1
    # the paper committed during the cycle was beyond its bound: the next cycle matches it
    assert run_match_cycle(db, settings).matches_recorded == 1
    assert matched_papers(db) == {"2501.00001", "2501.00002"}


def test_a_paper_committing_late_is_not_skipped(db: Database, settings: Settings, ingest_engine: Engine) -> None:
    subscribe(db, settings)
    with Session(ingest_engine) as slow:
        slow.add(paper("00001"))
        slow.flush()  # its id is drawn now, but it commits after a later paper
        with Session(ingest_engine) as fast:
            fast.add(paper("00002"))
            fast.commit()
        # an insert is in flight: the cycle neither waits for it nor moves past it
        report = run_match_cycle(db, settings)
        assert report.deferred and report.papers == 0
        slow.commit()
    report = run_match_cycle(db, settings)
    assert report.deferred is None and report.papers == 2
    assert matched_papers(db) == {"2501.00001", "2501.00002"}
