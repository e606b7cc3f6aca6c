"""The outbox on a real database: claim/lease/reclaim keeps message ids, concurrent claims never overlap."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any, cast

import pytest
from sqlmodel import select

from digest.services import outbox, outbox_counts
from digest.settings import Settings
from storage.db import Database
from storage.models import Delivery, DeliveryStatus, Paper, Subscriber
from storage.types import utcnow


def seed(db: Database, *, subscribers: dict[str, str], papers: int) -> dict[str, int]:
    """Subscribers {address: kind}, `papers` papers, and a pending delivery for every pair."""
    ids: dict[str, int] = {}
    with db.session() as session:
        paper_rows = [Paper(canonical_id=f"2401.{i:05d}", title=f"Paper {i}") for i in range(papers)]
        session.add_all(paper_rows)
        for address, kind in subscribers.items():
            subscriber = Subscriber(kind=kind, address=address)
            session.add(subscriber)
            session.flush()
            assert subscriber.id is not None
            ids[address] = subscriber.id
        session.flush()
        for subscriber_id in ids.values():
            for paper in paper_rows:
                assert paper.id is not None
                session.add(Delivery(subscriber_id=subscriber_id, paper_id=paper.id, explanation={"k": 1}))
    return ids


def statuses(db: Database) -> dict[int | None, tuple[str, str | None]]:
    with db.session() as session:
        return {row.id: (row.status, row.message_id) for row in session.exec(select(Delivery)).all()}


def test_claim_groups_by_subscriber_and_marks_sent(db: Database, settings: Settings) -> None:
    ids = seed(db, subscribers={"a@x.org": "email", "b@x.org": "email", "123": "discord_channel"}, papers=3)
    claimed = outbox.claim(db, worker_id="w1", kind="email")
    assert len(claimed) == 6
    by_sub: dict[int, set[str]] = {}
    for item in claimed:
        by_sub.setdefault(item.subscriber_id, set()).add(item.message_id)
        assert item.message_id.startswith("<pb.") and item.message_id.endswith(">")
        assert not item.reclaimed and item.explanation == {"k": 1}
    assert set(by_sub) == {ids["a@x.org"], ids["b@x.org"]}
    assert all(len(mids) == 1 for mids in by_sub.values())  # one message per subscriber
    assert by_sub[ids["a@x.org"]] != by_sub[ids["b@x.org"]]
    # nothing left for a second claimer of the same kind
    assert outbox.claim(db, worker_id="w2", kind="email") == []
    assert outbox_counts.pending_counts(db) == {"email": 6, "discord_channel": 3}

    first = [c.delivery_id for c in claimed if c.subscriber_id == ids["a@x.org"]]
    assert outbox.mark_sent(db, first) == 3
    assert outbox.mark_sent(db, first) == 0  # idempotent: already sent
    assert outbox_counts.pending_counts(db) == {"email": 3, "discord_channel": 3}
    assert outbox_counts.status_counts(db) == {"sent": 3, "sending": 3, "pending": 3}


def test_stale_claim_is_reclaimed_with_the_same_message_id(db: Database, settings: Settings) -> None:
    seed(db, subscribers={"a@x.org": "email"}, papers=4)
    start = utcnow()
    first = outbox.claim(db, worker_id="crashed", now=start, lease_seconds=60)
    assert len(first) == 4
    message_id = first[0].message_id
    # the lease still runs: nobody else may take it
    assert outbox.claim(db, worker_id="w2", now=start + timedelta(seconds=59), lease_seconds=60) == []
    again = outbox.claim(db, worker_id="w2", now=start + timedelta(seconds=61), lease_seconds=60)
    assert [c.delivery_id for c in again] == [c.delivery_id for c in first]
    assert {c.message_id for c in again} == {message_id}
    assert all(c.reclaimed for c in again)
    # the crashed worker's late mark_sent is harmless and the row ends SENT once
    assert outbox.mark_sent(db, [c.delivery_id for c in again], now=start + timedelta(seconds=62)) == 4
    assert {status for status, _ in statuses(db).values()} == {"sent"}


def test_reclaimed_batch_is_not_mixed_with_new_rows(db: Database, settings: Settings) -> None:
    ids = seed(db, subscribers={"a@x.org": "email"}, papers=2)
    start = utcnow()
    first = outbox.claim(db, worker_id="crashed", now=start, lease_seconds=10)
    with db.session() as session:
        paper = Paper(canonical_id="2401.99999", title="late")
        session.add(paper)
        session.flush()
        assert paper.id is not None
        session.add(Delivery(subscriber_id=ids["a@x.org"], paper_id=paper.id))
    again = outbox.claim(db, worker_id="w2", now=start + timedelta(seconds=11), lease_seconds=10)
    assert {c.delivery_id for c in again} == {c.delivery_id for c in first}  # the resend is the same message
    outbox.mark_sent(db, [c.delivery_id for c in again])
    late = outbox.claim(db, worker_id="w2")
    assert len(late) == 1 and late[0].message_id != first[0].message_id


@pytest.mark.parametrize(
    ("action", "status", "attempts"),
    [("release", "pending", 1), ("mark_failed", "failed", 1), ("mark_sent", "sent", 0)],
)
def test_release_fail_sent(db: Database, settings: Settings, action: str, status: str, attempts: int) -> None:
    seed(db, subscribers={"a@x.org": "email"}, papers=2)
    claimed = outbox.claim(db, worker_id="w1")
    ids = [c.delivery_id for c in claimed]
    if action == "release":
        assert outbox.release(db, ids, "smtp 451") == 2
    elif action == "mark_failed":
        assert outbox.mark_failed(db, ids, "smtp 550") == 2
    else:
        assert outbox.mark_sent(db, ids, "discord-msg-1") == 2
    with db.session() as session:
        rows = session.exec(select(Delivery)).all()
    assert {(r.status, r.attempts) for r in rows} == {(status, attempts)}
    if action == "release":
        assert {r.claimed_by for r in rows} == {None}
        # a released batch comes back with its message id (a maybe-delivered retry is recognisable)
        again = outbox.claim(db, worker_id="w2")
        assert {c.message_id for c in again} == {claimed[0].message_id}
        assert not any(c.reclaimed for c in again)
    if action == "mark_sent":
        assert {r.message_id for r in rows} == {"discord-msg-1"}


def test_per_delivery_batches_and_subscriber_filter(db: Database, settings: Settings) -> None:
    ids = seed(db, subscribers={"1": "discord_channel", "2": "discord_channel"}, papers=3)
    claimed = outbox.claim(db, worker_id="w", batch_by="delivery", subscriber_ids=[ids["1"]], limit=2)
    assert len(claimed) == 2 and len({c.message_id for c in claimed}) == 2
    assert {c.subscriber_id for c in claimed} == {ids["1"]}
    assert outbox.claim(db, worker_id="w", subscriber_ids=[]) == []


def test_busy_subscriber_is_skipped_until_its_message_is_done(db: Database, settings: Settings) -> None:
    seed(db, subscribers={"a@x.org": "email"}, papers=4)
    first = outbox.claim(db, worker_id="w1", limit=2)
    assert len(first) == 2
    assert outbox.claim(db, worker_id="w2") == []  # one message in flight per subscriber
    outbox.mark_sent(db, [c.delivery_id for c in first])
    assert len(outbox.claim(db, worker_id="w2")) == 2


def test_oldest_pending_age(db: Database, settings: Settings) -> None:
    assert outbox_counts.oldest_pending_age(db) is None
    seed(db, subscribers={"a@x.org": "email"}, papers=1)
    age = outbox_counts.oldest_pending_age(db, now=utcnow() + timedelta(seconds=100))
    assert age is not None and 99 <= age <= 120
    assert outbox_counts.pending_counts(db) == {"email": 1}


def test_concurrent_claimers_never_share_a_row(db: Database, settings: Settings) -> None:
    """Four threads drain 400 per-delivery rows; every row is claimed exactly once (SKIP LOCKED / serialised)."""
    seed(db, subscribers={str(n): "discord_channel" for n in range(4)}, papers=100)
    seen: list[int] = []
    lock = threading.Lock()
    errors: list[BaseException] = []

    def drain(worker: str) -> None:
        try:
            while batch := outbox.claim(db, worker_id=worker, batch_by="delivery", limit=25):
                with lock:
                    seen.extend(c.delivery_id for c in batch)
                outbox.mark_sent(db, [c.delivery_id for c in batch])
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=drain, args=(f"w{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert len(seen) == 400 and len(set(seen)) == 400
    assert outbox_counts.status_counts(db) == {DeliveryStatus.SENT.value: 400}


def test_claims_of_a_dead_process_are_recovered_at_once(db: Database, settings: Settings) -> None:
    seed(db, subscribers={"a@x.org": "email", "b@x.org": "email"}, papers=2)
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_worker = f"{socket.gethostname()}:{child.stdout.strip()}"
    lost = outbox.claim(db, worker_id="doomed", limit=2)
    with db.session() as session:  # as if another process (now dead) had claimed them
        for row in session.exec(select(Delivery).where(Delivery.claimed_by == outbox.claimer_tag("doomed"))):
            row.claimed_by = f"{dead_worker}/email-1"
            session.add(row)
    mine = outbox.claim(db)  # default worker id: this live process
    assert len(lost) == 2 and len(mine) == 2
    assert outbox.recover_abandoned(db) == 2  # only the dead process's rows
    again = outbox.claim(db, worker_id="w2")
    assert {c.delivery_id for c in again} == {c.delivery_id for c in lost}
    assert {c.message_id for c in again} == {lost[0].message_id}
    assert outbox.recover_abandoned(db) == 0  # "w2" ran in this live process
    assert outbox.release_own_claims(db) == 4  # "mine" and "again" are both held by this process
    assert outbox_counts.status_counts(db) == {"pending": 4}


def test_simultaneous_claims_for_one_subscriber_have_exactly_one_winner(db: Database, settings: Settings) -> None:
    """Four senders race for the same subscriber's digest: one gets all rows, never zero, never a split."""
    ids = seed(db, subscribers={f"s{n}@x.org": "email" for n in range(10)}, papers=5)
    lock = threading.Lock()
    for subscriber_id in ids.values():
        barrier = threading.Barrier(4)
        results: list[int] = []

        def race(worker: str, sid: int = subscriber_id, gate: threading.Barrier = barrier,
                 out: list[int] = results) -> None:
            gate.wait(timeout=10)
            got = outbox.claim(db, worker_id=worker, subscriber_ids=[sid], kind="email")
            with lock:
                out.append(len(got))

        threads = [threading.Thread(target=race, args=(f"w{n}",)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert sorted(results) == [0, 0, 0, 5]


def test_the_shutdown_release_waits_for_a_claim_still_running_in_its_thread(db: Database) -> None:
    """A pass cancelled at shutdown leaves its claim running in a worker thread; the release that
    follows must not run before that claim commits, or the claimed rows stay in SENDING."""
    seed(db, subscribers={"a@x.org": "email"}, papers=2)
    from digest.services.outbox_liveness import claim_in_flight, release_own_claims

    claim_started, let_claim_finish = threading.Event(), threading.Event()
    released: list[int] = []

    def claim_held_open() -> None:  # the cancelled pass's thread: counted in flight before it commits
        with claim_in_flight():
            claim_started.set()
            let_claim_finish.wait(30)
            outbox.claim(db, kind="email")

    claimer = threading.Thread(target=claim_held_open)
    claimer.start()
    assert claim_started.wait(30)
    releaser = threading.Thread(target=lambda: released.append(release_own_claims(db)))
    releaser.start()
    releaser.join(0.3)
    assert releaser.is_alive()  # waiting for the claim in flight, not racing it
    let_claim_finish.set()
    claimer.join(30)
    releaser.join(30)
    assert released == [2]
    assert {status for status, _ in statuses(db).values()} == {DeliveryStatus.PENDING.value}


def test_the_shutdown_release_waits_for_a_batch_claim_still_reading_who_is_due(db: Database) -> None:
    """The e-mail pass's batch claim first reads who is still due, then claims: it counts as in flight
    from that read on, or a release run meanwhile is followed by its claim and the rows stay in SENDING."""
    seed(db, subscribers={"a@x.org": "email"}, papers=2)
    from digest.email.rows import claim_due_batch
    from digest.services.outbox_liveness import release_own_claims

    reading, let_read_finish = threading.Event(), threading.Event()
    released: list[int] = []

    class ReadHeldOpen:  # the cancelled pass's database: its first session (the re-check read) waits
        first = True

        def __getattr__(self, name: str) -> Any:
            return getattr(db, name)

        @contextmanager
        def session(self) -> Iterator[Any]:
            if self.first:
                self.first = False
                reading.set()
                let_read_finish.wait(30)
            with db.session() as session:
                yield session

    with db.session() as session:
        subscriber = session.exec(select(Subscriber)).one()
    due_then = utcnow() + timedelta(days=2)  # the subscriber signed up just now: due at their next slot
    claimer = threading.Thread(target=lambda: claim_due_batch(
        cast(Database, ReadHeldOpen()), [subscriber], due_then, worker="w", recheck_due=True, limit_each=50,
        message_id_domain="paperbell.test"))
    claimer.start()
    assert reading.wait(30)
    releaser = threading.Thread(target=lambda: released.append(release_own_claims(db)))
    releaser.start()
    releaser.join(0.3)
    assert releaser.is_alive()  # waiting for the batch claim, not running between its read and its claim
    let_read_finish.set()
    claimer.join(30)
    releaser.join(30)
    assert released == [2]
    assert {status for status, _ in statuses(db).values()} == {DeliveryStatus.PENDING.value}
