"""Server admins' view of their channels: the delivery log and copying one channel's settings to others.

Called by the bot's /admin log and /admin copy (bot/cogs/admin_channel.py), always scoped to one server's
`guild_id`. The log reads the delivery ledger (the same rows delivery marks sent or failed, with the
reason each failure was classified with) and the channels paused after a refusal; members' own DM
subscriptions are never shown to admins. Copying takes the look and the schedule of one channel, never
what belongs to the channel itself (its target kind, thread, webhook) nor its subscriptions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_
from sqlalchemy import select as sa_select
from sqlmodel import col, select

from digest.discord.targets import get_target, set_target
from digest.services.errors import InvalidInput, NotFound
from digest.services.subscribers import set_schedule
from storage.db import Database
from storage.models import Delivery, DeliveryStatus, Paper, Subscriber, SubscriberKind

LOG_MAX = 50  # entries /admin log reads; its pages stay within Discord's embed limits
COPIED_LOOK = ("style", "role_id", "open_thread", "forum_tags", "template", "embed_color", "daily_cap")
COPY_TARGETS_MAX = 25


@dataclass(frozen=True)
class LogEntry:
    at: datetime | None
    channel_id: str
    status: str  # sent | failed | pending (a failed attempt that will be retried)
    title: str
    reason: str | None
    attempts: int


@dataclass(frozen=True)
class DeliveryLog:
    entries: list[LogEntry]
    paused: list[tuple[str, str]]  # (channel id, why deliveries stopped)


def delivery_log(db: Database, guild_id: str, channel_id: str | None = None, limit: int = LOG_MAX) -> DeliveryLog:
    """The latest deliveries and failures of this server's channels (or one channel), newest first."""
    when = func.coalesce(Delivery.sent_at, Delivery.claimed_at, Delivery.created_at)
    channels = select(Subscriber.id).where(Subscriber.guild_id == str(guild_id),
                                           Subscriber.kind == SubscriberKind.DISCORD_CHANNEL.value)
    if channel_id is not None:
        channels = channels.where(Subscriber.address == str(channel_id))
    with db.session() as session:
        rows = session.execute(  # six columns: SQLAlchemy's select (sqlmodel's typed one stops at four)
            sa_select(when, col(Subscriber.address), col(Delivery.status), col(Paper.title), col(Delivery.last_error),
                      col(Delivery.attempts))
            .join(Subscriber, col(Subscriber.id) == Delivery.subscriber_id)
            .join(Paper, col(Paper.id) == Delivery.paper_id)
            .where(col(Delivery.subscriber_id).in_(channels),
                   or_(col(Delivery.status) != DeliveryStatus.PENDING.value, col(Delivery.last_error).is_not(None)))
            .order_by(when.desc(), col(Delivery.id).desc())
            .limit(max(1, min(limit, LOG_MAX)))
        ).all()
    entries = [LogEntry(at, str(address), str(status), str(title or ""), error, int(attempts or 0))
               for at, address, status, title, error, attempts in rows]
    return DeliveryLog(entries, paused_channels(db, guild_id, channel_id))


def paused_channels(db: Database, guild_id: str, channel_id: str | None = None) -> list[tuple[str, str]]:
    """(channel id, reason) of this server's channels paused after Discord refused them (/admin log, stats)."""
    query = select(Subscriber.address, Subscriber.pause_reason).where(
        Subscriber.guild_id == str(guild_id), Subscriber.kind == SubscriberKind.DISCORD_CHANNEL.value,
        Subscriber.paused == True)  # noqa: E712
    if channel_id is not None:
        query = query.where(Subscriber.address == str(channel_id))
    with db.session() as session:
        rows = session.exec(query.order_by(col(Subscriber.id))).all()
    return [(str(address), str(reason or "no reason recorded")) for address, reason in rows]


def _channel_subscriber(db: Database, guild_id: str, channel_id: str) -> Subscriber:
    with db.session() as session:
        found = session.exec(select(Subscriber).where(
            Subscriber.kind == SubscriberKind.DISCORD_CHANNEL.value, Subscriber.address == str(channel_id))).first()
    if found is None or found.guild_id != str(guild_id) or found.id is None:
        raise NotFound(f"<#{channel_id}> has no subscriptions yet; use /admin subscribe first")
    return found


def copy_channel_settings(db: Database, guild_id: str, source_id: str, target_ids: list[str]) -> list[str]:
    """Give each target channel the source channel's look and schedule; returns the channels changed.

    Every target is checked before any is changed, so a typo in one leaves them all as they were.
    """
    wanted = list(dict.fromkeys(str(t) for t in target_ids if str(t) != str(source_id)))
    if not wanted:
        raise InvalidInput("name at least one other channel to copy to, e.g. to: #papers-2 #papers-3")
    if len(wanted) > COPY_TARGETS_MAX:
        raise InvalidInput(f"copy to at most {COPY_TARGETS_MAX} channels at once")
    source = _channel_subscriber(db, guild_id, source_id)
    targets = [_channel_subscriber(db, guild_id, t) for t in wanted]
    look = get_target(db, source.id or 0)
    changes = {key: getattr(look, key) for key in COPIED_LOOK}
    for target in targets:
        set_target(db, target.id or 0, **changes)
        set_schedule(db, target.id or 0, schedule=source.schedule, hour=source.digest_hour,
                     weekday=source.digest_weekday, timezone=source.timezone)
    return [t.address for t in targets]
