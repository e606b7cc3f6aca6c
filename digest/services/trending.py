"""Trending subscriptions: "the day's top papers" for a subscriber who saved no query.

A subscription whose query is empty is a trending subscription; its `max_items` is how many papers a
day it brings (default `DEFAULT_TOP_N`). Nothing is matched for it in the match cycle: when the
outbox claims a subscriber's rows (digest.services.outbox.claim, called when that subscriber's
digest or post is due), `pick` ranks the papers paperbell first saw in the last `WINDOW` — Hugging
Face upvotes first, paperbell's own 👍 where the source has no count — and writes the top N the
subscriber has not had yet as PENDING ledger rows, once per subscription and local day (a cursor
row remembers the day). The ledger's unique (subscriber, paper) keeps "never the same paper twice";
each row's explanation says why it is there (rank of the day, upvotes, 👍), which digests show.
A day with nothing to pick is remembered too, so the digest can say it was a quiet day.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlmodel import col

from storage.db import Database
from storage.feedback_models import PaperVote
from storage.models import Cursor, Delivery, DeliveryStatus, Paper, Schedule, Subscriber, Subscription

TRENDING_QUERY = ""  # what a trending subscription stores as its query
TRENDING_LABEL = "Trending papers of the day"
DEFAULT_TOP_N = 10
MAX_TOP_N = 100
WINDOW = timedelta(hours=24)  # "the day": what paperbell first saw in the 24 hours before the pick
_CURSOR = "trending:{}"  # value: local-day ordinal of the last pick (negative: nothing was left to pick)
_CANDIDATES = 5000  # a flood of papers in one day is ranked on its newest this many


def is_trending(query: str | None) -> bool:
    """True for a subscription without a query."""
    return not (query or "").strip()


def top_n_of(max_items: int | None) -> int:
    return DEFAULT_TOP_N if max_items is None else max(1, min(MAX_TOP_N, max_items))


def describe(query: str, max_items: int | None = None) -> str:
    """How lists (CLI, web, Discord) show a subscription: its query, or what trending brings."""
    if not is_trending(query):
        return query
    return f"trending: the day's top {top_n_of(max_items)} papers"


@dataclass(frozen=True)
class Ranked:
    """One of the day's papers, with the signals it was ranked by."""

    paper_id: int
    upvotes: int | None  # the source's count (Hugging Face), None when the source has none
    likes: int  # paperbell readers' 👍


def rank_papers(papers: Sequence[Ranked]) -> list[Ranked]:
    """Most upvoted first; a paper without an upvote count ranks by its 👍 count instead; ties: 👍, newest."""
    def key(paper: Ranked) -> tuple[int, int, int]:
        signal = paper.upvotes if paper.upvotes is not None else paper.likes
        return (-signal, -paper.likes, -paper.paper_id)

    return sorted(papers, key=key)


def reason(explanation: dict[str, Any]) -> str:
    """Why a trending paper is in a digest, e.g. "#2 of the day's 37 papers · ▲ 41 on Hugging Face"."""
    facts = explanation.get("trending")
    if not isinstance(facts, dict):
        return ""
    parts = [f"#{facts.get('rank')} of the day's {facts.get('of')} papers"]
    if facts.get("upvotes") is not None:
        parts.append(f"▲ {facts['upvotes']} on Hugging Face")
    if facts.get("likes"):
        parts.append(f"👍 {facts['likes']} from paperbell readers")
    if facts.get("upvotes") is None and not facts.get("likes"):
        parts.append("no votes yet")
    return " · ".join(parts)


def _upvotes(extras: Any) -> int | None:
    value = (extras or {}).get("upvotes") if isinstance(extras, dict) else None
    try:
        return max(0, int(value)) if value is not None else None
    except (TypeError, ValueError, OverflowError):
        return None


def day_ranking(session: Session, now: datetime) -> list[Ranked]:
    """The papers first seen in the `WINDOW` before `now`, ranked."""
    rows = session.execute(
        select(Paper.id, Paper.extras)  # type: ignore[call-overload]
        .where(Paper.first_seen_at > now - WINDOW, Paper.first_seen_at <= now)
        .order_by(col(Paper.id).desc())
        .limit(_CANDIDATES)
    ).all()
    ids = [int(row[0]) for row in rows]
    likes: dict[int, int] = {}
    for start in range(0, len(ids), 1000):
        chunk = ids[start : start + 1000]
        likes.update(session.execute(
            select(PaperVote.paper_id, func.count())  # type: ignore[call-overload]
            .where(PaperVote.paper_id.in_(chunk), PaperVote.vote == 1)  # type: ignore[attr-defined]
            .group_by(PaperVote.paper_id)
        ).all())
    return rank_papers([Ranked(int(row[0]), _upvotes(row[1]), int(likes.get(int(row[0]), 0))) for row in rows])


def _local_day(subscriber: Subscriber, now: datetime) -> int:
    try:
        zone = ZoneInfo(subscriber.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return now.astimezone(zone).date().toordinal()


def _ready(subscriber: Subscriber, now: datetime) -> bool:
    """Instant (Discord) subscribers are claimed all day: their pick waits for their hour of the day."""
    if subscriber.schedule != Schedule.INSTANT.value:
        return True  # claimed only when their digest is due
    try:
        zone = ZoneInfo(subscriber.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return now.astimezone(zone).hour >= subscriber.digest_hour


def _trending_subscriptions(
    session: Session, subscriber_ids: Sequence[int], kinds: Sequence[str] | None
) -> list[tuple[Subscription, Subscriber]]:
    statement = (
        select(Subscription, Subscriber)
        .join(Subscriber, Subscription.subscriber_id == Subscriber.id)  # type: ignore[arg-type]
        .where(
            Subscription.query == TRENDING_QUERY,  # type: ignore[arg-type]
            Subscription.paused.is_(False),  # type: ignore[attr-defined]
            Subscriber.paused.is_(False),  # type: ignore[attr-defined]
            Subscriber.id.in_(list(subscriber_ids)),  # type: ignore[union-attr]
        )
        .order_by(Subscription.id)  # type: ignore[arg-type]
    )
    if kinds is not None:
        statement = statement.where(Subscriber.kind.in_(list(kinds)))  # type: ignore[attr-defined]
    return [(row[0], row[1]) for row in session.execute(statement).all()]


def _already_had(session: Session, subscriber_id: int, paper_ids: Sequence[int]) -> set[int]:
    if not paper_ids:
        return set()
    found = session.execute(
        select(Delivery.paper_id).where(  # type: ignore[call-overload]
            Delivery.subscriber_id == subscriber_id, Delivery.paper_id.in_(list(paper_ids))  # type: ignore[attr-defined]
        )
    ).scalars()
    return {int(paper_id) for paper_id in found}


def _write(session: Session, db: Database, subscription: Subscription, picks: list[tuple[int, Ranked]],
           of: int, now: datetime) -> int:
    if not picks:
        return 0
    statement = db.insert(Delivery.__table__).on_conflict_do_nothing(  # type: ignore[attr-defined]
        index_elements=["subscriber_id", "paper_id"]
    )
    rows = [
        {"subscriber_id": subscription.subscriber_id, "paper_id": paper.paper_id, "subscription_id": subscription.id,
         "status": DeliveryStatus.PENDING.value, "created_at": now.astimezone(UTC), "attempts": 0,
         "explanation": {"trending": {"rank": rank, "of": of, "upvotes": paper.upvotes, "likes": paper.likes}}}
        for rank, paper in picks
    ]
    inserted = session.execute(statement.returning(Delivery.__table__.c.id), rows)  # type: ignore[attr-defined]
    return len(inserted.all())


def _mark(session: Session, subscription_id: int | None, day: int) -> None:
    name = _CURSOR.format(subscription_id)
    row = session.get(Cursor, name) or Cursor(name=name)
    row.value = day
    session.add(row)


def pick(session: Session, db: Database, *, subscriber_ids: Sequence[int] | None,
         kinds: Sequence[str] | None = None, now: datetime) -> int:
    """The day's picks of these subscribers' trending subscriptions, as PENDING rows; returns rows written.

    Runs in the caller's transaction; `subscriber_ids=None` (a bulk claim) picks for nobody, since
    only a subscriber whose delivery is due may use up its day."""
    if not subscriber_ids:
        return 0
    written = 0
    ranking: list[Ranked] | None = None
    for subscription, subscriber in _trending_subscriptions(session, subscriber_ids, kinds):
        day = _local_day(subscriber, now)
        done = session.get(Cursor, _CURSOR.format(subscription.id))
        if (done is not None and abs(done.value) >= day) or not _ready(subscriber, now):
            continue
        ranking = day_ranking(session, now) if ranking is None else ranking
        had = _already_had(session, subscriber.id or 0, [paper.paper_id for paper in ranking])
        fresh = [(rank, paper) for rank, paper in enumerate(ranking, start=1) if paper.paper_id not in had]
        picks = fresh[: top_n_of(subscription.max_items)]
        written += _write(session, db, subscription, picks, len(ranking), now)
        _mark(session, subscription.id, day if picks else -day)
    return written


def quiet_today(db: Database, subscriber_id: int, now: datetime) -> bool:
    """True when one of the subscriber's trending subscriptions found nothing to pick today."""
    with db.session() as session:
        found = _trending_subscriptions(session, [subscriber_id], None)
        for subscription, subscriber in found:
            done = session.get(Cursor, _CURSOR.format(subscription.id))
            if done is not None and done.value == -_local_day(subscriber, now):
                return True
    return False


QUIET_NOTICE = "a quiet day: no new papers are trending since your last digest"
