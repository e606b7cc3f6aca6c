"""A subscriber without a query gets the day's trending papers, ranked and explained, never twice (real SMTP)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest
from sqlmodel import select

from digest.email.digests import send_due_digests
from digest.services import subscribers as service
from digest.services.errors import Conflict, InvalidInput
from digest.services.matching import run_match_cycle
from digest.services.trending import Ranked, describe, rank_papers
from digest.settings import Settings
from storage.db import Database
from storage.feedback_models import PaperVote
from storage.models import Delivery, Paper, Subscriber
from tests.digest.email.conftest import NOW
from tests.digest.email.smtp_double import SmtpRecorder


def add_day(db: Database, upvotes: list[int | None], seen: datetime) -> list[int]:
    """Papers first seen at `seen`, with these Hugging Face upvote counts (None: the source has none)."""
    ids = []
    with db.session() as session:
        for index, count in enumerate(upvotes):
            paper = Paper(canonical_id=f"2603.{uuid.uuid4().hex[:10]}", title=f"Paper number {index}",
                          abstract="An abstract.", authors=["A. Author"], categories=["cs.LG"], sources=["hf:daily"],
                          extras={} if count is None else {"upvotes": count}, first_seen_at=seen)
            session.add(paper)
            session.flush()
            assert paper.id is not None
            ids.append(paper.id)
    return ids


def trending_reader(db: Database, settings: Settings, top: int | None = 3) -> Subscriber:
    subscriber = service.add_subscriber(db, settings, "email", "reader@example.org", confirmed=True)
    service.subscribe(db, settings, subscriber.id or 0, "", created_by="test", top_n=top)
    with db.session() as session:
        row = session.get(Subscriber, subscriber.id)
        assert row is not None
        row.created_at = NOW - timedelta(days=3)
        session.add(row)
        return row


def texts(recorder: SmtpRecorder) -> list[str]:
    return [m.message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
            for m in recorder.received]


def test_ranking_uses_upvotes_then_likes_where_the_source_has_none() -> None:
    ranked = rank_papers([Ranked(1, None, 5), Ranked(2, 40, 0), Ranked(3, 3, 9), Ranked(4, None, 0)])
    assert [paper.paper_id for paper in ranked] == [2, 1, 3, 4]


def test_a_trending_subscription_needs_no_query_and_exists_once(settings: Settings, db: Database) -> None:
    reader = trending_reader(db, settings)
    assert describe("", 3) == "trending: the day's top 3 papers"
    with pytest.raises(Conflict):
        service.subscribe(db, settings, reader.id or 0, "  ")
    with pytest.raises(InvalidInput):
        service.subscribe(db, settings, reader.id or 0, "", top_n=0)


async def test_the_days_top_papers_arrive_explained_and_never_twice(
    mail_settings: Settings, db: Database, recorder: SmtpRecorder
) -> None:
    settings = mail_settings
    trending_reader(db, settings, top=3)
    papers = add_day(db, [12, None, 40, 3, 25], NOW - timedelta(hours=5))
    add_day(db, [999], NOW - timedelta(days=3))  # not the day's: seen three days ago
    with db.session() as session:  # a paperbell 👍 lifts the paper Hugging Face has no count for
        voter = service.add_subscriber(db, settings, "email", "voter@example.org", confirmed=True)
        session.add(PaperVote(subscriber_id=voter.id or 0, paper_id=papers[1], vote=1))
    assert run_match_cycle(db, settings, NOW).matches_recorded == 0  # trending is not matched
    results = await send_due_digests(settings, db, NOW)
    assert {r.address: r.status for r in results}["reader@example.org"] == "sent"
    text = texts(recorder)[0]
    assert "== Trending papers of the day ==" in text
    order = [text.index(f"Paper number {n}") for n in (2, 4, 0)]
    assert order == sorted(order) and "Paper number 3" not in text and "Paper number 1" not in text
    assert "Why it's here: #1 of the day's 5 papers · ▲ 40 on Hugging Face" in text
    # the next day: the same papers are still in the window, but none comes again
    recorder.received.clear()
    await send_due_digests(settings, db, NOW + timedelta(hours=18), force=True)
    with db.session() as session:
        rows = list(session.exec(select(Delivery)).all())
    assert len(rows) == len({row.paper_id for row in rows}) == 5  # the two left over, once each
    second = texts(recorder)[0]
    assert "Paper number 3" in second and "Paper number 1" in second and "Paper number 2" not in second


async def test_a_quiet_day_says_so(mail_settings: Settings, db: Database, recorder: SmtpRecorder) -> None:
    trending_reader(db, mail_settings)
    results = await send_due_digests(mail_settings, db, NOW)
    assert {r.address: r.status for r in results}["reader@example.org"] == "sent"
    assert "quiet day" in str(recorder.received[0].message["Subject"])
    assert "A quiet day: no new papers are trending" in texts(recorder)[0]
