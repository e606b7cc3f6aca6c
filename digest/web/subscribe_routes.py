"""Subscribe from the page: the form, its live preview (`/api/preview`) and the double opt-in.

Abuse limits, in order: a strict same-origin check (403), a hidden honeypot field (a filled one is
answered like a success and does nothing), one-line refusals of invalid input (400), a per-IP
limit (429) and a per-address limit (answered like a success, no mail). The answer to a valid
form is the same page whether or not the address exists; the confirmation mail goes out after the
response (a background task), so timing does not tell either.
"""

from __future__ import annotations

import logging

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from digest.core.mailbox import mailbox_key
from digest.core.templating import templates_dir
from digest.query import QueryError
from digest.query.people import MAX_NAME_LENGTH
from digest.services.authors import AUTOCOMPLETE_SCAN, MAX_CANDIDATES, find_candidates
from digest.services.errors import InvalidInput, ServiceError
from digest.services.preview import preview_query
from digest.web.security import require_same_origin
from digest.web.site import PAGE_HEADERS, WebFront, client_ip, notice_page, site_page
from digest.web.subscribe import SubscribeForm, subscribe_from_web, validate_form

log = logging.getLogger(__name__)

MAX_FORM_BYTES = 16_384
PREVIEW_DAYS = 7
CHECK_INBOX = (
    "If that address can receive mail, a message with a confirmation link is on its way. "
    "Nothing is sent until you confirm. Already subscribed? Use the link at the bottom of any digest."
)
FIELDS = ("email", "query", "schedule", "hour", "weekday", "timezone")


class SubscribeRoutes:
    def __init__(self, front: WebFront) -> None:
        self.front = front

    def _form_page(self, values: dict[str, str], error: str | None = None, status: int = 200) -> Response:
        return site_page("subscribe.html", status, private=True, title="Subscribe", form=values, error=error,
                         backfill_days=self.front.settings.subscription_backfill_days)

    async def form(self, request: Request) -> Response:
        settings = self.front.settings
        values = {"email": "", "query": request.query_params.get("q", "")[:2000], "schedule": "daily",
                  "hour": str(settings.default_digest_hour), "weekday": str(settings.default_digest_weekday),
                  "timezone": settings.default_timezone}
        if request.method != "POST":  # GET and HEAD only show the form: they never change anything
            author = request.query_params.get("author")
            if author is not None:  # a "follow" link next to an author's name on a paper card
                return await self._follow_form(request, values, author)
            return self._form_page(values)
        require_same_origin(request, settings)
        if int(request.headers.get("content-length") or 0) > MAX_FORM_BYTES:
            return notice_page("Too large", "That form was too large.", 413, error=True)
        data = await request.form(max_files=0, max_fields=20)
        values.update({name: str(data.get(name) or "")[:4000] for name in FIELDS})
        if str(data.get("website") or ""):  # the honeypot: people never see or fill it
            log.info("subscribe form: honeypot filled from %s; ignored", client_ip(request))
            return notice_page("Check your inbox", CHECK_INBOX)
        try:
            form = validate_form(settings, values["email"], values["query"], values["schedule"], values["hour"],
                                 values["weekday"], values["timezone"])
        except InvalidInput as exc:
            return self._form_page(values, _first_line(str(exc)), 400)
        if not self.front.subscribe_per_ip.allow(client_ip(request)):
            return notice_page("Too many requests", "Too many subscriptions from your network; try again later.",
                               429, error=True)
        if not self.front.subscribe_per_address.allow(mailbox_key(form.address)):  # +tags, gmail dots: one box
            return notice_page("Check your inbox", CHECK_INBOX)  # same answer; no more mail to that address
        return notice_page_with_task("Check your inbox", CHECK_INBOX, BackgroundTask(self._subscribe, form))

    async def _follow_form(self, request: Request, values: dict[str, str], author: str) -> Response:
        """The form prefilled with the `author:` clause of the person this spelling belongs to (the
        candidate identity that has it: digest.services.authors), else of the name as written. A lookup
        reads thousands of papers: it shares the preview's per-IP limit."""
        if not self.front.preview_per_ip.allow(client_ip(request)):
            return self._form_page(values, "too many lookups from your network; wait a minute", 429)
        try:
            found = await self.front.db.run(find_candidates, self.front.db, author[:MAX_NAME_LENGTH + 1],
                                            MAX_CANDIDATES, AUTOCOMPLETE_SCAN)
        except ServiceError as exc:
            return self._form_page(values, _first_line(str(exc)), 400)
        spelled = [c for c in found if author in c.names] or found
        if not spelled:
            return self._form_page(values, f"cannot follow {author!r}: a surname alone names nobody in particular", 400)
        values["query"] = spelled[0].clause
        return self._form_page(values)

    async def _subscribe(self, form: SubscribeForm) -> None:
        """Runs after the response went out; failures are logged (the scheduler retries unsent confirmations)."""
        try:
            saved = await self.front.db.run(subscribe_from_web, self.front.db, self.front.settings, form)
            if saved is not None:
                subscriber_id, seen_sent_at = saved
                await self.front.mail.send_confirmation(subscriber_id, seen_sent_at=seen_sent_at)
        except Exception:
            log.exception("web subscribe: could not save or confirm a subscription")

    async def preview(self, request: Request) -> Response:
        """{ok, count, days, examples[{id, title, url}]} or {ok: false, error, position}."""
        if not self.front.preview_per_ip.allow(client_ip(request)):
            return JSONResponse({"ok": False, "error": "too many previews; wait a minute"}, 429)
        q = request.query_params.get("q", "")
        if len(q) > 4000:
            return JSONResponse({"ok": False, "error": "the query is too long", "position": 0}, 400)
        try:
            found = await self.front.db.run(
                preview_query, self.front.db, self.front.settings, q, days=PREVIEW_DAYS, limit=3, now=self.front.now()
            )
        except QueryError as exc:
            return JSONResponse({"ok": False, "error": str(exc), "position": exc.position}, 400)
        examples = [{"id": p.canonical_id, "title": " ".join(p.title.split()), "url": f"/api/papers/{p.canonical_id}"}
                    for p, _ in found.examples]
        return JSONResponse({"ok": True, "count": found.count, "days": PREVIEW_DAYS, "examples": examples})


def _first_line(text: str) -> str:
    return text.splitlines()[0][:300] if text else "invalid input"


def notice_page_with_task(title: str, message: str, task: BackgroundTask) -> Response:
    response = notice_page(title, message)
    response.background = task
    return response


async def script(request: Request) -> Response:
    path = templates_dir() / "web" / "static" / "paperbell.js"
    return FileResponse(path, media_type="text/javascript", headers={**PAGE_HEADERS, "Cache-Control": "max-age=3600"})


def subscribe_routes(front: WebFront) -> list[Route]:
    handlers = SubscribeRoutes(front)
    return [
        Route("/subscribe", handlers.form, methods=["GET", "POST"]),
        Route("/api/preview", handlers.preview, methods=["GET"]),
        Route("/static/paperbell.js", script, methods=["GET"]),
    ]
