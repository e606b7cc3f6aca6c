"""Subscribing: what happens next is said (and the confirmation mail sent), equivalent queries are refused,
and a new subscription's first digest includes the recent matches (backfill), never twice."""

from __future__ import annotations

import random
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from sqlmodel import select

from digest.query import QueryLimits, parse_query
from digest.query.normal import normal_form
from digest.services import match_sets
from digest.services import subscribers as service
from digest.services.errors import Conflict
from digest.services.matching import run_match_cycle
from digest.settings import Settings
from storage.db import Database
from storage.models import Delivery, Paper
from storage.types import utcnow
from tests.digest.runtime.procs import REPO, SmtpSink, service_env


def _add(env: dict[str, str], address: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "digest.cli.main", "subscribers", "add", address], cwd=REPO,
                          env=env, capture_output=True, text=True, timeout=60)


def test_add_says_confirmation_is_pending_when_mail_is_not_configured(database_url: str, tmp_path: Path) -> None:
    done = _add(service_env(database_url, tmp_path / "data"), "ada@example.org")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("added subscriber #") and lines[0].endswith("ada@example.org")
    assert lines[1].startswith("next: confirmation pending: mail is not configured (PAPERBELL_SMTP_HOST is unset)")


def test_add_sends_the_confirmation_at_once_when_mail_is_configured(database_url: str, tmp_path: Path) -> None:
    with SmtpSink() as smtp:
        done = _add(service_env(database_url, tmp_path / "data", smtp), "grace@example.org")
        assert done.returncode == 0, done.stderr
        assert "next: confirmation mail sent to grace@example.org" in done.stdout
        assert smtp.count() == 1 and smtp.snapshot()[0].to == "grace@example.org"


EQUIVALENT = [
    ("sparse AND autoencoder", "autoencoder sparse"),
    ("diffusion OR (video OR audio)", "(audio OR video) OR diffusion"),
    ("Transformers", "transformer"),
    ("ti:agent -survey", "-survey ti:agent"),
    ('"reinforcement learning" OR math*', 'math* OR "reinforcement learning"'),
]
DIFFERENT = [("a OR b", "a b"), ("ti:agent", "agent"), ("a -b", "b -a"), ("cat:cs.LG", "cat:cs.*")]


@pytest.mark.parametrize(("first", "second"), EQUIVALENT)
def test_equivalent_query_is_refused_with_a_pointer(db: Database, settings: Settings, first: str, second: str) -> None:
    sub = service.add_subscriber(db, settings, "email", "ada@example.org", confirmed=True)
    saved = service.add_subscription(db, settings, sub.id or 0, first)
    with pytest.raises(Conflict) as refused:
        service.add_subscription(db, settings, sub.id or 0, second)
    assert f"already has an equivalent query: #{saved.id} {first!r}" in str(refused.value)


@pytest.mark.parametrize(("first", "second"), DIFFERENT)
def test_different_queries_are_both_kept(db: Database, settings: Settings, first: str, second: str) -> None:
    sub = service.add_subscriber(db, settings, "email", "ada@example.org", confirmed=True)
    service.add_subscription(db, settings, sub.id or 0, first)
    service.add_subscription(db, settings, sub.id or 0, second)


@hsettings(max_examples=60, deadline=None)
@given(words=st.lists(st.sampled_from(["alpha", "beta", "gamma", "delta", "ti:eps", '"zeta eta"']), min_size=2,
                      max_size=6, unique=True), op=st.sampled_from([" AND ", " OR "]), seed=st.integers(0, 1000))
def test_operand_order_never_changes_the_normal_form(words: list[str], op: str, seed: int) -> None:
    shuffled = list(words)
    random.Random(seed).shuffle(shuffled)
    limits = QueryLimits()
    assert normal_form(parse_query(op.join(words), limits).root) == normal_form(parse_query(op.join(shuffled),
                                                                                             limits).root)


def _paper(db: Database, key: str, days_ago: float) -> None:
    with db.session() as session:
        session.add(Paper(canonical_id=f"2501.{key}", title=f"Sparse autoencoders {key}", abstract="Features.",
                          first_seen_at=utcnow() - timedelta(days=days_ago)))


def test_backfill_queues_recent_matches_once(db: Database, settings: Settings) -> None:
    for key, age in (("00001", 1), ("00002", 6), ("00003", 20)):
        _paper(db, key, age)
    run_match_cycle(db, settings)  # the cursor passes the stored papers (no subscription yet)
    sub = service.add_subscriber(db, settings, "email", "ada@example.org", confirmed=True)
    added = service.subscribe(db, settings, sub.id or 0, "sparse")
    assert (added.backfill_days, added.backfilled) == (7, 2)  # the default window; the 20-day-old paper is out
    _paper(db, "00004", 0)
    run_match_cycle(db, settings)  # the new paper is matched; the backfilled ones are not added again
    match_sets.expand_now(db)
    with db.session() as session:
        rows = session.exec(select(Delivery)).all()
    assert len(rows) == 3 and {r.status for r in rows} == {"pending"}
    again = service.subscribe(db, settings, sub.id or 0, "autoencoder", backfill_days=30)
    assert again.backfilled == 1  # only the 20-day-old one is new to this subscriber's ledger
    none = service.subscribe(db, settings, sub.id or 0, "features", backfill_days=0)
    assert (none.backfill_days, none.backfilled) == (0, 0)
    huge = service.subscribe(db, settings, sub.id or 0, "sparse features", backfill_days=10**9)
    assert huge.backfill_days == 90  # clamped: a hostile window cannot scan the whole archive
