"""A visitor's ▲ on the day, week and month pages: paperbell's own trending signal, no account needed.

Mounted by digest.web.app.create_app; counts read by digest.web.day_routes. Each card has a small
form that POSTs to `/upvote` (GET is refused: a link or an image cannot vote). The POST must come
from this site (digest.web.security.require_same_origin, the subscribe form's gate: a browser
that says nothing is refused too) and is
rate-limited per client IP (PAPERBELL_WEB_VOTES_PER_IP_PER_HOUR). The browser gets a signed cookie
holding a random visitor id; only a digest of that id is stored (storage.visitor_models), one vote
per paper and browser, so a second ▲ changes nothing. The votes are counted next to subscribers' 👍
by digest.services.trending, and shown on the cards beside Hugging Face's count.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import func
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from digest.settings import Settings
from digest.web.ratelimit import RateLimiter
from digest.web.reader_routes import local_path
from digest.web.security import require_same_origin
from digest.web.site import WebFront, client_ip, notice_page
from storage.db import Database
from storage.models import Paper
from storage.types import utcnow
from storage.visitor_models import VisitorVote

COOKIE = "pb_visitor"
COOKIE_MAX_AGE = 365 * 24 * 3600


def _serializer(settings: Settings) -> URLSafeSerializer:
    return URLSafeSerializer(settings.signing_key(), salt="paperbell.visitor")


def visitor_of(settings: Settings, cookie: str) -> str | None:
    """The random id in a valid visitor cookie, else None."""
    if not cookie or len(cookie) > 200:
        return None
    try:
        value = _serializer(settings).loads(cookie)
    except BadSignature:
        return None
    return value if isinstance(value, str) and len(value) == 32 else None


def _digest(visitor: str) -> str:
    return hashlib.sha256(visitor.encode()).hexdigest()[:32]


def vote_counts(db: Database, paper_ids: Sequence[int]) -> dict[int, int]:
    """Visitors' ▲ per paper (papers without any are left out)."""
    if not paper_ids:
        return {}
    with db.session() as session:
        rows = session.exec(
            select(VisitorVote.paper_id, func.count()).where(col(VisitorVote.paper_id).in_(list(paper_ids)))
            .group_by(col(VisitorVote.paper_id))
        ).all()
    return {int(paper_id): int(count) for paper_id, count in rows}


def latest_vote_statement() -> Any:
    """The newest vote's id: part of the day pages' cache key, so a vote shows on the next request."""
    return select(func.max(VisitorVote.id))


def record(db: Database, paper_id: int, visitor: str) -> bool | None:
    """Store the ▲; True if new, False if this browser had voted already, None if there is no such paper."""
    with db.session() as session:
        if session.get(Paper, paper_id) is None:
            return None
        insert = postgresql.insert if db.is_postgres else sqlite.insert
        statement = insert(VisitorVote.__table__).on_conflict_do_nothing(  # type: ignore[attr-defined]
            index_elements=["paper_id", "visitor"]
        ).values(paper_id=paper_id, visitor=_digest(visitor), created_at=utcnow())
        return bool(session.execute(statement).rowcount)  # type: ignore[attr-defined]


class VisitorVoteRoutes:
    def __init__(self, front: WebFront) -> None:
        self.front = front
        self.per_ip = RateLimiter(front.settings.web_votes_per_ip_per_hour, 3600)

    async def upvote(self, request: Request) -> Response:
        settings = self.front.settings
        require_same_origin(request, settings)  # a page of this site must say so (Origin/Referer), before the body
        if not self.per_ip.allow(client_ip(request)):
            return notice_page("Too many votes", "This address voted many times in the last hour; try again later.",
                               429, error=True)
        form = await request.form(max_files=0, max_fields=5)
        raw = str(form.get("paper_id", ""))
        if not (raw.isascii() and raw.isdigit() and len(raw) <= 12):
            return notice_page("Nothing changed", "A vote names one paper of this site.", 400, error=True)
        known = visitor_of(settings, request.cookies.get(COOKIE, ""))
        visitor = known or secrets.token_hex(16)
        stored = await self.front.db.run(record, self.front.db, int(raw), visitor)
        if stored is None:
            return notice_page("Nothing changed", "There is no such paper here.", 404, error=True)
        response = RedirectResponse(f"{local_path(form.get('back'))}#p{raw}", status_code=303)  # post/redirect/get
        if known is None:
            response.set_cookie(COOKIE, _serializer(settings).dumps(visitor), max_age=COOKIE_MAX_AGE, httponly=True,
                                samesite="lax", secure=settings.public_url.startswith("https://"))
        return response


def visitor_vote_routes(front: WebFront) -> list[Route]:
    return [Route("/upvote", VisitorVoteRoutes(front).upvote, methods=["POST"])]
