"""When a subscriber's next digest is due: daily or weekly, at a local hour, in an IANA time zone.

Called by digest.email.digests and digest.discord.delivery. Pure: subscriber facts
and `now` in, datetimes out. Each local calendar day (daily) or chosen weekday (weekly) has
exactly ONE slot, computed from the wall clock in the subscriber's zone and compared in UTC,
so daylight-saving changes neither skip nor double a digest: a slot in the skipped spring hour
falls one hour later, an ambiguous autumn hour takes its first occurrence.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from storage.models import Schedule, Subscriber


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")  # a stored zone later removed from tzdata must not stop the sender


def _slot(day: date, hour: int, zone: ZoneInfo) -> datetime:
    """The UTC instant of `hour`:00 local on `day` (fold=0: first occurrence / post-gap time)."""
    local = datetime.combine(day, time(hour), tzinfo=zone)
    # Round-trip through UTC normalises a non-existent (spring-forward) wall time.
    return local.astimezone(UTC)


def _is_slot_day(day: date, subscriber: Subscriber) -> bool:
    return subscriber.schedule != Schedule.WEEKLY or day.weekday() == subscriber.digest_weekday


def last_slot(subscriber: Subscriber, now: datetime) -> datetime:
    """The latest scheduled send time at or before `now` (UTC)."""
    zone = _zone(subscriber.timezone)
    day = now.astimezone(zone).date()
    for _ in range(9):
        if _is_slot_day(day, subscriber):
            slot = _slot(day, subscriber.digest_hour, zone)
            if slot <= now.astimezone(UTC):
                return slot
        day -= timedelta(days=1)
    raise AssertionError("unreachable: a week always contains the weekday")


def next_slot(subscriber: Subscriber, now: datetime) -> datetime:
    """The earliest scheduled send time strictly after `now` (UTC)."""
    zone = _zone(subscriber.timezone)
    day = now.astimezone(zone).date()
    for _ in range(9):
        if _is_slot_day(day, subscriber):
            slot = _slot(day, subscriber.digest_hour, zone)
            if slot > now.astimezone(UTC):
                return slot
        day += timedelta(days=1)
    raise AssertionError("unreachable: a week always contains the weekday")


def _reference(subscriber: Subscriber) -> datetime:
    # A new subscriber waits for the first slot after they signed up, not one in the past.
    return (subscriber.last_digest_at or subscriber.created_at).astimezone(UTC)


def is_due(subscriber: Subscriber, now: datetime) -> bool:
    """True when a scheduled slot has passed since the last digest (or since sign-up)."""
    if subscriber.schedule == Schedule.INSTANT:
        return True
    return last_slot(subscriber, now) > _reference(subscriber)


def next_due(subscriber: Subscriber, now: datetime) -> datetime:
    """When the next digest goes out: the missed slot if one is due now, else the next slot."""
    if is_due(subscriber, now):
        return last_slot(subscriber, now) if subscriber.schedule != Schedule.INSTANT else now
    return next_slot(subscriber, now)


def describe_next(subscriber: Subscriber, now: datetime) -> str:
    """When the next digest goes out, in the subscriber's words: "on Tue 08 Dec 2026, 08:00 Europe/Berlin"."""
    if subscriber.schedule == Schedule.INSTANT:
        return "as soon as papers arrive"
    zone = _zone(subscriber.timezone)
    return next_due(subscriber, now).astimezone(zone).strftime(f"on %a %d %b %Y, %H:%M {zone.key}")
