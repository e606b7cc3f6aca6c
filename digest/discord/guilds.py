"""Per-Discord-server services: settings and limits, member-scoped subscriptions, and /admin stats.

Called by the bot's cogs (bot/cogs/*) and its poster (bot/poster.py). Everything is
scoped by guild id: nothing here reads or writes another server's rows. A member owns the
subscriptions of their DM subscriber plus the channel subscriptions they created with `deliver:here`
(`created_by = "discord:<user id>"`), and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col, or_, select

from digest.services import match_sets
from digest.services.errors import InvalidInput, LimitExceeded, NotFound
from digest.settings import Settings
from storage.db import Database
from storage.models import (
    Delivery,
    DeliveryStatus,
    GuildSettings,
    Paper,
    SourceState,
    Subscriber,
    SubscriberKind,
    Subscription,
)
from storage.types import utcnow


@dataclass(frozen=True)
class GuildLimits:
    """A server's effective settings: its own values, else the global defaults."""

    guild_id: str
    max_subscriptions_per_member: int
    queries_per_minute: int
    admin_role_id: str | None
    member_channels: tuple[str, ...]
    notify_channel_id: str | None


@dataclass
class GuildStats:
    papers_today: int
    papers_total: int
    subscribers: int
    subscriptions: int
    deliveries: dict[str, int] = field(default_factory=dict)  # status -> rows, this server only
    sources: list[tuple[str, str | None, datetime | None, str | None]] = field(default_factory=list)
    last_failure: str | None = None  # reason of this server's latest delivery marked failed


def created_by_member(user_id: str | int) -> str:
    return f"discord:{user_id}"


def get_guild_settings(db: Database, guild_id: str) -> GuildSettings | None:
    with db.session() as session:
        return session.get(GuildSettings, str(guild_id))


def guild_limits(db: Database, settings: Settings, guild_id: str) -> GuildLimits:
    row = get_guild_settings(db, guild_id)
    return GuildLimits(
        guild_id=str(guild_id),
        max_subscriptions_per_member=(row and row.max_subscriptions_per_member)
        or settings.discord_max_subscriptions_per_member,
        queries_per_minute=(row and row.queries_per_minute) or settings.discord_queries_per_minute,
        admin_role_id=row.admin_role_id if row else None,
        member_channels=tuple(row.member_channels) if row else (),
        notify_channel_id=row.notify_channel_id if row else None,
    )


def update_guild_settings(
    db: Database,
    guild_id: str,
    *,
    max_subscriptions_per_member: int | None = None,
    queries_per_minute: int | None = None,
    admin_role_id: str | None = None,
    notify_channel_id: str | None = None,
    member_channel: tuple[str, bool] | None = None,
) -> GuildSettings:
    """Change only the values given; `member_channel=(id, allowed)` allows/forbids `/subscribe deliver:here`."""
    for name, value, high in (("subscriptions per member", max_subscriptions_per_member, 500),
                              ("queries per minute", queries_per_minute, 120)):
        if value is not None and not 1 <= value <= high:
            raise InvalidInput(f"{name} must be between 1 and {high}, got {value}")
    with db.session() as session:
        row = session.get(GuildSettings, str(guild_id)) or GuildSettings(guild_id=str(guild_id))
        if max_subscriptions_per_member is not None:
            row.max_subscriptions_per_member = max_subscriptions_per_member
        if queries_per_minute is not None:
            row.queries_per_minute = queries_per_minute
        if admin_role_id is not None:
            row.admin_role_id = admin_role_id or None
        if notify_channel_id is not None:
            row.notify_channel_id = notify_channel_id or None
        if member_channel is not None:
            channel_id, allowed = member_channel
            channels = [c for c in row.member_channels if c != channel_id]
            row.member_channels = [*channels, channel_id] if allowed else channels
        session.add(row)
        session.flush()
        session.refresh(row)
        return row


def member_subscriptions(db: Database, guild_id: str | None, user_id: str) -> list[Subscription]:
    """The member's own subscriptions: their DM subscriber's, plus channel ones they created in this server."""
    with db.session() as session:
        dm = select(Subscriber.id).where(
            Subscriber.kind == SubscriberKind.DISCORD_USER.value, Subscriber.address == str(user_id)
        )
        mine: ColumnElement[bool] = col(Subscription.subscriber_id).in_(dm)
        if guild_id is not None:
            here = select(Subscriber.id).where(
                Subscriber.kind == SubscriberKind.DISCORD_CHANNEL.value, Subscriber.guild_id == str(guild_id)
            )
            mine = or_(
                mine,
                col(Subscription.subscriber_id).in_(here) & (Subscription.created_by == created_by_member(user_id)),
            )
        return list(session.exec(select(Subscription).where(mine).order_by(col(Subscription.id))).all())


def member_subscription(db: Database, guild_id: str | None, user_id: str, subscription_id: int) -> Subscription:
    """One of the member's own subscriptions; anyone else's is reported as missing (nothing leaks)."""
    for subscription in member_subscriptions(db, guild_id, user_id):
        if subscription.id == subscription_id:
            return subscription
    raise NotFound(f"you have no subscription #{subscription_id}")


def check_member_limit(db: Database, settings: Settings, guild_id: str | None, user_id: str) -> None:
    limit = (
        guild_limits(db, settings, guild_id).max_subscriptions_per_member
        if guild_id
        else settings.discord_max_subscriptions_per_member
    )
    if len(member_subscriptions(db, guild_id, user_id)) >= limit:
        raise LimitExceeded(f"you already have {limit} subscriptions, the limit here; /unsubscribe one first")


def subscribers_by_id(db: Database, ids: list[int]) -> dict[int, Subscriber]:
    with db.session() as session:
        rows = session.exec(select(Subscriber).where(col(Subscriber.id).in_(ids))).all() if ids else []
        return {s.id: s for s in rows if s.id is not None}


def guild_stats(db: Database, guild_id: str, now: datetime | None = None) -> GuildStats:
    now = now or utcnow()
    since = now - timedelta(days=1)
    with db.session() as session:
        in_guild = select(Subscriber.id).where(Subscriber.guild_id == str(guild_id))
        papers_today = session.exec(
            select(func.count()).select_from(Paper).where(Paper.first_seen_at >= since)
        ).one()
        papers_total = session.exec(select(func.count()).select_from(Paper)).one()
        subscribers = session.exec(
            select(func.count()).select_from(Subscriber).where(Subscriber.guild_id == str(guild_id))
        ).one()
        subscriptions = session.exec(
            select(func.count()).select_from(Subscription).where(col(Subscription.subscriber_id).in_(in_guild))
        ).one()
        deliveries = {
            str(status): int(count)
            for status, count in session.exec(
                select(Delivery.status, func.count())
                .where(col(Delivery.subscriber_id).in_(in_guild))
                .group_by(Delivery.status)
            ).all()
        }
        waiting = match_sets.waiting_for(session, in_guild)  # matched, not expanded into rows yet
        if waiting:
            deliveries[DeliveryStatus.PENDING.value] = deliveries.get(DeliveryStatus.PENDING.value, 0) + waiting
        last_failure = session.exec(
            select(Delivery.last_error)
            .where(col(Delivery.subscriber_id).in_(in_guild), Delivery.status == DeliveryStatus.FAILED.value)
            .order_by(col(Delivery.id).desc())
            .limit(1)
        ).first()
        sources = [
            (s.source, s.last_status, s.last_run_at, s.last_error)
            for s in session.exec(select(SourceState).order_by(col(SourceState.source))).all()
        ]
    return GuildStats(int(papers_today), int(papers_total), int(subscribers), int(subscriptions), deliveries, sources,
                      last_failure)


def discord_subscriber(
    db: Database, settings: Settings, kind: str, address: str, guild_id: str | None, display_name: str | None
) -> Subscriber:
    """The Discord user's or channel's subscriber, created on first use (a race just finds the winner's row)."""
    from digest.services.errors import Conflict
    from digest.services.subscribers import add_subscriber, find_subscriber

    existing = find_subscriber(db, kind, address)
    if existing is not None:
        return existing
    try:
        return add_subscriber(db, settings, kind, address, guild_id=guild_id, display_name=display_name)
    except Conflict:
        found = find_subscriber(db, kind, address)
        if found is None:
            raise
        return found


def discord_subscriber_or_none(db: Database, kind: str, address: str) -> Subscriber | None:
    from digest.services.subscribers import find_subscriber

    return find_subscriber(db, kind, address)
