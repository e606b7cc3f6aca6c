"""When new papers arrive: arXiv's announcement calendar, so a quiet day is explained instead of silent.

Pure. arXiv announces Sunday–Thursday at 20:00 US/Eastern and never on Friday or Saturday
(arxiv-docs, help/availability.md); it also skips holidays. `HOLIDAYS` lists the gaps arXiv
published (2023) and `_usual_holiday` the ones it takes every year (New Year's Day, US
Thanksgiving, Christmas Day). `arxiv_notice(now)` names the announcement a reader at `now` would
expect to be reading and, when there was none, says why in one line.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

EASTERN = ZoneInfo("America/New_York")
ANNOUNCE_HOUR = 20  # 20:00 US/Eastern
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

# Deferred mailings arXiv announced (https://info.arxiv.org/help/availability.html, "2023 Holidays").
HOLIDAYS: dict[date, str] = {
    date(2023, 1, 16): "Martin Luther King Jr. Day",
    date(2023, 6, 14): "a deferred mailing",
    date(2023, 6, 19): "Juneteenth",
    date(2023, 7, 4): "Independence Day",
    date(2023, 9, 4): "Labor Day",
    date(2023, 11, 23): "Thanksgiving",
    date(2023, 12, 25): "Christmas Day",
    date(2023, 12, 27): "the holiday break",
}


@dataclass(frozen=True)
class Announcement:
    day: date  # the US/Eastern date of the 20:00 announcement
    announced: bool
    reason: str | None = None  # why there was none


def _usual_holiday(day: date) -> str | None:
    if (day.month, day.day) == (1, 1):
        return "New Year's Day"
    if (day.month, day.day) == (12, 25):
        return "Christmas Day"
    if day.month == 11 and day.weekday() == 3 and 22 <= day.day <= 28:  # fourth Thursday of November
        return "Thanksgiving"
    return None


def arxiv_announcement(day: date) -> Announcement:
    """Whether arXiv announces on `day` (US/Eastern), and why not."""
    if day.weekday() in (4, 5):
        return Announcement(day, False, f"no announcement on {DAY_NAMES[day.weekday()]}s")
    holiday = HOLIDAYS.get(day) or _usual_holiday(day)
    if holiday:
        return Announcement(day, False, f"arXiv holiday ({holiday})")
    return Announcement(day, True)


def latest_announcement_day(now: datetime) -> date:
    """The US/Eastern date of the most recent 20:00 announcement slot at or before `now`."""
    eastern = now.astimezone(EASTERN)
    return eastern.date() if eastern.hour >= ANNOUNCE_HOUR else eastern.date() - timedelta(days=1)


def arxiv_notice(now: datetime) -> str | None:
    """'no new arXiv papers today: no announcement on Saturdays' when the latest slot had none, else None."""
    slot = arxiv_announcement(latest_announcement_day(now))
    return None if slot.announced else f"no new arXiv papers today: {slot.reason}"


def uses_arxiv(sources: list[str]) -> bool:
    return any(spec.split(":", 1)[0] in ("arxiv", "arxiv-api") for spec in sources)
