"""Schedules: daily/weekly at a local hour in an IANA zone; DST neither skips nor doubles a digest."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from digest.core.schedule import is_due, last_slot, next_due, next_slot
from storage.models import Subscriber


def sub(schedule: str = "daily", hour: int = 8, tz: str = "UTC", weekday: int = 0,
        last: datetime | None = None, created: datetime | None = None) -> Subscriber:
    return Subscriber(
        kind="email", address="a@example.org", schedule=schedule, digest_hour=hour, timezone=tz,
        digest_weekday=weekday, last_digest_at=last, created_at=created or datetime(2026, 1, 1, tzinfo=UTC),
    )


@pytest.mark.parametrize(
    ("subscriber", "now", "due"),
    [
        (sub(), datetime(2026, 3, 2, 7, 59, tzinfo=UTC), True),  # yesterday's slot after sign-up
        (sub(last=datetime(2026, 3, 1, 8, 0, tzinfo=UTC)), datetime(2026, 3, 2, 7, 59, tzinfo=UTC), False),
        (sub(last=datetime(2026, 3, 1, 8, 0, tzinfo=UTC)), datetime(2026, 3, 2, 8, 0, tzinfo=UTC), True),
        (sub(created=datetime(2026, 3, 2, 9, 0, tzinfo=UTC)), datetime(2026, 3, 2, 10, 0, tzinfo=UTC), False),
        # Berlin 08:00 in winter = 07:00 UTC
        (sub(tz="Europe/Berlin", last=datetime(2026, 3, 1, 7, 0, tzinfo=UTC)),
         datetime(2026, 3, 2, 6, 59, tzinfo=UTC), False),
        (sub(tz="Europe/Berlin", last=datetime(2026, 3, 1, 7, 0, tzinfo=UTC)),
         datetime(2026, 3, 2, 7, 0, tzinfo=UTC), True),
        # weekly on Wednesday (2): Monday after last Wednesday's digest is not due, Wednesday is
        (sub("weekly", weekday=2, last=datetime(2026, 2, 25, 8, 0, tzinfo=UTC)),
         datetime(2026, 3, 2, 12, 0, tzinfo=UTC), False),
        (sub("weekly", weekday=2, last=datetime(2026, 2, 25, 8, 0, tzinfo=UTC)),
         datetime(2026, 3, 4, 8, 0, tzinfo=UTC), True),
        (sub("instant"), datetime(2026, 3, 4, 8, 0, tzinfo=UTC), True),
    ],
)
def test_is_due(subscriber: Subscriber, now: datetime, due: bool) -> None:
    assert is_due(subscriber, now) is due
    assert next_due(subscriber, now) <= now if due else next_due(subscriber, now) > now


@pytest.mark.parametrize(
    ("tz", "day", "hour", "expected_utc"),
    [
        ("Europe/Berlin", date(2026, 3, 29), 2, datetime(2026, 3, 29, 1, 0, tzinfo=UTC)),  # 02:00 skipped -> 03:00 CEST
        ("Europe/Berlin", date(2026, 10, 25), 2, datetime(2026, 10, 25, 0, 0, tzinfo=UTC)),  # ambiguous -> first
        ("America/New_York", date(2026, 3, 8), 8, datetime(2026, 3, 8, 12, 0, tzinfo=UTC)),
        ("Australia/Lord_Howe", date(2026, 4, 5), 1, datetime(2026, 4, 4, 14, 0, tzinfo=UTC)),
    ],
)
def test_slot_on_dst_days(tz: str, day: date, hour: int, expected_utc: datetime) -> None:
    noon = datetime(day.year, day.month, day.day, 12, tzinfo=ZoneInfo(tz)).astimezone(UTC)
    assert last_slot(sub(hour=hour, tz=tz), noon + timedelta(hours=12)) == expected_utc


def simulate(subscriber: Subscriber, start: datetime, days: int, step: timedelta) -> list[datetime]:
    """A sender waking every `step`: returns when digests went out."""
    sent = []
    now = start
    while now < start + timedelta(days=days):
        if is_due(subscriber, now):
            sent.append(now)
            subscriber.last_digest_at = now
        now += step
    return sent


@settings(max_examples=60, deadline=None)
@given(
    tz=st.sampled_from(["Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Kolkata", "UTC",
                        "America/Santiago", "Europe/London"]),
    hour=st.integers(0, 23),
    start_day=st.sampled_from([date(2026, 3, 5), date(2026, 3, 26), date(2026, 10, 22), date(2026, 3, 31)]),
    step_minutes=st.sampled_from([7, 15, 60]),
)
def test_exactly_one_digest_per_local_day_across_dst(tz: str, hour: int, start_day: date, step_minutes: int) -> None:
    zone = ZoneInfo(tz)
    start = datetime(start_day.year, start_day.month, start_day.day, tzinfo=UTC)
    subscriber = sub(hour=hour, tz=tz, created=start - timedelta(days=1), last=start)
    sent = simulate(subscriber, start, 12, timedelta(minutes=step_minutes))
    local_days = [moment.astimezone(zone).date() for moment in sent]
    assert len(local_days) == len(set(local_days))  # never twice on a day
    first, last = local_days[0], local_days[-1]
    assert len(local_days) == (last - first).days + 1  # never a skipped day
    assert len(sent) >= 10


@settings(max_examples=30, deadline=None)
@given(tz=st.sampled_from(["Europe/Berlin", "America/New_York", "Australia/Sydney"]), weekday=st.integers(0, 6),
       hour=st.integers(0, 23))
def test_weekly_once_per_week(tz: str, weekday: int, hour: int) -> None:
    start = datetime(2026, 3, 1, tzinfo=UTC)
    subscriber = sub("weekly", hour=hour, tz=tz, weekday=weekday, last=start, created=start)
    sent = simulate(subscriber, start, 63, timedelta(hours=1))
    assert len(sent) in (8, 9)
    assert all(moment.astimezone(ZoneInfo(tz)).weekday() == weekday for moment in sent)
    assert all(b - a >= timedelta(days=6, hours=22) for a, b in itertools.pairwise(sent))


def test_next_slot_is_after_now() -> None:
    now = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
    subscriber = sub(hour=2, tz="Europe/Berlin")
    assert next_slot(subscriber, now) == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
