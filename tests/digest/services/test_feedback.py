"""Votes in the real database: record, change, withdraw, counts, channel members, refused input."""

from __future__ import annotations

import pytest

from digest.services import feedback
from digest.services import subscribers as subscriber_service
from digest.services.errors import InvalidInput, NotFound
from digest.settings import Settings
from storage.db import Database
from tests.digest.email.conftest import add_papers


def test_record_change_withdraw_and_counts(settings: Settings, db: Database) -> None:
    reader = subscriber_service.add_subscriber(db, settings, "email", "ada@example.org", confirmed=True)
    assert reader.id is not None
    first, second, third = add_papers(db, [("A", "a"), ("B", "b"), ("C", "c")])
    assert feedback.vote_counts(db, reader.id).describe().startswith("no votes yet")
    assert feedback.record_vote(db, reader.id, first, 1, channel="email") == "recorded"
    assert feedback.record_vote(db, reader.id, first, 1, channel="email") == "unchanged"
    assert feedback.record_vote(db, reader.id, second, 1) == "recorded"
    assert feedback.record_vote(db, reader.id, second, -1) == "changed"
    assert feedback.record_vote(db, reader.id, third, -1) == "recorded"
    assert feedback.votes_for(db, reader.id) == {first: 1, second: -1, third: -1}
    assert feedback.vote_counts(db, reader.id).describe() == "1 👍, 2 👎 — ranking learned"
    assert feedback.withdraw_vote(db, reader.id, third) is True
    assert feedback.withdraw_vote(db, reader.id, third) is False
    assert feedback.vote_of(db, reader.id, third) is None
    assert feedback.votes_for(db, reader.id) == {first: 1, second: -1}


def test_a_channel_collects_its_members_votes(settings: Settings, db: Database) -> None:
    channel = subscriber_service.add_subscriber(db, settings, "discord_channel", "123456789012345678")
    assert channel.id is not None
    liked, split = add_papers(db, [("A", "a"), ("B", "b")])
    for member in ("111", "222"):
        feedback.record_vote(db, channel.id, liked, 1, voter=member, channel="discord")
    feedback.record_vote(db, channel.id, split, 1, voter="111", channel="discord")
    feedback.record_vote(db, channel.id, split, -1, voter="222", channel="discord")
    assert feedback.votes_for(db, channel.id) == {liked: 1}  # a tie says nothing
    feedback.withdraw_vote(db, channel.id, split, voter="222")  # member 222 withdraws only their own
    assert feedback.votes_for(db, channel.id) == {liked: 1, split: 1}
    assert feedback.vote_of(db, channel.id, liked, voter="111") == 1


@pytest.mark.parametrize(
    ("vote", "voter", "channel", "error"),
    [(2, "", "web", InvalidInput), (0, "", "web", InvalidInput), (1, "x" * 65, "web", InvalidInput),
     (1, "a\nb", "web", InvalidInput), (1, "", "carrier-pigeon", InvalidInput)],
)
def test_bad_votes_are_refused_at_the_door(
    settings: Settings, db: Database, vote: int, voter: str, channel: str, error: type[Exception]
) -> None:
    reader = subscriber_service.add_subscriber(db, settings, "email", "ada@example.org")
    (paper,) = add_papers(db, [("A", "a")])
    with pytest.raises(error):
        feedback.record_vote(db, reader.id or 0, paper, vote, voter=voter, channel=channel)
    with pytest.raises(NotFound):
        feedback.record_vote(db, reader.id or 0, paper + 999, 1)
    with pytest.raises(NotFound):
        feedback.record_vote(db, (reader.id or 0) + 999, paper, 1)
    assert feedback.votes_for(db, reader.id or 0) == {}


def test_a_training_failure_falls_back_to_todays_order(
    settings: Settings, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import UTC, datetime

    from digest.core.assembly import DigestItem, rank_digest_items

    reader = subscriber_service.add_subscriber(db, settings, "email", "ada@example.org", confirmed=True)
    papers = add_papers(db, [("A", "alpha"), ("B", "beta"), ("C", "gamma")])
    feedback.record_vote(db, reader.id or 0, papers[2], 1)

    def broken(*_args: object, **_kwargs: object) -> None:
        raise ValueError("poisoned representation")

    monkeypatch.setattr(feedback, "representations", broken)
    items = [DigestItem(delivery_id=n, paper_id=p, subscription_id=1, query="q", title=str(p), title_hits=n)
             for n, p in enumerate(papers)]
    plan = feedback.plan_for(db, reader.id or 0, items)
    now = datetime(2026, 3, 2, tzinfo=UTC)
    assert not plan.learned and plan.counts.up == 1
    assert plan.rank(items, now) == rank_digest_items(items, now)
