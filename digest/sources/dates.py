"""Date parsing for source parsers: ISO 8601, RFC 822 (RSS) and feedparser's struct_time -> aware UTC."""

from __future__ import annotations

import calendar
import email.utils
import time
from datetime import UTC, datetime


def parse_date(value: str | None) -> datetime | None:
    """An aware UTC datetime from ISO 8601 ("2024-10-22T17:59:30.000Z", "2024-10-22") or RFC 822, else None."""
    if not value or not value.strip():
        return None
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def from_struct(value: time.struct_time | None) -> datetime | None:
    """feedparser's *_parsed fields are UTC struct_times."""
    if value is None:
        return None
    return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)


def parse_loose_date(value: str | None) -> datetime | None:
    """Also accepts "Mar 30, 2020" / "30 Mar 2020" (the seed corpus); a date without a year gives None."""
    parsed = parse_date(value)
    if parsed is not None or not value:
        return parsed
    for pattern in ("%b %d, %Y", "%B %d, %Y", "%d %b %Y", "%d %B %Y", "%Y/%m/%d"):
        try:
            return datetime.strptime(value.strip(), pattern).replace(tzinfo=UTC)
        except ValueError:
            continue
    return None


def iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value is not None else None
