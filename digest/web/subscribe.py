"""Subscribing and editing from the web front: validate a form, save it, say whom to mail.

Called by digest.web.subscribe_routes and digest.web.manage_routes. Everything is validated with
the same rules as every other interface (digest.services.subscribers) before anything is written.
`subscribe_from_web` never tells its caller whether the address existed in a way that reaches the
visitor: the page is the same either way, only the confirmation mail differs.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime

from digest.services import subscribers as service
from digest.services.errors import Conflict, InvalidInput
from digest.services.subscriber_input import validate_address, validate_timezone
from digest.services.trending import TRENDING_QUERY, is_trending
from digest.settings import Settings
from storage.db import Database
from storage.models import Schedule, SubscriberKind, Subscription

WEB_SCHEDULES = (Schedule.DAILY.value, Schedule.WEEKLY.value)  # "instant" is for Discord channels
CREATED_BY = "web"


@dataclass(frozen=True)
class SubscribeForm:
    address: str
    query: str
    schedule: str
    hour: int
    weekday: int
    timezone: str


def _number(text: str, name: str, low: int, high: int) -> int:
    text = text.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 2 or not low <= int(text) <= high:
        raise InvalidInput(f"{name} must be a whole number from {low} to {high}")
    return int(text)


def validate_schedule_fields(schedule: str, hour: str, weekday: str, timezone: str) -> tuple[str, int, int, str]:
    """(schedule, hour, weekday, time zone) or `InvalidInput` with one line for the visitor."""
    if schedule not in WEB_SCHEDULES:
        raise InvalidInput("choose a daily or weekly digest")
    hour_value = _number(hour, "the hour", 0, 23)
    weekday_value = _number(weekday or "0", "the weekday", 0, 6)
    zone = validate_timezone(timezone.strip()[:64] or "UTC")
    return schedule, hour_value, weekday_value, zone


def validate_form(
    settings: Settings, address: str, query: str, schedule: str, hour: str, weekday: str, timezone: str
) -> SubscribeForm:
    if len(address) > 320:
        raise InvalidInput("that e-mail address is too long")
    clean_address = validate_address(SubscriberKind.EMAIL.value, address)
    # no query: the day's trending papers (digest.services.trending)
    clean_query = TRENDING_QUERY if is_trending(query) else service.validate_query(settings, query)
    chosen, hour_value, weekday_value, zone = validate_schedule_fields(schedule, hour, weekday, timezone)
    return SubscribeForm(clean_address, clean_query, chosen, hour_value, weekday_value, zone)


def subscribe_from_web(db: Database, settings: Settings, form: SubscribeForm) -> tuple[int, datetime | None] | None:
    """Save the form; (subscriber id, when its last confirmation went out as seen now) to mail, or None.

    The second value lets the confirmation be claimed atomically (digest.services.confirmations): if a
    worker mails a new subscriber first, the form's background task sends nothing.

    New address: an unconfirmed subscriber with the query. Unconfirmed address: the query is added
    and the confirmation is sent again. Confirmed address: nothing changes (a stranger must not be
    able to add queries to someone's digest); its id is returned so it gets the "already subscribed —
    manage here" mail instead (digest.email.already), from which its owner edits queries.
    """
    existing = service.find_subscriber(db, SubscriberKind.EMAIL.value, form.address)
    seen = None if existing is None else existing.confirmation_sent_at
    if existing is None:
        try:
            existing = service.add_subscriber(
                db, settings, SubscriberKind.EMAIL.value, form.address, timezone=form.timezone,
                schedule=form.schedule, digest_hour=form.hour, digest_weekday=form.weekday, confirmed=False,
            )
        except Conflict:  # a concurrent form post created it first
            existing = service.find_subscriber(db, SubscriberKind.EMAIL.value, form.address)
            if existing is None:
                return None
            seen = None  # the other post's mail (or the worker's) is the one: this one only claims "never sent"
    if existing.paused:
        return None
    assert existing.id is not None
    if existing.confirmed_at is not None:
        return existing.id, seen
    with suppress(Conflict):  # the same query again: just resend the confirmation
        # the same path as the CLI and the bot: equivalent queries refused, recent matches backfilled
        service.subscribe(db, settings, existing.id, form.query, created_by=CREATED_BY)
    return existing.id, seen


def update_query(db: Database, settings: Settings, owner_id: int, subscription_id: int, query: str) -> Subscription:
    """Replace a subscription's query (validated like a new one); `NotFound` for someone else's."""
    return service.edit_query(db, settings, subscription_id, query, owner_id=owner_id)
