"""What the learned ranking learned, told in plain words, its reset, and a member's warm start, on a real DB."""

from __future__ import annotations

import json
from pathlib import Path

from digest.services import feedback
from digest.services import subscribers as subscriber_service
from digest.services.learned import reset_learning, what_it_learned
from digest.services.paper_meta import paper_metas
from digest.settings import Settings
from storage.db import Database
from storage.models import Paper

SAMPLE = Path(__file__).parents[1] / "feedback" / "fixtures" / "listings_sample.jsonl"


def stored_sample(db: Database) -> tuple[list[int], set[int]]:
    """The real listings sample as stored papers; returns their ids and the cs.RO cross-lists'."""
    rows = [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines() if line.strip()]
    ids, robotics = [], set()
    with db.session() as session:
        for row in rows:
            paper = Paper(canonical_id=row["id"], title=row["title"], abstract=row["abstract"], authors=row["authors"],
                          categories=row["categories"], primary_category=row["categories"][0], sources=["test"])
            session.add(paper)
            session.flush()
            assert paper.id is not None
            ids.append(paper.id)
            if "cs.RO" in row["categories"]:
                robotics.add(paper.id)
    return ids, robotics


def test_what_it_learned_and_reset(settings: Settings, db: Database) -> None:
    reader = subscriber_service.add_subscriber(db, settings, "email", "ada@example.org", confirmed=True)
    assert reader.id is not None
    ids, robotics = stored_sample(db)
    assert what_it_learned(db, reader.id) == []  # nothing voted, nothing said
    for paper in sorted(robotics)[:3]:
        feedback.record_vote(db, reader.id, paper, 1)
    for paper in [i for i in ids if i not in robotics][:6]:
        feedback.record_vote(db, reader.id, paper, -1)
    learned = what_it_learned(db, reader.id)
    assert "cross-listed to cs.RO" in learned and len(learned) <= 5
    assert reset_learning(db, reader.id) == 9
    assert feedback.vote_counts(db, reader.id) == feedback.VoteCounts(0, 0)
    assert what_it_learned(db, reader.id) == []


def test_a_member_starts_from_the_channels_majority(settings: Settings, db: Database) -> None:
    channel = subscriber_service.add_subscriber(db, settings, "discord_channel", "123456789012345678")
    member = subscriber_service.add_subscriber(db, settings, "discord_user", "111111111111111111")
    stranger = subscriber_service.add_subscriber(db, settings, "discord_user", "333333333333333333")
    assert channel.id and member.id and stranger.id
    ids, robotics = stored_sample(db)
    liked, disliked = sorted(robotics)[0], next(i for i in ids if i not in robotics)
    for voter in ("111111111111111111", "222222222222222222"):
        feedback.record_vote(db, channel.id, liked, 1, voter=voter, channel="discord")
        feedback.record_vote(db, channel.id, disliked, -1, voter=voter, channel="discord")
    assert feedback.warm_labels(db, member.id) == {liked: (1, 0.5), disliked: (-1, 0.5)}
    assert feedback.warm_labels(db, stranger.id) == {}  # never voted in that channel
    assert feedback.warm_labels(db, channel.id) == {}
    scorer = feedback.scorer_for(db, member.id, ids)
    assert scorer is not None and scorer.model is not None  # before the member's own first vote
    assert feedback.scorer_for(db, stranger.id, ids) is None


def test_paper_metas_put_the_primary_first_and_survive_odd_extras(settings: Settings, db: Database) -> None:
    with db.session() as session:
        paper = Paper(canonical_id="2606.00001", title="T", abstract="Code at https://github.com/a/b.",
                      authors=["A. B"], categories=["cs.RO", "cs.LG"], primary_category="cs.LG",
                      sources=["test"], extras={"upvotes": "lots"})
        session.add(paper)
        session.flush()
        pid = paper.id
    assert pid is not None
    (meta,) = paper_metas(db, [pid])
    assert meta.categories == ("cs.LG", "cs.RO") and meta.code and meta.upvotes is None
