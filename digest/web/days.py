"""The papers of one day for the web front (`/`, `/day/YYYY-MM-DD`, the day feed and `/api/papers`).

A day is a UTC calendar day of `Paper.first_seen_at`: "what paperbell learned that day". Ranking:
upvotes where a source has them (most first), then the digests' ranking (`rank_digest_items`).
An empty day is explained from `source_runs` (weekend, no announcement, sources failing) instead of
showing nothing. `store_version` is the cheap fingerprint the web caches key on: any paper added,
updated or deleted changes it, so a cached render is never stale.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection, Select, func
from sqlmodel import col, select

from digest.core.assembly import DigestItem, rank_digest_items
from digest.services.items import make_item
from digest.settings import Settings
from digest.summaries import summary_for
from storage.db import Database
from storage.models import Paper, SourceRun

MAX_DAY_PAPERS = 500  # one day's page is bounded whatever a source floods in


@dataclass
class DayList:
    day: date
    items: list[DigestItem]
    prev_day: date | None
    next_day: date | None
    reason: str | None = None  # why the day is empty
    failing: list[str] = field(default_factory=list)  # "source: error" lines of that day
    left_out: int = 0  # papers of that day beyond MAX_DAY_PAPERS, not on the page


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(), tzinfo=UTC)
    return start, start + timedelta(days=1)


def store_version_statement() -> Select[Any]:
    # Three scalar subqueries, so each is answered from an index (a combined aggregate scans).
    return select(
        select(func.count()).select_from(Paper).scalar_subquery(),
        select(func.max(Paper.id)).scalar_subquery(),
        select(func.max(Paper.last_seen_at)).scalar_subquery(),
    )


def read_store_version(connection: Connection) -> tuple[int, int, str]:
    count, top, seen = connection.execute(store_version_statement()).one()
    return int(count or 0), int(top or 0), str(seen or "")


def store_version(db: Database) -> tuple[int, int, str]:
    """(count, max id, newest last_seen_at) of the papers table: changes whenever a paper does."""
    with db.engine.connect() as connection:
        return read_store_version(connection)


def latest_day(db: Database) -> date | None:
    with db.session() as session:
        newest = session.exec(select(func.max(Paper.first_seen_at))).one()
    return _as_utc(newest).date() if newest else None


def _as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def neighbours(db: Database, day: date) -> tuple[date | None, date | None]:
    """The nearest earlier and later days that have papers."""
    start, end = day_bounds(day)
    with db.session() as session:
        before = session.exec(select(func.max(Paper.first_seen_at)).where(col(Paper.first_seen_at) < start)).one()
        after = session.exec(select(func.min(Paper.first_seen_at)).where(col(Paper.first_seen_at) >= end)).one()
    return (_as_utc(before).date() if before else None, _as_utc(after).date() if after else None)


def papers_of_day(db: Database, day: date, limit: int = MAX_DAY_PAPERS) -> list[Paper]:
    start, end = day_bounds(day)
    with db.session() as session:
        statement = (
            select(Paper)
            .where(col(Paper.first_seen_at) >= start, col(Paper.first_seen_at) < end)
            .order_by(col(Paper.id))
            .limit(limit)
        )
        return list(session.exec(statement).all())


def count_of_day(db: Database, day: date) -> int:
    start, end = day_bounds(day)
    with db.session() as session:
        statement = select(func.count()).where(col(Paper.first_seen_at) >= start, col(Paper.first_seen_at) < end)
        return int(session.exec(statement).one())


def rank_day(items: list[DigestItem], now: datetime) -> list[DigestItem]:
    """Upvotes first (papers without a count after those with one), then the digest ranking; stable."""
    ranked = rank_digest_items(items, now)
    return sorted(ranked, key=lambda item: (item.upvotes is None, -(item.upvotes or 0)))


def web_item(
    settings: Settings, paper: Paper, explanation: dict[str, object] | None = None, *, summary: bool = True,
    tldr: str | None = None,
) -> DigestItem:
    """A paper as the web shows it (`tldr` if already known); `summary=False` gives a light item for ranking."""
    # The source's summary or the extractive TL;DR: anonymous page views never trigger LLM calls.
    if not summary:
        return make_item(settings, 0, paper, None, "", explanation or {}, "", light=True)
    return make_item(settings, 0, paper, None, "", explanation or {}, summary_for(paper) if tldr is None else tldr)


def empty_reason(db: Database, day: date, today: date) -> tuple[str, list[str]]:
    """Why `day` has no papers, from what the sources did that day."""
    start, end = day_bounds(day)
    with db.session() as session:
        runs = list(
            session.exec(
                select(SourceRun).where(col(SourceRun.started_at) >= start, col(SourceRun.started_at) < end)
            ).all()
        )
    failing = sorted({f"{run.source}: {(run.error or 'failed')[:160]}" for run in runs if run.status == "error"})
    if day > today:
        return "This day has not happened yet.", []
    if failing and not any(run.status in {"ok", "empty", "not_modified"} for run in runs):
        return "Every source failed that day, so no papers were fetched.", failing
    if day.weekday() >= 5:
        return "It was a weekend: arXiv makes no announcements on Saturday and Sunday.", failing
    if not runs:
        return "No source ran that day (paperbell was not running, or no sources are configured).", []
    return "The sources ran but announced no new papers that day (e.g. a holiday).", failing


def load_day(settings: Settings, db: Database, day: date | None, now: datetime) -> DayList | None:
    """The day's ranked papers (default: the latest day with papers); None when nothing is stored."""
    chosen = day or latest_day(db)
    if chosen is None:
        return None
    papers = papers_of_day(db, chosen)
    items = rank_day([web_item(settings, paper) for paper in papers], now)
    prev_day, next_day = neighbours(db, chosen)
    left_out = count_of_day(db, chosen) - len(papers) if len(papers) >= MAX_DAY_PAPERS else 0
    listing = DayList(day=chosen, items=items, prev_day=prev_day, next_day=next_day, left_out=left_out)
    if not items:
        listing.reason, listing.failing = empty_reason(db, chosen, now.date())
    return listing
