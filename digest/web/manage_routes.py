"""The manage page grown up: `/manage/{token}/settings` edits queries (with preview), the schedule,
hour and time zone, pauses/resumes/deletes a query and sends the next digest now; it also shows what
the ranking learned from the reader's 👍/👎 in plain words, and forgets it on request.

The token is the manage token of the mail links (digest.services.tokens); a POST must also pass the
same-origin check. Post/redirect/get: a reload never repeats an action. Every change goes through
the subscriber services with ownership scoping, so one subscriber's token cannot touch another's
subscriptions. "Send now" is limited per subscriber (`web_send_now_interval_minutes`).
"""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from digest.core.lifecycle import CODE, NEW_VERSION, PUBLISHED
from digest.services import subscribers as service
from digest.services.digest_extras import subscription_facts
from digest.services.errors import NotFound, ServiceError
from digest.services.feedback import vote_counts
from digest.services.learned import reset_learning, what_it_learned
from digest.services.lifecycle import set_update_kinds
from digest.services.tokens import Purpose, TokenError, read_token
from digest.web.feeds import feed_url
from digest.web.field_errors import FieldError, field_error
from digest.web.security import require_same_origin
from digest.web.site import PRIVATE_HEADERS, WebFront, notice_page, site_page
from digest.web.subscribe import update_query, validate_schedule_fields
from storage.models import Subscriber
from storage.types import utcnow

NOTICES = {
    "query": "Query saved.", "schedule": "Schedule saved.", "pause": "Query paused.", "resume": "Query resumed.",
    "remove": "Query deleted.", "updates": "Updates saved.",
    "sent": "Your digest is on its way.", "empty": "Nothing new to send yet.",
    "confirming": "Confirm your address first: a confirmation mail is on its way.",
    "unconfirmed": "Confirm your address first, with the link in the confirmation mail.",
    "failed": "The digest could not be sent right now; it stays queued.",
    "reset": "Your votes are forgotten: digests come in the order without votes until you vote again.",
}
MAX_ID = 2**31 - 1
UPDATE_KINDS = ((NEW_VERSION, "a new version"), (PUBLISHED, "published (journal reference or DOI)"),
                (CODE, "code, model or dataset released"))


class ManageRoutes:
    def __init__(self, front: WebFront) -> None:
        self.front = front

    async def _subscriber(self, token: str) -> Subscriber:
        """The subscriber a valid manage token names; `NotFound` for a bad token or a deleted subscriber."""
        try:
            claims = read_token(self.front.settings, Purpose.MANAGE, token)
        except TokenError as exc:
            raise NotFound(str(exc)) from None
        try:
            subscriber = await self.front.db.run(service.get_subscriber, self.front.db, claims.subscriber_id)
        except NotFound:
            raise NotFound("This subscription no longer exists.") from None
        if not claims.matches(subscriber.address):
            raise NotFound("This link is not valid.")
        return subscriber

    async def settings_page(self, request: Request) -> Response:
        token = request.path_params["token"]
        try:
            subscriber = await self._subscriber(token)
        except NotFound as exc:
            return notice_page("Link not valid", str(exc), 400, error=True)
        assert subscriber.id is not None
        if request.method == "POST":
            require_same_origin(request, self.front.settings)
            form = await request.form(max_files=0, max_fields=20)
            try:
                done = await self._apply(subscriber, form)
            except ServiceError as exc:  # the form again, the message at the field it is about, input kept
                return await self._page(request, subscriber, token, status=400,
                                        error=field_error(form, str(exc).splitlines()[0][:300]))
            return RedirectResponse(f"{request.url.path}?done={done}", 303, headers=PRIVATE_HEADERS)
        return await self._page(request, subscriber, token)

    async def _page(self, request: Request, subscriber: Subscriber, token: str, *, status: int = 200,
                    error: FieldError | None = None) -> Response:
        subscriptions = await self.front.db.run(service.list_subscriptions, self.front.db, subscriber_id=subscriber.id)
        feeds = {s.id: feed_url(self.front.settings, s.id or 0, subscriber.address) for s in subscriptions}
        votes = await self.front.db.run(vote_counts, self.front.db, subscriber.id)
        learned = await self.front.db.run(what_it_learned, self.front.db, subscriber.id)
        health, updates = await self.front.db.run(subscription_facts, self.front.db, subscriber.id, utcnow())
        return site_page(
            "manage_settings.html", status, private=True, title="Edit your paperbell digest", subscriber=subscriber,
            subscriptions=subscriptions, feeds=feeds, notice=NOTICES.get(request.query_params.get("done", "")),
            action=request.url.path, manage_url=f"/manage/{token}", votes=votes, learned=learned, error=error,
            health=health, updates=updates, update_kinds=UPDATE_KINDS,
        )

    async def _apply(self, subscriber: Subscriber, form: FormData) -> str:
        assert subscriber.id is not None
        db, settings = self.front.db, self.front.settings
        action = str(form.get("action") or "")
        if action == "schedule":
            schedule, hour, weekday, zone = validate_schedule_fields(
                str(form.get("schedule") or ""), str(form.get("hour") or ""), str(form.get("weekday") or "0"),
                str(form.get("timezone") or ""),
            )
            await db.run(service.set_schedule, db, subscriber.id, schedule=schedule, hour=hour, weekday=weekday,
                         timezone=zone)
            return "schedule"
        if action == "send_now":
            return await self._send_now(subscriber)
        if action == "reset_learning":
            await db.run(reset_learning, db, subscriber.id)
            return "reset"
        subscription_id = _subscription_id(str(form.get("subscription_id") or ""))
        if action == "query":
            await db.run(update_query, db, settings, subscriber.id, subscription_id, str(form.get("query") or ""))
        elif action in {"pause", "resume"}:
            await db.run(service.set_subscription_paused, db, subscription_id, action == "pause",
                         owner_id=subscriber.id)
        elif action == "remove":
            await db.run(service.remove_subscription, db, subscription_id, owner_id=subscriber.id)
        elif action == "updates":  # lifecycle alerts: the boxes ticked, none = off
            kinds = [str(kind) for kind in form.getlist("kind")]
            await db.run(set_update_kinds, db, subscription_id, kinds, owner_id=subscriber.id)
        else:
            raise ServiceError("unknown action")
        return action

    async def _send_now(self, subscriber: Subscriber) -> str:
        assert subscriber.id is not None
        if not self.front.send_now_per_subscriber.allow(str(subscriber.id)):
            minutes = self.front.settings.web_send_now_interval_minutes
            raise ServiceError(f"a digest was sent on request recently; try again in {minutes} minutes")
        if subscriber.paused:
            raise ServiceError("mail to this address is paused; resume it on the manage page first")
        assert subscriber.id is not None
        status = await self.front.mail.send_now(subscriber.id)
        return {"sent": "sent", "confirmation_sent": "confirming", "unconfirmed": "unconfirmed"}.get(
            status, "empty" if status in {"empty", "not_due"} else "failed"
        )


def _subscription_id(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or len(text) > 10 or not 0 < int(text) <= MAX_ID:
        raise ServiceError("no subscription given")
    return int(text)


def manage_routes(front: WebFront) -> list[Route]:
    handlers = ManageRoutes(front)
    return [Route("/manage/{token}/settings", handlers.settings_page, methods=["GET", "POST"])]
