"""Days, ISO weeks and months of papers for the web pages (`/day/…`, `/week/2026-W49`, `/month/2026-12`).

Used by digest.web.day_routes. A period is a range of UTC calendar days of `Paper.first_seen_at`
(as a day is in digest.web.days). Its papers are read once (bounded by `MAX_PERIOD_PAPERS`), ranked
as light items (upvotes, then the digest ranking), and only the page shown is built in full (TL;DR,
LaTeX), so a busy month costs little more than a busy day. A page shows the top `PAGE_SIZE`; further
pages and "show all" (up to digest.web.days.MAX_DAY_PAPERS cards) are links.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func
from sqlmodel import col, select

from digest.core.assembly import DigestItem
from digest.settings import Settings
from digest.web.days import MAX_DAY_PAPERS, rank_day, web_item
from storage.db import Database
from storage.models import Paper

PAGE_SIZE = 30  # the top of a day: enough to read over coffee, small enough for a phone
MAX_PERIOD_PAPERS = 3000  # papers of one week or month that are ranked at all (the first to arrive)
_WEEK = re.compile(r"(\d{4})-W(\d{2})")
_MONTH = re.compile(r"(\d{4})-(\d{2})")


@dataclass(frozen=True)
class Period:
    kind: str  # "day", "week" or "month"
    start: date
    end: date  # exclusive

    @property
    def path(self) -> str:
        return period_path(self.kind, self.start)

    @property
    def label(self) -> str:
        if self.kind == "day":
            return self.start.strftime("%A %d %B %Y")
        if self.kind == "week":
            iso = self.start.isocalendar()
            last = self.end - timedelta(days=1)
            return f"Week {iso.week}, {iso.year} ({self.start:%d %b} – {last:%d %b})"
        return self.start.strftime("%B %Y")

    def neighbour(self, step: int) -> Period:
        """The previous (-1) or next (+1) period of the same kind."""
        if self.kind == "month":
            months = self.start.year * 12 + self.start.month - 1 + step
            return month_period(date(months // 12, months % 12 + 1, 1))
        length = self.end - self.start
        return Period(self.kind, self.start + step * length, self.end + step * length)


def period_path(kind: str, day: date) -> str:
    if kind == "week":
        iso = day.isocalendar()
        return f"/week/{iso.year}-W{iso.week:02d}"
    if kind == "month":
        return f"/month/{day:%Y-%m}"
    return f"/day/{day.isoformat()}"


def day_period(day: date) -> Period:
    return Period("day", day, day + timedelta(days=1))


def week_period(day: date) -> Period:
    monday = day - timedelta(days=day.weekday())
    return Period("week", monday, monday + timedelta(days=7))


def month_period(day: date) -> Period:
    first = day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return Period("month", first, following)


def parse_week(text: str) -> Period | None:
    """`2026-W49` (ISO week) in a sane range, else None."""
    found = _WEEK.fullmatch(text)
    if found is None or not 1990 <= int(found[1]) <= 2200:
        return None
    try:
        return week_period(date.fromisocalendar(int(found[1]), int(found[2]), 1))
    except ValueError:
        return None


def parse_month(text: str) -> Period | None:
    """`2026-12` in a sane range, else None."""
    found = _MONTH.fullmatch(text)
    if found is None or not 1990 <= int(found[1]) <= 2200 or not 1 <= int(found[2]) <= 12:
        return None
    return month_period(date(int(found[1]), int(found[2]), 1))


@dataclass
class PeriodList:
    period: Period
    ranked: list[DigestItem]  # light items, best first
    papers: dict[int, Paper]
    left_out: int = 0  # papers of the period beyond the bound, not ranked
    shown: list[DigestItem] = field(default_factory=list)  # the page's items, built in full
    page: int = 1
    pages: int = 1
    show_all: bool = False


def _bounds(period: Period) -> tuple[datetime, datetime]:
    return (datetime.combine(period.start, time(), tzinfo=UTC), datetime.combine(period.end, time(), tzinfo=UTC))


def load_period(settings: Settings, db: Database, period: Period, now: datetime,
                limit: int = MAX_PERIOD_PAPERS) -> PeriodList:
    """The period's papers ranked (light items); `pick` then builds one page of them in full."""
    start, end = _bounds(period)
    window = (col(Paper.first_seen_at) >= start, col(Paper.first_seen_at) < end)
    with db.session() as session:
        papers = list(session.exec(select(Paper).where(*window).order_by(col(Paper.id)).limit(limit)).all())
        total = int(session.exec(select(func.count()).where(*window)).one()) if len(papers) >= limit else len(papers)
    ranked = rank_day([web_item(settings, paper, summary=False) for paper in papers], now)
    return PeriodList(period, ranked, {paper.id or 0: paper for paper in papers}, left_out=total - len(papers))


def pick(settings: Settings, listing: PeriodList, page: int, show_all: bool) -> PeriodList:
    """Build the shown page: `PAGE_SIZE` cards from `page` (clamped), or all up to `MAX_DAY_PAPERS`."""
    count = len(listing.ranked)
    listing.pages = max(1, -(-count // PAGE_SIZE))
    listing.show_all = show_all and count > PAGE_SIZE
    if listing.show_all:
        chosen, listing.page = listing.ranked[:MAX_DAY_PAPERS], 1
    else:
        listing.page = min(max(page, 1), listing.pages)
        chosen = listing.ranked[(listing.page - 1) * PAGE_SIZE : listing.page * PAGE_SIZE]
    listing.shown = [web_item(settings, listing.papers[item.paper_id]) for item in chosen]
    return listing
