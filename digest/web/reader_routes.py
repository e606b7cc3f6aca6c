"""👍/👎 on the web day and search pages, for a subscriber who arrived through their signed link.

Mounted by digest.web.app.create_app; used by digest.web.day_routes. The manage page (reached from
a digest's signed link) links to `/reader/{token}`, a READER token that can only vote: opening it
shows a page whose button POSTs back (same site, CSRF token); only that POST stores a reader session
(digest.web.reader_sessions) in an HttpOnly, SameSite=Lax cookie and redirects to the day page (GET
and HEAD never set it, so another site cannot sign a visitor in as someone else). Pages stay cached
for everyone: each paper card holds a `<!--vote:ID-->` comment that `decorate` fills, for a request
carrying a valid session, with that reader's buttons and current vote (such pages are sent as
private). `POST /reader/vote` (CSRF token + same-site Origin) records, changes or withdraws the vote
through digest.services.feedback, as the mail links do; `POST /reader/leave` signs the reader out on
the server (every session of theirs) and forgets the cookie. Anonymous visitors see no buttons.
"""

from __future__ import annotations

import re

from markupsafe import escape
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from digest.services import feedback
from digest.services import subscribers as subscribers_service
from digest.services.errors import NotFound, ServiceError
from digest.services.likes import subscribe_like
from digest.services.tokens import Purpose, TokenError, make_token, read_token
from digest.settings import Settings
from digest.web import reader_sessions
from digest.web.security import CSRF_FIELD, csrf_ok, csrf_token, foreign_origin
from digest.web.site import WebFront, notice_page, site_page
from storage.models import Subscriber

COOKIE = "pb_reader"
COOKIE_MAX_AGE = 30 * 24 * 3600
PLACEHOLDER = re.compile(r"<!--vote:(\d{1,12})-->")
DIRECTIONS = {"up": 1, "down": -1}
WITHDRAW = "withdraw"
LIKE = "like"  # "more like this": a new subscription seeded from the paper (digest.services.likes)


def reader_path(settings: Settings, subscriber: Subscriber) -> str:
    """The site path that lets this subscriber vote on the web pages (shown on their manage page)."""
    assert subscriber.id is not None
    return f"/reader/{make_token(settings, Purpose.READER, subscriber.id, subscriber.address)}"


def local_path(value: object) -> str:
    """Where to go back after a vote: a path on this site only (never `//host` or a scheme)."""
    text = str(value or "")
    if not text.startswith("/") or text.startswith("//") or "\\" in text or len(text) > 2000:
        return "/"
    return text


def _buttons(paper_id: int, current: int | None, csrf: str, back: str) -> str:
    hidden = (f'<input type="hidden" name="{CSRF_FIELD}" value="{escape(csrf)}">'
              f'<input type="hidden" name="paper_id" value="{paper_id}">'
              f'<input type="hidden" name="back" value="{escape(back)}#p{paper_id}">')
    choices = [("up", "👍", "More like this"), ("down", "👎", "Fewer like this")]
    pressed = ' aria-pressed="true"'
    buttons = "".join(
        f'<button class="secondary" type="submit" name="vote" value="{name}" aria-label="{label}"'
        f'{pressed if current == DIRECTIONS[name] else ""}>{face}</button>'
        for name, face, label in choices
    )
    if current is not None:
        buttons += '<button class="secondary" type="submit" name="vote" value="withdraw">Withdraw</button>'
    buttons += (f'<button class="secondary" type="submit" name="vote" value="{LIKE}">'
                "Subscribe to more like this</button>")
    if current is not None:
        buttons += f' <span class="muted">your vote: {"👍" if current > 0 else "👎"}</span>'
    return f'<form class="inline vote" method="post" action="/reader/vote">{hidden}{buttons}</form>'


class ReaderRoutes:
    def __init__(self, front: WebFront) -> None:
        self.front = front

    async def reader_of(self, request: Request) -> Subscriber | None:
        """The subscriber whose valid, not signed-out reader session this request carries, else None."""
        found = reader_sessions.read(self.front.settings, request.cookies.get(COOKIE, ""))
        if found is None:
            return None
        subscriber_id, digest, issued = found
        try:
            subscriber = await self.front.db.run(subscribers_service.get_subscriber, self.front.db, subscriber_id)
        except NotFound:
            return None
        signed_out = await self.front.db.run(reader_sessions.signed_out_at, self.front.db, subscriber_id)
        if signed_out is not None and issued <= signed_out:
            return None
        return subscriber if reader_sessions.belongs_to(digest, subscriber.address) else None

    async def _reader_by_token(self, token: str) -> Subscriber | None:
        """The subscriber a valid READER token names, for their current address; else None."""
        if len(token) > 512:
            return None
        try:
            claims = read_token(self.front.settings, Purpose.READER, token)
            subscriber = await self.front.db.run(subscribers_service.get_subscriber, self.front.db,
                                                 claims.subscriber_id)
        except (TokenError, NotFound):
            return None
        return subscriber if claims.matches(subscriber.address) else None

    async def decorate(self, request: Request, body: str) -> str:
        """Fill the vote placeholders for a signed-in reader; everyone else gets the page as cached
        (the placeholders are HTML comments: invisible, and not worth a pass over the page)."""
        reader = await self.reader_of(request) if COOKIE in request.cookies else None
        if reader is None or reader.id is None:
            return body
        votes = await self.front.db.run(feedback.votes_for, self.front.db, reader.id)
        csrf = csrf_token(self.front.settings, f"reader:{reader.id}")
        back = local_path(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
        return PLACEHOLDER.sub(lambda m: _buttons(int(m.group(1)), votes.get(int(m.group(1))), csrf, back), body)

    async def enter(self, request: Request) -> Response:
        """GET: a page asking to remember this browser; POST from that page (same site, CSRF): the session cookie.

        A GET never sets the cookie, so a link on another site cannot sign a visitor in as someone else.
        """
        token = request.path_params["token"]
        reader = await self._reader_by_token(token)
        if reader is None or reader.id is None:
            return notice_page("This link is not valid", "Open it again from your manage page.", 400, error=True)
        scope = f"reader-enter:{reader.id}"
        if request.method != "POST":
            return site_page("reader_enter.html", private=True, title="Vote from this browser",
                             address=reader.address, action=request.url.path,
                             csrf=csrf_token(self.front.settings, scope))
        if foreign_origin(self.front.settings, request):
            return notice_page("Nothing changed", "This request came from another site.", 403, error=True)
        form = await request.form(max_files=0, max_fields=5)
        if not csrf_ok(self.front.settings, scope, form.get(CSRF_FIELD)):
            return notice_page("Nothing changed", "This page is out of date; open the link again.", 403, error=True)
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(COOKIE, reader_sessions.issue(self.front.settings, reader.id, reader.address),
                            max_age=COOKIE_MAX_AGE, httponly=True, samesite="lax",
                            secure=self.front.settings.public_url.startswith("https://"))
        return response

    async def vote(self, request: Request) -> Response:
        reader = await self.reader_of(request)
        if reader is None or reader.id is None:  # checked before the body is parsed
            return notice_page("Nothing changed", "Open the link on your manage page to vote here.", 403, error=True)
        if foreign_origin(self.front.settings, request):
            return notice_page("Nothing changed", "This request came from another site.", 403, error=True)
        form = await request.form(max_files=0, max_fields=20)
        if not csrf_ok(
            self.front.settings, f"reader:{reader.id}", form.get(CSRF_FIELD)
        ):
            return notice_page("Nothing changed", "This page is out of date or came from another site. "
                               "Reload it and try again.", 403, error=True)
        choice, raw_id = str(form.get("vote", "")), str(form.get("paper_id", ""))
        well_formed = raw_id.isascii() and raw_id.isdigit() and len(raw_id) <= 12
        if choice not in (*DIRECTIONS, WITHDRAW, LIKE) or not well_formed:
            return notice_page("Nothing changed", "A vote is 👍, 👎 or withdraw, on a paper of this site.", 400,
                               error=True)
        try:
            done = await self._apply(reader.id, choice, int(raw_id))
        except (NotFound, ServiceError) as exc:
            return notice_page("Nothing changed", str(exc), 404 if isinstance(exc, NotFound) else 400, error=True)
        if done is not None:
            return done
        return RedirectResponse(local_path(form.get("back")), status_code=303)  # post/redirect/get

    async def _apply(self, subscriber_id: int, choice: str, paper_id: int) -> Response | None:
        """Record the choice; a page to show for "more like this", None to go back to the list."""
        db = self.front.db
        if choice == LIKE:
            subscription, _ = await db.run(subscribe_like, db, self.front.settings, subscriber_id, [paper_id], None,
                                           created_by="web", channel="web")
            return notice_page("Subscribed to more like this", f"New saved query: {subscription.query}. Papers "
                               "like this one will come first; change it from your manage page.")
        if choice == WITHDRAW:
            await db.run(feedback.withdraw_vote, db, subscriber_id, paper_id)
        else:
            await db.run(feedback.record_vote, db, subscriber_id, paper_id, DIRECTIONS[choice], channel="web")
        return None

    async def leave(self, request: Request) -> Response:
        """Sign out: every session of this reader is void on the server (a copied cookie too), the cookie goes."""
        if foreign_origin(self.front.settings, request):
            return notice_page("Nothing changed", "This request came from another site.", 403, error=True)
        reader = await self.reader_of(request)
        if reader is not None and reader.id is not None:
            await self.front.db.run(reader_sessions.sign_out, self.front.db, reader.id)
        response = RedirectResponse("/", status_code=303)
        response.delete_cookie(COOKIE)
        return response


def reader_routes(front: WebFront) -> list[Route]:
    handlers = ReaderRoutes(front)
    return [
        Route("/reader/vote", handlers.vote, methods=["POST"]),
        Route("/reader/leave", handlers.leave, methods=["POST"]),
        Route("/reader/{token}", handlers.enter, methods=["GET", "POST"]),
    ]
