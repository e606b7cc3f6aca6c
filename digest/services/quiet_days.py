"""Tell readers about a day without arXiv papers instead of leaving them silent.

E-mail: `quiet_day_note_due` says when a due daily subscriber with nothing pending still gets a
(short, empty) digest carrying the note; its slot is then used up as usual, so at most once a day.

Discord: once per quiet announcement day (no announcement on Fridays/Saturdays, an arXiv holiday), every
active Discord channel subscriber gets one short message ("📭 No new arXiv papers today: no
announcement on Saturdays."). Called on every sender pass and by `paperbell run --once`; the pure
calendar check comes first, so an ordinary day costs nothing. A cursor row records the day once
every channel was told; the nonce is the same for a channel and a day, so a retry after a crash
does not post twice (Discord's `enforce_nonce`; the outbox file is overwritten).

Trending on Discord: a channel or member whose trending subscription found nothing new to pick today
(digest.services.trending.quiet_today) gets one "a quiet day" message that day instead of silence
(`tell_trending_quiet`, called by the Discord delivery when nothing was claimed), as e-mail does.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import date, datetime
from typing import Any

from sqlmodel import col, select

from digest.core.arrivals import arxiv_notice, latest_announcement_day, uses_arxiv
from digest.core.schedule import is_due
from digest.settings import Settings
from storage.db import Database
from storage.models import Cursor, Schedule, Subscriber, SubscriberKind

log = logging.getLogger(__name__)
CURSOR = "quiet-day-notice"  # value: the ordinal of the last quiet day announced


def _channels_to_tell(db: Database, day: date) -> list[Subscriber]:
    with db.session() as session:
        done = session.get(Cursor, CURSOR)
        if done is not None and done.value >= day.toordinal():
            return []
        return list(session.exec(select(Subscriber).where(
            Subscriber.kind == SubscriberKind.DISCORD_CHANNEL.value, col(Subscriber.paused).is_(False)
        )).all())


def _mark(db: Database, day: date) -> None:
    with db.session() as session:
        row = session.get(Cursor, CURSOR) or Cursor(name=CURSOR)
        row.value = day.toordinal()
        session.add(row)


def quiet_day_note_due(settings: Settings, subscriber: Subscriber, now: datetime) -> bool:
    """A daily e-mail subscriber whose slot is due (not merely forced with `--now`), arXiv among the
    sources, and the latest announcement slot had none."""
    return (
        settings.quiet_day_email
        and subscriber.schedule == Schedule.DAILY.value
        and uses_arxiv(list(settings.sources))
        and arxiv_notice(now) is not None
        and is_due(subscriber, now)
    )


def _trending_told(db: Database, subscriber_id: int, day: int, mark: bool = False) -> bool:
    """Was this subscriber told of a quiet trending day `day` (a day ordinal)? `mark=True` records it."""
    name = f"trending-quiet:{subscriber_id}"
    with db.session() as session:
        row = session.get(Cursor, name)
        if mark:
            row = row or Cursor(name=name)
            row.value = day
            session.add(row)
        return row is not None and row.value >= day


async def tell_trending_quiet(db: Database, poster: Any, subscriber: Subscriber, now: datetime) -> int:
    """One message on a day whose trending pick found nothing new for this Discord subscriber; returns 0 or 1."""
    from digest.services import trending

    assert subscriber.id is not None
    if not await db.run(trending.quiet_today, db, subscriber.id, now):
        return 0
    day = trending.local_day(subscriber, now)  # the subscriber's day, as the pick counts it
    if await db.run(_trending_told, db, subscriber.id, day):
        return 0
    nonce = hashlib.sha256(f"trending-quiet:{day}:{subscriber.id}".encode()).hexdigest()[:25]
    text = f"📭 {trending.QUIET_NOTICE[0].upper()}{trending.QUIET_NOTICE[1:]}. The next pick comes tomorrow."
    await poster.post(subscriber.kind, subscriber.address, {"content": text, "allowed_mentions": {"parse": []}},
                      nonce=nonce)
    await db.run(_trending_told, db, subscriber.id, day, True)
    return 1


async def tell_quiet_day(settings: Settings, db: Database, poster: Any, now: datetime) -> int:
    """Post the quiet-day notice to every active channel once per quiet day; returns how many were told."""
    notice = arxiv_notice(now) if uses_arxiv(list(settings.sources)) else None
    if notice is None:
        return 0
    day = latest_announcement_day(now)
    channels = await db.run(_channels_to_tell, db, day)
    message = {"content": f"📭 {notice[0].upper()}{notice[1:]}.", "allowed_mentions": {"parse": []}}
    told = 0
    for channel in channels:
        nonce = hashlib.sha256(f"quiet:{day.isoformat()}:{channel.id}".encode()).hexdigest()[:25]
        try:
            await poster.post(channel.kind, channel.address, message, nonce=nonce)
            told += 1
        except Exception as exc:  # one refusing channel never stops the others; the delivery path pauses it
            log.warning("quiet-day notice to channel %s not posted: %s", channel.address, exc)
    await db.run(_mark, db, day)
    return told
