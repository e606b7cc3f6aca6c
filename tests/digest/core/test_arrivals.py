"""arXiv's arrival calendar: Sunday–Thursday 20:00 US/Eastern, none on Friday/Saturday, holiday gaps."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from digest.core.arrivals import arxiv_announcement, arxiv_notice, latest_announcement_day

CASES = [
    # (UTC moment a reader looks, expected notice)
    ("2026-11-29T02:00", "no new arXiv papers today: no announcement on Saturdays"),  # Sat 21:00 ET
    ("2026-11-28T12:00", "no new arXiv papers today: no announcement on Fridays"),  # Sat morning: Friday's slot
    ("2026-11-27T03:00", "no new arXiv papers today: arXiv holiday (Thanksgiving)"),  # Thu 26 Nov 22:00 ET
    ("2023-06-20T02:00", "no new arXiv papers today: arXiv holiday (Juneteenth)"),  # from arXiv's 2023 table
    ("2025-12-26T08:00", "no new arXiv papers today: arXiv holiday (Christmas Day)"),
    ("2026-12-02T10:00", None),  # Wednesday morning: Tuesday's announcement
    ("2026-11-30T02:00", None),  # Sunday 21:00 ET: Sunday's announcement
]


@pytest.mark.parametrize(("moment", "notice"), CASES, ids=[c[0] for c in CASES])
def test_notice(moment: str, notice: str | None) -> None:
    assert arxiv_notice(datetime.fromisoformat(moment).replace(tzinfo=UTC)) == notice


def test_the_slot_turns_at_20_eastern_in_summer_and_winter() -> None:
    # 20:00 EDT = 00:00 UTC; 20:00 EST = 01:00 UTC
    assert latest_announcement_day(datetime(2026, 7, 8, 23, 59, tzinfo=UTC)) == date(2026, 7, 7)
    assert latest_announcement_day(datetime(2026, 7, 9, 0, 0, tzinfo=UTC)) == date(2026, 7, 8)
    assert latest_announcement_day(datetime(2026, 1, 8, 0, 30, tzinfo=UTC)) == date(2026, 1, 6)
    assert latest_announcement_day(datetime(2026, 1, 8, 1, 0, tzinfo=UTC)) == date(2026, 1, 7)


def test_every_weekday_of_a_week() -> None:
    week = [arxiv_announcement(date(2026, 3, 1 + n)) for n in range(7)]  # Sun 1 Mar … Sat 7 Mar 2026
    assert [a.announced for a in week] == [True, True, True, True, True, False, False]
