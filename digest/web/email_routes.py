"""Web routes behind the links in mail: confirm (double opt-in), one-click unsubscribe, manage.

Mounted by digest.web.app.create_app. Every route takes a signed per-subscriber token
(digest.services.tokens): a bad, altered, expired or foreign token gets a clear 400 page and changes
nothing. GET and HEAD never change anything (mail scanners prefetch links and send HEAD); only a
POST acts. Unsubscribe is RFC 8058 one-click: a POST whose body is `List-Unsubscribe=One-Click`
(what mail providers and our own button send), no login, idempotent. Manage forms carry a signed
CSRF token and refuse a foreign Origin (digest.web.security). A pause set by an administrator (or
by repeated delivery failures) is shown on the manage page and only an administrator lifts it.
Handlers call digest.services.subscribers.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from digest.core.schedule import describe_next
from digest.core.templating import jinja_env
from digest.services import feedback
from digest.services import subscribers as service
from digest.services.errors import NotFound, ServiceError
from digest.services.tokens import Purpose, TokenClaims, TokenError, link, read_token
from digest.settings import Settings
from digest.web.reader_routes import reader_path
from digest.web.security import CSRF_FIELD, csrf_ok, csrf_token, foreign_origin
from storage.db import Database
from storage.models import Subscriber
from storage.types import utcnow

UNSUBSCRIBED_REASON = "unsubscribed by the recipient (one-click link)"
ONE_CLICK = ("List-Unsubscribe", "One-Click")  # RFC 8058 section 3.1: the POST body that unsubscribes
MAX_ID = 2**31 - 1  # ids are 32-bit integers on PostgreSQL: anything larger is simply not there
# Tokens travel in the URL: never leak them to other sites, never be framed.
SECURITY_HEADERS = {
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
}


def page(template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    html = jinja_env().get_template(f"web/{template}").render(**context)
    return HTMLResponse(html, status_code=status_code, headers=SECURITY_HEADERS)


def message_page(title: str, message: str, *, status_code: int = 200, error: bool = False,
                 detail: str | None = None) -> HTMLResponse:
    return page("message.html", status_code, title=title, message=message, error=error, detail=detail)


def bad_link(reason: str) -> HTMLResponse:
    return message_page(
        "Link not valid", reason, status_code=400, error=True,
        detail="Nothing was changed. Use the link from your most recent paperbell mail, or ask the administrator.",
    )


class _Refused(ServiceError):
    """The subscriber may not do this (e.g. lift an administrator's pause)."""


def self_paused(subscriber: Subscriber) -> bool:
    """Paused by the subscriber's own unsubscribe (which they may undo), not by an admin or by failures."""
    return subscriber.paused and subscriber.pause_reason == UNSUBSCRIBED_REASON


class _Invalid(Exception):
    def __init__(self, response: HTMLResponse) -> None:
        self.response = response


class EmailRoutes:
    """Handlers bound to one Settings + Database (the app's composition root builds it)."""

    def __init__(self, settings: Settings, db: Database) -> None:
        settings.signing_key()  # a missing/short key stops start-up here, naming the setting
        self.settings = settings
        self.db = db

    async def _subscriber(self, purpose: Purpose, token: str) -> Subscriber | None:
        """The subscriber a valid token names; None when it was deleted; _Invalid for a bad token."""
        try:
            claims: TokenClaims = read_token(self.settings, purpose, token)
        except TokenError as exc:
            raise _Invalid(bad_link(str(exc))) from None
        try:
            subscriber = await self.db.run(service.get_subscriber, self.db, claims.subscriber_id)
        except NotFound:
            return None
        if not claims.matches(subscriber.address):
            raise _Invalid(bad_link("This link is not valid."))
        return subscriber

    # --- confirm ----------------------------------------------------------------------------
    async def confirm(self, request: Request) -> Response:
        token = request.path_params["token"]
        try:
            subscriber = await self._subscriber(Purpose.CONFIRM, token)
        except _Invalid as invalid:
            return invalid.response
        if subscriber is None:
            return bad_link("This subscription no longer exists.")
        if request.method != "POST":  # GET and HEAD (Starlette adds HEAD to GET routes) only show
            if subscriber.confirmed_at is not None:
                return message_page("Already confirmed", f"{subscriber.address} is confirmed; digests will follow.")
            return page("confirm.html", title="Confirm your subscription", address=subscriber.address,
                        action=request.url.path)
        assert subscriber.id is not None
        confirmed = await self.db.run(service.confirm_subscriber, self.db, subscriber.id)
        return page("confirmed.html", title="Subscription confirmed", address=confirmed.address,
                    first_digest=describe_next(confirmed, utcnow()),
                    manage_url=link(self.settings, Purpose.MANAGE, subscriber.id, subscriber.address))

    # --- unsubscribe ------------------------------------------------------------------------
    async def unsubscribe(self, request: Request) -> Response:
        token = request.path_params["token"]
        try:
            subscriber = await self._subscriber(Purpose.UNSUBSCRIBE, token)
        except _Invalid as invalid:
            return invalid.response
        if subscriber is None:
            return message_page("Unsubscribed", "This address receives no mail from paperbell.")
        assert subscriber.id is not None
        if request.method != "POST":
            manage_url = link(self.settings, Purpose.MANAGE, subscriber.id, subscriber.address)
            return page("unsubscribe.html", title="Unsubscribe", address=subscriber.address,
                        action=request.url.path, manage_url=manage_url)
        form = await request.form(max_files=0, max_fields=20)
        if form.get(ONE_CLICK[0]) != ONE_CLICK[1]:
            return message_page("Nothing changed", "This request did not ask to unsubscribe "
                                "(expected the body List-Unsubscribe=One-Click).", status_code=400, error=True)
        # An admin's (or the failure) pause stays as it is: the recipient gets no mail either way.
        if not subscriber.paused:
            await self.db.run(service.set_subscriber_paused, self.db, subscriber.id, True, UNSUBSCRIBED_REASON)
        return message_page("Unsubscribed", f"{subscriber.address} will get no more mail from paperbell.")

    # --- manage -----------------------------------------------------------------------------
    async def manage(self, request: Request) -> Response:
        token = request.path_params["token"]
        try:
            subscriber = await self._subscriber(Purpose.MANAGE, token)
        except _Invalid as invalid:
            return invalid.response
        if subscriber is None:
            return bad_link("This subscription no longer exists.")
        assert subscriber.id is not None
        notice = None
        scope = f"manage:{subscriber.id}"
        if request.method == "POST":
            foreign = foreign_origin(self.settings, request)  # checked before the body is parsed
            form = await request.form(max_files=0, max_fields=20) if not foreign else None
            if form is None or not csrf_ok(self.settings, scope, form.get(CSRF_FIELD)):
                return message_page("Nothing changed", "This form is out of date or came from another site. "
                                    "Reload the page and try again.", status_code=403, error=True)
            try:
                action, chosen = str(form.get("action", "")), str(form.get("subscription_id", ""))
                notice = await self._apply(subscriber, action, chosen)
            except NotFound as exc:
                return message_page("Nothing changed", str(exc), status_code=404, error=True)
            except _Refused as exc:
                return message_page("Nothing changed", str(exc), status_code=403, error=True)
            except ServiceError as exc:
                return message_page("Nothing changed", str(exc), status_code=400, error=True)
            # Post/redirect/get: a reload does not repeat the action.
            return RedirectResponse(f"{request.url.path}?done={notice}", status_code=303, headers=SECURITY_HEADERS)
        notice = {"paused": "Query paused.", "resumed": "Query resumed.", "removed": "Query removed.",
                  "paused_all": "All mail paused.", "resumed_all": "Digests resumed."}.get(
            request.query_params.get("done", ""))
        subscriptions = await self.db.run(service.list_subscriptions, self.db, subscriber_id=subscriber.id)
        votes = await self.db.run(feedback.vote_counts, self.db, subscriber.id)
        return page("manage.html", title="Your paperbell subscriptions", subscriber=subscriber,
                    subscriptions=subscriptions, action=request.url.path, notice=notice, votes=votes.describe(),
                    can_resume=self_paused(subscriber), csrf_field=CSRF_FIELD,
                    csrf_token=csrf_token(self.settings, scope), reader_path=reader_path(self.settings, subscriber))

    async def _apply(self, subscriber: Subscriber, action: str, subscription: str) -> str:
        assert subscriber.id is not None
        if action == "pause_all":
            if not subscriber.paused:  # never overwrite an administrator's reason
                await self.db.run(service.set_subscriber_paused, self.db, subscriber.id, True, UNSUBSCRIBED_REASON)
            return "paused_all"
        if action == "resume_all":
            if subscriber.paused and not self_paused(subscriber):
                raise _Refused(f"Mail to this address was paused by the administrator ({subscriber.pause_reason}); "
                               "only they can resume it.")
            await self.db.run(service.set_subscriber_paused, self.db, subscriber.id, False)
            return "resumed_all"
        if action not in {"pause", "resume", "remove"}:
            raise ServiceError(f"unknown action {action[:40]!r}")
        if not (subscription.isascii() and subscription.isdigit()):
            raise ServiceError("no subscription given")
        if len(subscription) > 10 or int(subscription) > MAX_ID:
            raise NotFound(f"no subscription #{subscription[:20]}")
        subscription_id = int(subscription)
        if action == "remove":
            await self.db.run(service.remove_subscription, self.db, subscription_id, owner_id=subscriber.id)
            return "removed"
        await self.db.run(service.set_subscription_paused, self.db, subscription_id, action == "pause",
                          owner_id=subscriber.id)
        return "paused" if action == "pause" else "resumed"


def email_routes(settings: Settings, db: Database) -> list[Route]:
    handlers = EmailRoutes(settings, db)
    return [
        Route("/confirm/{token}", handlers.confirm, methods=["GET", "POST"]),
        Route("/unsubscribe/{token}", handlers.unsubscribe, methods=["GET", "POST"]),
        Route("/manage/{token}", handlers.manage, methods=["GET", "POST"]),
    ]
