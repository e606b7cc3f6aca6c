"""Web routes behind the 👍/👎 links in digest mail: /vote/{token}/up|down|withdraw.

Mounted by digest.web.app.create_app. The token (digest.services.vote_links) names the subscriber and
the paper, signed for the subscriber's current address. GET and HEAD only show a page with one button (mail
scanners prefetch links; nothing changes); POST records, changes or withdraws the vote through
digest.services.feedback and says what the ranking now knows ("12 👍, 3 👎 — ranking learned").
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from digest.services import feedback
from digest.services import subscribers as subscribers_service
from digest.services.errors import NotFound
from digest.services.tokens import TokenError
from digest.services.vote_links import DIRECTIONS, VoteClaims, read_vote_token, verify
from digest.settings import Settings
from digest.web.email_routes import bad_link, message_page, page
from storage.db import Database
from storage.models import Paper

WITHDRAW = "withdraw"


def _paper_title(db: Database, paper_id: int) -> str | None:
    with db.session() as session:
        paper = session.get(Paper, paper_id)
        return " ".join(paper.title.split()) if paper is not None else None


class FeedbackRoutes:
    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings = settings
        self.db = db

    async def _claims(self, token: str) -> VoteClaims | Response:
        try:
            claims = read_vote_token(token)
            subscriber = await self.db.run(subscribers_service.get_subscriber, self.db, claims.subscriber_id)
            verify(self.settings, claims, subscriber.address)
        except TokenError as exc:
            return bad_link(str(exc))
        except NotFound:
            return bad_link("This link is not valid, or its subscription no longer exists.")
        return claims

    async def vote(self, request: Request) -> Response:
        direction = request.path_params["direction"]
        if direction not in DIRECTIONS and direction != WITHDRAW:
            return bad_link("This link is not valid.")
        claims = await self._claims(request.path_params["token"])
        if isinstance(claims, Response):
            return claims
        title = await self.db.run(_paper_title, self.db, claims.paper_id)
        if title is None:
            return bad_link("This paper is no longer stored.")
        if request.method in ("GET", "HEAD"):
            return await self._page(request, claims, title, direction)
        if direction == WITHDRAW:
            await self.db.run(feedback.withdraw_vote, self.db, claims.subscriber_id, claims.paper_id)
            done = "Vote withdrawn"
        else:
            await self.db.run(feedback.record_vote, self.db, claims.subscriber_id, claims.paper_id,
                              DIRECTIONS[direction], channel="email")
            done = "Thanks: 👍 recorded" if DIRECTIONS[direction] > 0 else "Thanks: 👎 recorded"
        counts = await self.db.run(feedback.vote_counts, self.db, claims.subscriber_id)
        return message_page(done, f"“{title}”", detail=f"{counts.describe()}. Your next digest uses it.")

    async def _page(self, request: Request, claims: VoteClaims, title: str, direction: str) -> Response:
        current = await self.db.run(feedback.vote_of, self.db, claims.subscriber_id, claims.paper_id)
        counts = await self.db.run(feedback.vote_counts, self.db, claims.subscriber_id)
        button = {"up": "👍 More like this", "down": "👎 Fewer like this", WITHDRAW: "Withdraw my vote"}[direction]
        base = request.url.path.rsplit("/", 1)[0]
        return page("vote.html", title="Your vote on this paper", paper_title=title, current=current,
                    button=button, action=request.url.path, withdraw_action=f"{base}/{WITHDRAW}",
                    summary=counts.describe())


def feedback_routes(settings: Settings, db: Database) -> list[Route]:
    handlers = FeedbackRoutes(settings, db)
    return [Route("/vote/{token}/{direction}", handlers.vote, methods=["GET", "POST"])]
