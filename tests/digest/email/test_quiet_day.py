"""A daily e-mail reader hears about a day without arXiv papers, once, instead of silence (real SMTP server)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from digest.email.digests import send_due_digests
from digest.settings import Settings
from storage.db import Database
from storage.models import Schedule, Subscriber
from tests.digest.email.conftest import add_papers, add_subscriber
from tests.digest.email.smtp_double import SmtpRecorder

# the reader's 08:00 UTC slot after arXiv's latest announcement slot (US/Eastern) had none, or had one
SUNDAY_AFTER_SATURDAY = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)  # latest slot: Sat 28 Nov
FRIDAY_AFTER_THANKSGIVING = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)  # latest slot: Thu 26 Nov, a holiday
TUESDAY = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # latest slot: Mon 30 Nov, announced


def arxiv_settings(mail_settings: Settings, **changes: object) -> Settings:
    return mail_settings.model_copy(update={"sources": ["arxiv:cs.LG"], **changes})


def readers(db: Database, settings: Settings, now: datetime) -> dict[str, Subscriber]:
    """A daily reader, a weekly one, a paused one and an unconfirmed one; none has anything pending."""
    made = {}
    for name in ("daily", "weekly", "paused", "unconfirmed"):
        subscriber = add_subscriber(db, settings, f"{name}@example.org", ["zanzibarian"],
                                    confirmed=name != "unconfirmed", created_at=now - timedelta(days=9))
        with db.session() as session:
            row = session.get(Subscriber, subscriber.id)
            assert row is not None
            row.schedule = Schedule.WEEKLY.value if name == "weekly" else Schedule.DAILY.value
            row.digest_weekday = now.weekday()
            row.paused = name == "paused"
            session.add(row)
            made[name] = row
    return made


def notes(recorder: SmtpRecorder) -> dict[str, list[str]]:
    """Subjects of every mail that carried the quiet-day note, by recipient."""
    out: dict[str, list[str]] = {}
    for mail in recorder.received:
        subject = str(mail.message["Subject"])
        if "No new arXiv papers today" in subject:
            out.setdefault(mail.rcpt_tos[0], []).append(subject)
    return out


@pytest.mark.parametrize(("now", "reason"), [
    (SUNDAY_AFTER_SATURDAY, "no announcement on Saturdays"),
    (FRIDAY_AFTER_THANKSGIVING, "arXiv holiday (Thanksgiving)"),
])
async def test_a_daily_reader_gets_one_note_on_a_quiet_day(
    mail_settings: Settings, db: Database, recorder: SmtpRecorder, now: datetime, reason: str
) -> None:
    settings = arxiv_settings(mail_settings)
    readers(db, settings, now)
    results = await send_due_digests(settings, db, now)
    told = notes(recorder)
    assert list(told) == ["daily@example.org"] and len(told["daily@example.org"]) == 1
    assert told["daily@example.org"][0].startswith(f"paperbell: No new arXiv papers today: {reason} — ")
    mail = next(m.message for m in recorder.received if m.rcpt_tos == ["daily@example.org"])
    text = mail.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert f"No new arXiv papers today: {reason}." in text and "0 new papers" not in text
    assert mail["List-Unsubscribe"] and mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert {r.address: r.status for r in results}["daily@example.org"] == "sent"
    # the same day again (an hour later, then forced as `digest send --now` does): the slot is used up
    await send_due_digests(settings, db, now + timedelta(hours=1))
    await send_due_digests(settings, db, now + timedelta(hours=2), force=True)
    assert len(notes(recorder)["daily@example.org"]) == 1


async def test_an_ordinary_day_with_nothing_pending_sends_nothing(
    mail_settings: Settings, db: Database, recorder: SmtpRecorder
) -> None:
    settings = arxiv_settings(mail_settings)
    readers(db, settings, TUESDAY)
    await send_due_digests(settings, db, TUESDAY)
    assert [m.rcpt_tos for m in recorder.received] == [["unconfirmed@example.org"]]  # its confirmation only


@pytest.mark.parametrize("changes", [{"quiet_day_email": False}, {"sources": ["hf:daily"]}],
                         ids=["setting-off", "no-arxiv-source"])
async def test_no_note_when_turned_off_or_arxiv_is_not_a_source(
    mail_settings: Settings, db: Database, recorder: SmtpRecorder, changes: dict[str, object]
) -> None:
    settings = arxiv_settings(mail_settings, **changes)
    readers(db, settings, SUNDAY_AFTER_SATURDAY)
    await send_due_digests(settings, db, SUNDAY_AFTER_SATURDAY)
    assert notes(recorder) == {}


async def test_a_digest_with_papers_on_a_quiet_day_carries_the_note(
    mail_settings: Settings, db: Database, recorder: SmtpRecorder
) -> None:
    from digest.services.matching import run_match_cycle

    settings = arxiv_settings(mail_settings)
    readers(db, settings, SUNDAY_AFTER_SATURDAY)
    add_papers(db, [("Zanzibarian sparse coding", "A study of zanzibarian codes.")])
    run_match_cycle(db, settings, SUNDAY_AFTER_SATURDAY)
    await send_due_digests(settings, db, SUNDAY_AFTER_SATURDAY)
    mail = next(m.message for m in recorder.received if m.rcpt_tos == ["daily@example.org"])
    assert str(mail["Subject"]).startswith("paperbell: 1 new paper")
    text = mail.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "No new arXiv papers today: no announcement on Saturdays." in text and "Zanzibarian" in text
