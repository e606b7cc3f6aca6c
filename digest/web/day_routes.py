"""The public pages: `/` and `/day/YYYY-MM-DD` (the day's papers), `/week/YYYY-Www` and `/month/YYYY-MM`
(the same, ranked over a week or a month), and `/search?q=` (the query language).

A day, week or month shows its top `digest.web.periods.PAGE_SIZE` papers; `?page=N` and `?show=all`
show the rest. Rendering is cached per (page, store version, visitors' votes) in `WebFront.renders`,
so a page is one cheap version query per request until a paper or a vote changes. Database and CPU
work run in worker threads. A bad date is a 404 page; a bad query shows the parser's pointed error
inline (status 400).
"""

from __future__ import annotations

import asyncio
from datetime import date

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from digest.query import QueryError
from digest.services.trending import DEFAULT_TOP_N
from digest.web.days import MAX_DAY_PAPERS, empty_reason, latest_day, neighbours
from digest.web.periods import (
    PAGE_SIZE,
    Period,
    PeriodList,
    day_period,
    load_period,
    month_period,
    parse_month,
    parse_week,
    period_path,
    pick,
    week_period,
)
from digest.web.reader_routes import ReaderRoutes
from digest.web.search import search_corpus
from digest.web.site import WebFront, html, notice_page, render
from digest.web.thumbnails import thumbnail_of
from digest.web.visitor_votes import vote_counts

MAX_QUERY_CHARS = 4000  # far above any valid query: longer input is refused before parsing
MAX_PAGE = 10_000


def parse_day(text: str) -> date | None:
    """A YYYY-MM-DD date in a sane range, else None."""
    if len(text) != 10:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None
    return day if 1990 <= day.year <= 2200 else None


def page_number(text: str | None) -> int:
    # isascii: "²".isdigit() is true but int("²") raises
    return max(int(text), 1) if text and text.isascii() and text.isdigit() and len(text) <= 5 else 1


class DayRoutes:
    def __init__(self, front: WebFront) -> None:
        self.front = front
        self.readers = ReaderRoutes(front)  # a signed-in subscriber's 👍/👎 on the cached pages

    async def day(self, request: Request) -> Response:
        raw = request.path_params.get("day")
        chosen = parse_day(raw) if raw is not None else None
        if raw is not None and chosen is None:
            return notice_page("Page not found", "Dates look like /day/2026-03-02.", 404, error=True)
        return await self._listing(request, "day", chosen)

    async def week(self, request: Request) -> Response:
        period = parse_week(request.path_params["week"])
        if period is None:
            return notice_page("Page not found", "Weeks look like /week/2026-W49 (ISO week numbers).", 404, error=True)
        return await self._listing(request, "week", period)

    async def month(self, request: Request) -> Response:
        period = parse_month(request.path_params["month"])
        if period is None:
            return notice_page("Page not found", "Months look like /month/2026-12.", 404, error=True)
        return await self._listing(request, "month", period)

    async def _listing(self, request: Request, kind: str, chosen: date | Period | None) -> Response:
        page = min(page_number(request.query_params.get("page")), MAX_PAGE)
        show_all = request.query_params.get("show") == "all"
        version = (await self.front.version(), await self.front.votes_version())
        key = (kind, chosen, page, show_all, version)
        body = self.front.renders.get(key)
        if body is None:
            render_one = self._render_day if kind == "day" else self._render_period
            body, cacheable = await self.front.db.run(render_one, chosen, page, show_all)
            if cacheable:
                self.front.renders.put(key, body)
        return await self._page(request, body)

    async def _page(self, request: Request, body: str, status: int = 200) -> Response:
        """The (cached, shared) page with this reader's vote buttons; private when it carries them."""
        decorated = await self.readers.decorate(request, body)
        return html(decorated, status, private="/reader/vote" in decorated,
                    images=self.front.settings.web_external_images)

    def _render_day(self, chosen: date | None, page: int, show_all: bool) -> tuple[str, bool]:
        """The page and whether it may be cached: an empty day's reason depends on source runs
        and the clock, not on the papers, so it is rendered afresh each time (it is cheap)."""
        settings, db = self.front.settings, self.front.db
        day = chosen or latest_day(db)
        if day is None:
            return render("empty.html", title="Daily papers"), False
        listing = pick(settings, load_period(settings, db, day_period(day), self.front.now(), MAX_DAY_PAPERS),
                       page, show_all)
        prev_day, next_day = neighbours(db, day)
        reason, failing = empty_reason(db, day, self.front.now().date()) if not listing.ranked else (None, [])
        body = render(
            "day.html", title=f"Papers of {day.isoformat()}", day=day, listing=listing, prev_day=prev_day,
            next_day=next_day, reason=reason, failing=failing, max_day_papers=MAX_DAY_PAPERS, page_size=PAGE_SIZE,
            week_path=period_path("week", day), month_path=period_path("month", day), trending_top=DEFAULT_TOP_N,
            subscribe_defaults=self._subscribe_defaults(), **self._card_extras(listing),
        )
        return body, bool(listing.ranked)

    def _render_period(self, period: Period, page: int, show_all: bool) -> tuple[str, bool]:
        settings, db = self.front.settings, self.front.db
        listing = pick(settings, load_period(settings, db, period, self.front.now()), page, show_all)
        wider = month_period(period.start) if period.kind == "week" else None
        weeks = _weeks_of(period) if period.kind == "month" else []
        body = render(
            "period.html", title=period.label, period=period, listing=listing, prev=period.neighbour(-1),
            next=period.neighbour(1), today=self.front.now().date(), wider=wider, weeks=weeks,
            max_day_papers=MAX_DAY_PAPERS, page_size=PAGE_SIZE, **self._card_extras(listing),
        )
        return body, True

    def _card_extras(self, listing: PeriodList) -> dict[str, object]:
        """Visitors' ▲ per shown paper, and thumbnails when the operator allows external images."""
        ids = [item.paper_id for item in listing.shown]
        thumbs = {}
        if self.front.settings.web_external_images:
            thumbs = {pid: url for pid in ids if (url := thumbnail_of(listing.papers.get(pid)))}
        return {"visitor_votes": vote_counts(self.front.db, ids), "thumbnails": thumbs}

    def _subscribe_defaults(self) -> dict[str, object]:
        """The one-field Subscribe box's hidden fields: a daily digest at the operator's default time."""
        settings = self.front.settings
        return {"hour": settings.default_digest_hour, "weekday": settings.default_digest_weekday,
                "timezone": settings.default_timezone}

    async def search(self, request: Request) -> Response:
        q = request.query_params.get("q", "").strip()
        page = min(page_number(request.query_params.get("page")), MAX_PAGE)
        context: dict[str, object] = {"title": "Search", "q": q, "error": None, "outcome": None,
                   "candidates": self.front.settings.web_search_candidates}
        if not q:
            return html(render("search.html", **context))
        if len(q) > MAX_QUERY_CHARS:
            context.update(error=f"the query is longer than {MAX_QUERY_CHARS} characters", error_position=0)
            return html(render("search.html", **context), 400)
        version = await self.front.version()
        key = ("search", q, page, version)
        cached = self.front.renders.get(key)
        if cached is not None:
            return await self._page(request, cached[0], cached[1])
        corpus = await self.front.corpus(version)
        try:
            outcome = await asyncio.to_thread(
                search_corpus, self.front.settings, corpus, q, page=page,
                per_page=self.front.settings.web_page_size, now=self.front.now(),
            )
        except QueryError as exc:
            context.update(error=str(exc), error_position=min(max(exc.position, 0), len(q)))
            body, status = render("search.html", **context), 400
        else:
            context["outcome"] = outcome
            body, status = await asyncio.to_thread(render, "search.html", **context), 200
        self.front.renders.put(key, (body, status))
        return await self._page(request, body, status)


def _weeks_of(period: Period) -> list[Period]:
    """The ISO weeks that touch a month, for its page's links."""
    weeks, monday = [], week_period(period.start)
    while monday.start < period.end:
        weeks.append(monday)
        monday = monday.neighbour(1)
    return weeks


def day_routes(front: WebFront) -> list[Route]:
    handlers = DayRoutes(front)
    return [
        Route("/", handlers.day, methods=["GET"]),
        Route("/day/{day}", handlers.day, methods=["GET"]),
        Route("/week/{week}", handlers.week, methods=["GET"]),
        Route("/month/{month}", handlers.month, methods=["GET"]),
        Route("/search", handlers.search, methods=["GET"]),
    ]
