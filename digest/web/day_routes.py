"""The public pages: `/` and `/day/YYYY-MM-DD` (the day's papers) and `/search?q=` (the query language).

Rendering is cached per (page, store version) in `WebFront.renders`, so the day page is one cheap
version query per request until a paper changes. Database and CPU work run in worker threads.
A bad date is a 404 page; a bad query shows the parser's pointed error inline (status 400).
"""

from __future__ import annotations

import asyncio
from datetime import date

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from digest.query import QueryError
from digest.services.trending import DEFAULT_TOP_N
from digest.web.days import MAX_DAY_PAPERS, load_day
from digest.web.reader_routes import ReaderRoutes
from digest.web.search import search_corpus
from digest.web.site import WebFront, html, notice_page, render

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
        version = await self.front.version()
        key = ("day", chosen, version)
        body = self.front.renders.get(key)
        if body is None:
            body, cacheable = await self.front.db.run(self._render_day, chosen)
            if cacheable:
                self.front.renders.put(key, body)
        return await self._page(request, body)

    async def _page(self, request: Request, body: str, status: int = 200) -> Response:
        """The (cached, shared) page with this reader's vote buttons; private when it carries them."""
        decorated = await self.readers.decorate(request, body)
        return html(decorated, status, private="/reader/vote" in decorated)

    def _render_day(self, chosen: date | None) -> tuple[str, bool]:
        """The page and whether it may be cached: an empty day's reason depends on source runs
        and the clock, not on the papers, so it is rendered afresh each time (it is cheap)."""
        listing = load_day(self.front.settings, self.front.db, chosen, self.front.now())
        if listing is None:
            return render("empty.html", title="Daily papers"), False
        body = render(
            "day.html", title=f"Papers of {listing.day.isoformat()}", day=listing.day, items=listing.items,
            prev_day=listing.prev_day, next_day=listing.next_day, reason=listing.reason, failing=listing.failing,
            left_out=listing.left_out, max_day_papers=MAX_DAY_PAPERS, trending_top=DEFAULT_TOP_N,
            subscribe_defaults=self._subscribe_defaults(),
        )
        return body, bool(listing.items)

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


def day_routes(front: WebFront) -> list[Route]:
    handlers = DayRoutes(front)
    return [
        Route("/", handlers.day, methods=["GET"]),
        Route("/day/{day}", handlers.day, methods=["GET"]),
        Route("/search", handlers.search, methods=["GET"]),
    ]
