"""Compact recorded matches: the cycle writes one set per subscriber; delivery expands them into rows once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlmodel import select

from digest.discord.guilds import guild_stats
from digest.email.rows import has_undelivered
from digest.services import match_sets, matching, outbox, outbox_counts
from digest.services import subscribers as service
from digest.services.matching import run_match_cycle
from digest.settings import Settings
from storage.db import Database
from storage.models import Cursor, Delivery, MatchSet, Paper, Subscription
from tests.digest.services.test_matching import add_papers


def rows(db: Database) -> list[tuple[int, int, int | None, str]]:
    with db.session() as session:
        found = session.exec(select(Delivery).order_by(Delivery.subscriber_id, Delivery.paper_id)).all()  # type: ignore[arg-type]
        return [(d.subscriber_id, d.paper_id, d.subscription_id, d.status) for d in found]


def sets(db: Database) -> list[tuple[int, int]]:
    with db.session() as session:
        return [(s.subscriber_id, s.pairs) for s in session.exec(select(MatchSet).order_by(MatchSet.id)).all()]  # type: ignore[arg-type]


def two_subscribers(db: Database, settings: Settings) -> tuple[int, int, int]:
    ada = service.add_subscriber(db, settings, "email", "ada@example.org", confirmed=True).id or 0
    first = service.add_subscription(db, settings, ada, "diffusion").id or 0
    service.add_subscription(db, settings, ada, "autoencoder")
    grace = service.add_subscriber(db, settings, "email", "grace@example.org", confirmed=True).id or 0
    service.add_subscription(db, settings, grace, "diffusion")
    return ada, grace, first


def test_the_cycle_writes_one_set_per_subscriber_and_no_rows(db: Database, settings: Settings) -> None:
    ada, grace, _ = two_subscribers(db, settings)
    add_papers(db, "Diffusion models", "Sparse autoencoder features", "Unrelated", "Latent diffusion")
    report = run_match_cycle(db, settings)
    assert report.matches_recorded == 5
    assert sets(db) == [(ada, 3), (grace, 2)] and rows(db) == []
    # what status pages, metrics and the e-mail sender see before any expansion
    assert outbox_counts.status_counts(db) == {"pending": 5}
    assert outbox_counts.pending_counts(db) == {"email": 5}
    assert outbox_counts.oldest_pending_age(db) is not None
    assert has_undelivered(db, ada) and has_undelivered(db, grace)


def test_a_claim_expands_only_its_subscriber_once(db: Database, settings: Settings) -> None:
    ada, grace, first = two_subscribers(db, settings)
    papers = add_papers(db, "Diffusion models", "Sparse autoencoder features", "Unrelated")
    run_match_cycle(db, settings)
    claimed = outbox.claim(db, worker_id="w", subscriber_ids=[ada])
    assert sorted((c.paper_id, c.subscription_id) for c in claimed) == [(papers[0], first), (papers[1], first + 1)]
    assert sets(db) == [(grace, 1)]  # Grace's set waits for her own send
    assert outbox.claim(db, worker_id="w", subscriber_ids=[ada]) == []  # expanded once, claimed once
    assert [r[3] for r in rows(db)] == ["sending", "sending"]


def test_expansion_follows_deletions_made_after_the_match(db: Database, settings: Settings) -> None:
    ada, grace, first = two_subscribers(db, settings)
    papers = add_papers(db, "Diffusion models", "Latent diffusion", "Sparse autoencoder features")
    run_match_cycle(db, settings)
    with db.session() as session:  # a paper withdrawn: dropped; a subscription removed: its rows keep none
        session.execute(Paper.__table__.delete().where(Paper.__table__.c.id == papers[1]))  # type: ignore[attr-defined]
        session.execute(Subscription.__table__.delete().where(Subscription.__table__.c.id == first))  # type: ignore[attr-defined]
    service.remove_subscriber(db, grace)  # a subscriber gone: its set goes with it
    assert sets(db) == [(ada, 3)]
    assert match_sets.expand_now(db) == 2
    assert rows(db) == [(ada, papers[0], None, "pending"), (ada, papers[2], first + 1, "pending")]
    assert sets(db) == []


def test_a_paper_already_in_the_ledger_is_not_doubled(db: Database, settings: Settings) -> None:
    two_subscribers(db, settings)
    add_papers(db, "Diffusion models")
    run_match_cycle(db, settings)
    assert match_sets.expand_now(db) == 2
    with db.session() as session:  # an operator rewinds the match cursor: everything is matched again
        session.execute(Delivery.__table__.update().values(status="sent"))  # type: ignore[attr-defined]
    with db.session() as session:
        cursor = session.get(Cursor, "match")
        assert cursor is not None
        cursor.value = 0
        session.add(cursor)
    assert run_match_cycle(db, settings).matches_recorded == 2
    assert match_sets.expand_now(db) == 0 and [r[3] for r in rows(db)] == ["sent", "sent"]


@hypothesis_settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(0, 2), st.integers(0, 3)), max_size=12))
def test_record_then_expand_gives_each_pair_once(
    db: Database, settings: Settings, picks: list[tuple[int, int]]
) -> None:
    """Sets recorded in several cycles (duplicates included) expand into exactly the distinct pairs."""
    with db.session() as session:
        session.execute(Delivery.__table__.delete())  # type: ignore[attr-defined]
        session.execute(MatchSet.__table__.delete())  # type: ignore[attr-defined]
    subscribers = [_subscriber(db, settings, f"p{i}@example.org") for i in range(3)]
    papers = [p.id or 0 for p in _papers(db)]
    for cycle, start in enumerate(range(0, len(picks), 5)):
        chunk = sorted(picks[start : start + 5])
        with db.session() as session:
            match_sets.record(session, (
                np.asarray([subscribers[s] for s, _ in chunk], np.int64),
                np.asarray([papers[p] for _, p in chunk], np.int64),
                np.zeros(len(chunk), np.int64) + _subscription(db, settings, subscribers[0]),
            ), _stamp(cycle))
    expected = {(subscribers[s], papers[p]) for s, p in picks}
    assert match_sets.expand_now(db) == len(expected)
    assert {(r[0], r[1]) for r in rows(db)} == expected and sets(db) == []


def _subscriber(db: Database, settings: Settings, address: str) -> int:
    found = service.find_subscriber(db, "email", address) or service.add_subscriber(db, settings, "email", address)
    return found.id or 0


def _papers(db: Database) -> list[Paper]:
    with db.session() as session:
        found = list(session.exec(select(Paper).order_by(Paper.id)).all())  # type: ignore[arg-type]
    if len(found) >= 4:
        return found[:4]
    add_papers(db, "one", "two", "three", "four")
    return _papers(db)


def _subscription(db: Database, settings: Settings, subscriber_id: int) -> int:
    with db.session() as session:
        existing = session.exec(select(Subscription.id).where(Subscription.subscriber_id == subscriber_id)).first()
    return existing or (service.add_subscription(db, settings, subscriber_id, "one").id or 0)


def _stamp(cycle: int) -> datetime:
    return datetime(2026, 12, 1, tzinfo=UTC) + timedelta(minutes=cycle)


def test_small_batches_record_the_same_ledger_as_one(db: Database, settings: Settings) -> None:
    """Batches shrink at scale (memory budgets); the rows recorded must not depend on the batch size."""
    two_subscribers(db, settings)
    add_papers(db, "Diffusion models", "Sparse autoencoder features", "Unrelated", "Latent diffusion autoencoder")
    run_match_cycle(db, settings, batch_size=1)
    match_sets.expand_now(db)
    small = rows(db)
    with db.session() as session:
        session.execute(Delivery.__table__.delete())  # type: ignore[attr-defined]
        cursor = session.get(Cursor, "match")
        assert cursor is not None
        cursor.value = 0
        session.add(cursor)
    run_match_cycle(db, settings, batch_size=2000)
    match_sets.expand_now(db)
    assert rows(db) == small and len(small) == 5


@pytest.mark.parametrize(
    ("size", "recorded", "most", "expected"),
    [
        (2000, 0, 2000, 2000),  # nothing matched: back to the largest batch
        (2000, 1_000_000, 2000, 2000),  # within the budget
        (2000, 35_000_000, 2000, 85),  # a million subscriptions: 17.5k matches per paper
        (100, 10**9, 2000, matching.MIN_BATCH),  # never below the floor
    ],
)
def test_batches_shrink_to_the_matches_budget(size: int, recorded: int, most: int, expected: int) -> None:
    assert matching.next_batch_size(size, recorded, most) == expected


def test_batches_fit_the_bit_matrix_budget() -> None:
    assert matching.papers_for_matrix(130_000) >= 2000  # 100k subscriptions: the 2,000-paper batch fits
    assert matching.papers_for_matrix(1_100_000) == 192  # a million: 3 words of 64 papers per node


def test_a_malformed_set_is_skipped_and_kept_while_the_rest_is_delivered(
    db: Database, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    ada, grace, first = two_subscribers(db, settings)
    papers = add_papers(db, "Diffusion models")
    run_match_cycle(db, settings)
    with db.session() as session:  # a set whose arrays disagree (a bad write, a hand edit)
        session.add(MatchSet(subscriber_id=ada, pairs=1, paper_ids=b"\x01\x02\x03",
                             subscription_ids=np.asarray([first], np.int64).tobytes(), created_at=_stamp(0)))
    claimed = outbox.claim(db, worker_id="w", subscriber_ids=[ada])
    assert [(c.paper_id, c.subscription_id) for c in claimed] == [(papers[0], first)]
    assert sets(db) == [(grace, 1), (ada, 1)]  # Grace's waits for her send; the bad one is kept
    assert "malformed" in caplog.text


def test_server_stats_count_recorded_matches_as_pending(db: Database, settings: Settings) -> None:
    channel = service.add_subscriber(
        db, settings, "discord_channel", "123456789012345678", guild_id="77", confirmed=True
    )
    service.add_subscription(db, settings, channel.id or 0, "diffusion")
    add_papers(db, "Diffusion models", "Latent diffusion")
    run_match_cycle(db, settings)
    assert guild_stats(db, "77").deliveries == {"pending": 2}
    assert guild_stats(db, "78").deliveries == {}
