"""A channel's daily cap: at most N papers a day in full, the rest of a delivery pass as one "N more" message.

Called by digest.discord.delivery for channel subscribers whose target sets `daily_cap`. Nothing is
dropped: the papers past the cap ride in the "N more" message (title links, then a link to the day page),
and their ledger rows are marked sent only when Discord accepted THAT message, like any other part. The
day is the subscriber's own (its time zone); what counts is rows marked sent since its midnight,
including earlier "N more" messages, so a channel past its cap gets one such message per pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import select

from digest.core.assembly import DigestItem
from digest.core.links import markdown_link_target
from digest.discord.render import CONTENT_MAX, Message, clip_message
from digest.discord.styles import NO_MENTIONS, paper_line
from digest.settings import Settings
from storage.db import Database
from storage.models import Delivery, DeliveryStatus, Subscriber

Extra = tuple[list[int], list[int], Message]  # (delivery ids, paper ids, message): one more part to post
FOOTER_ROOM = 300  # kept free for "…and K more" and the day page link


def day_start(subscriber: Subscriber, now: datetime) -> datetime:
    """Midnight of `now`'s day in the subscriber's time zone (as an aware datetime)."""
    try:
        zone = ZoneInfo(subscriber.timezone or "UTC")
    except (KeyError, ValueError):
        zone = ZoneInfo("UTC")
    local = now.astimezone(zone)
    return datetime.combine(local.date(), time(0), tzinfo=zone)


def sent_today(db: Database, subscriber: Subscriber, now: datetime) -> int:
    with db.session() as session:
        return int(session.exec(
            select(func.count()).select_from(Delivery).where(
                Delivery.subscriber_id == subscriber.id, Delivery.status == DeliveryStatus.SENT.value,
                Delivery.sent_at >= day_start(subscriber, now))  # type: ignore[operator]
        ).one())


def more_message(settings: Settings, over: Sequence[DigestItem], cap: int, now: datetime) -> Message:
    """One message for the papers past the cap: a header, as many title links as fit, the day page."""
    text = f"**{len(over)} more papers** past this channel's daily cap of {cap}:"
    shown = 0
    for item in over:
        line = paper_line(item, "titles")
        if len(text) + 1 + len(line) > CONTENT_MAX - FOOTER_ROOM:
            break
        text, shown = f"{text}\n{line}", shown + 1
    if shown < len(over):
        text += f"\n…and {len(over) - shown} more."
    day = markdown_link_target(f"{settings.public_url.rstrip('/')}/day/{now:%Y-%m-%d}")
    if day is not None:
        text += f"\nAll of the day's papers: <{day}>"
    return clip_message({"content": text, "allowed_mentions": dict(NO_MENTIONS)})


def split_at_cap(db: Database, settings: Settings, subscriber: Subscriber, cap: int | None,
                 items: list[DigestItem], now: datetime) -> tuple[list[DigestItem], list[Extra]]:
    """(papers posted as usual, [the "N more" part]) for one delivery pass; everything as usual without a cap."""
    if cap is None or not items:
        return items, []
    room = max(0, cap - sent_today(db, subscriber, now))
    if len(items) <= room:
        return items, []
    kept, over = items[:room], items[room:]
    message = more_message(settings, over, cap, now)
    return kept, [([i.delivery_id for i in over], [i.paper_id for i in over], message)]
