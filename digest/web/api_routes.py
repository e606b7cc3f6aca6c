"""The JSON API: `/api/papers?date=`, `/api/search?q=`, `/api/papers/{id}` (documented in the README).

Ids are the stored canonical ids (`2603.01234`, `doi:10.…`, `hash:…`): stable across restarts and
re-ingestion. Lists are paged with `page` (1-based) and `per_page` (≤ 100); every list answer says
`page`, `pages` and `total`; a `page`/`per_page` that is not a whole number is refused. Errors are
JSON `{"error": ...}` with a 4xx status; a query error's `position` is 1-based, as its message. Bodies are cached
per store version like the pages.
"""

from __future__ import annotations

import asyncio
import re
from datetime import datetime
from typing import Any

from sqlmodel import select
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from digest.core.assembly import DigestItem
from digest.core.links import safe_http_url
from digest.query import QueryError
from digest.services.errors import InvalidInput, NotFound
from digest.services.paper_lookup import find_paper
from digest.web.day_routes import MAX_PAGE, MAX_QUERY_CHARS, page_number, parse_day
from digest.web.days import load_day, web_item
from digest.web.search import search_corpus
from digest.web.site import WebFront
from storage.db import Database
from storage.models import Paper

MAX_PER_PAGE = 100
HEADERS = {"X-Content-Type-Options": "nosniff", "Access-Control-Allow-Origin": "*"}


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def item_json(item: DigestItem, explanation: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": item.canonical_id,
        "title": item.title,
        "authors": list(item.authors),
        "categories": list(item.categories),
        "tldr": item.summary,
        "upvotes": item.upvotes,
        "published_at": _iso(item.published_at),
        "links": {name: safe_http_url(url) for name, url in
                  (("abstract", item.abs_url), ("pdf", item.pdf_url), ("hf", item.hf_url), ("code", item.code_url))},
        "url": f"/api/papers/{item.canonical_id}",
    }
    if explanation is not None:
        body["explanation"] = explanation
    return body


def _error(message: str, status: int, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status, headers=HEADERS)


_WHOLE = re.compile(r"-?[0-9]{1,12}")


class BadPaging(ValueError):
    """`per_page` or `page` is not a whole number: refused, not silently replaced by the default."""


def _paging(request: Request, default: int) -> tuple[int, int]:
    for name in ("per_page", "page"):
        raw = request.query_params.get(name)
        if raw is not None and not _WHOLE.fullmatch(raw):  # numbers out of range are clamped below
            raise BadPaging(f"{name} must be a whole number (per_page 1-{MAX_PER_PAGE}), got {raw[:20]!r}")
    raw = request.query_params.get("per_page")
    per_page = int(raw) if raw else default
    return min(page_number(request.query_params.get("page")), MAX_PAGE), min(max(per_page, 1), MAX_PER_PAGE)


def lookup(db: Database, ref: str) -> Paper:
    """A stored paper by its canonical id exactly, else by what people type (arXiv id, URL, DOI)."""
    with db.session() as session:
        paper = session.exec(select(Paper).where(Paper.canonical_id == ref)).first()
    return paper or find_paper(db, ref)


class ApiRoutes:
    def __init__(self, front: WebFront) -> None:
        self.front = front

    async def papers(self, request: Request) -> Response:
        raw = request.query_params.get("date")
        day = parse_day(raw) if raw else None
        if raw and day is None:
            return _error("date must be YYYY-MM-DD", 400)
        try:
            page, per_page = _paging(request, self.front.settings.web_page_size)
        except BadPaging as exc:
            return _error(str(exc), 400)
        key = ("api-papers", day, page, per_page, await self.front.version())
        body = self.front.renders.get(key)
        if body is None:
            listing = await self.front.db.run(load_day, self.front.settings, self.front.db, day, self.front.now())
            items = listing.items if listing else []
            pages = max(1, -(-len(items) // per_page))
            body = {
                "date": listing.day.isoformat() if listing else None,
                "prev_date": listing.prev_day.isoformat() if listing and listing.prev_day else None,
                "next_date": listing.next_day.isoformat() if listing and listing.next_day else None,
                "empty_reason": listing.reason if listing else "no papers stored yet",
                "total": len(items), "page": page, "pages": pages, "per_page": per_page,
                "left_out": listing.left_out if listing else 0,  # beyond the day's bound, not listed
                "papers": [item_json(i) for i in items[(page - 1) * per_page : page * per_page]],
            }
            if listing is None or listing.items:  # an empty day's reason changes without the papers
                self.front.renders.put(key, body)
        return JSONResponse(body, headers=HEADERS)

    async def search(self, request: Request) -> Response:
        q = request.query_params.get("q", "").strip()
        if not q:
            return _error("q is required", 400)
        if len(q) > MAX_QUERY_CHARS:
            return _error(f"the query is longer than {MAX_QUERY_CHARS} characters", 400, position=1)
        try:
            page, per_page = _paging(request, self.front.settings.web_page_size)
        except BadPaging as exc:
            return _error(str(exc), 400)
        corpus = await self.front.corpus(await self.front.version())
        try:
            outcome = await asyncio.to_thread(search_corpus, self.front.settings, corpus, q, page=page,
                                              per_page=per_page, now=self.front.now())
        except QueryError as exc:
            return _error(str(exc), 400, position=exc.position + 1)  # 1-based, as the message says
        return JSONResponse({
            "query": q, "total": outcome.total, "page": outcome.page, "pages": outcome.pages, "per_page": per_page,
            "capped": outcome.capped, "warnings": outcome.warnings,
            "papers": [item_json(i, e) for i, e in zip(outcome.items, outcome.explanations, strict=True)],
        }, headers=HEADERS)

    async def paper(self, request: Request) -> Response:
        ref = request.path_params["id"]
        if len(ref) > 300:
            return _error("id too long", 400)
        try:
            paper = await self.front.db.run(lookup, self.front.db, ref)
        except InvalidInput as exc:
            return _error(str(exc), 400)
        except NotFound as exc:
            return _error(str(exc), 404)
        body = item_json(web_item(self.front.settings, paper))
        body.update(abstract=paper.abstract, first_seen_at=_iso(paper.first_seen_at), sources=list(paper.sources))
        return JSONResponse(body, headers=HEADERS)


def api_routes(front: WebFront) -> list[Route]:
    handlers = ApiRoutes(front)
    return [
        Route("/api/papers", handlers.papers, methods=["GET"]),
        Route("/api/search", handlers.search, methods=["GET"]),
        Route("/api/papers/{id:path}", handlers.paper, methods=["GET"]),
    ]
