"""Subscriber and subscription management shared by the CLI, the Discord bot and the web app.

Every function validates its input before it writes anything, so a refusal leaves the database
unchanged. Ownership scoping (`owner_id`, `guild_id`) lets the bot make
sure a member only touches their own subscriptions and an admin only their own server.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from digest.core.address import AddressError, clean_display_name
from digest.core.matchable import BACKFILL_MAX_DAYS
from digest.query import QueryError, QueryLimits, parse_query
from digest.query.normal import normal_form
from digest.services.backfill import backfill_subscription
from digest.services.channel_specs import installed
from digest.services.errors import Conflict, InvalidInput, NotFound
from digest.services.subscriber_input import validate_address, validate_schedule, validate_timezone
from digest.services.suppression import ensure_not_suppressed
from digest.services.trending import MAX_TOP_N, TRENDING_QUERY, is_trending
from digest.settings import Settings
from storage.db import Database
from storage.models import Schedule, Subscriber, SubscriberKind, Subscription
from storage.types import utcnow


def query_limits(settings: Settings) -> QueryLimits:
    return QueryLimits(max_length=settings.query_max_length, max_clauses=settings.query_max_clauses)


def validate_query(settings: Settings, query: str) -> str:
    """The query, stripped, or `InvalidInput` carrying the parser's pointed message."""
    text = query.strip()
    try:
        parse_query(text, query_limits(settings))
    except QueryError as exc:
        raise InvalidInput(f"invalid query: {exc}") from None
    return text


def _resolve(session: Session, ref: str | int) -> Subscriber:
    """A subscriber by numeric id or by address (e-mail or Discord id)."""
    text = str(ref).strip()
    subscriber: Subscriber | None = None
    if text.isdigit() and len(text) < 15:
        subscriber = session.get(Subscriber, int(text))
    else:
        candidate = text.lower() if "@" in text else text
        subscriber = session.exec(select(Subscriber).where(Subscriber.address == candidate)).first()
    if subscriber is None:
        raise NotFound(f"no subscriber {text!r}")
    return subscriber


def add_subscriber(
    db: Database,
    settings: Settings,
    kind: str,
    address: str,
    *,
    guild_id: str | None = None,
    display_name: str | None = None,
    timezone: str | None = None,
    schedule: str | None = None,
    digest_hour: int | None = None,
    digest_weekday: int | None = None,
    confirmed: bool | None = None,
) -> Subscriber:
    """Create a subscriber. E-mail subscribers start unconfirmed (double opt-in) unless `confirmed`."""
    address = validate_address(kind, address)
    try:
        display_name = clean_display_name(display_name)
    except AddressError as exc:
        raise InvalidInput(str(exc)) from None
    tz = validate_timezone(timezone or settings.default_timezone)
    posts = kind == SubscriberKind.DISCORD_CHANNEL or installed().kind(kind) is not None  # a channel's posts
    default_schedule = Schedule.INSTANT.value if posts else None
    chosen_schedule = schedule or default_schedule or settings.default_digest_frequency.value
    hour = settings.default_digest_hour if digest_hour is None else digest_hour
    weekday = settings.default_digest_weekday if digest_weekday is None else digest_weekday
    validate_schedule(chosen_schedule, hour, weekday)
    # Only e-mail needs consent through a link; Discord users and channels act for themselves.
    is_confirmed = confirmed if confirmed is not None else kind != SubscriberKind.EMAIL
    subscriber = Subscriber(
        kind=kind,
        address=address,
        guild_id=guild_id,
        display_name=display_name,
        timezone=tz,
        schedule=chosen_schedule,
        digest_hour=hour,
        digest_weekday=weekday,
        confirmed_at=utcnow() if is_confirmed else None,
    )
    try:
        with db.session() as session:
            if session.exec(
                select(Subscriber).where(Subscriber.kind == kind, Subscriber.address == address)
            ).first():
                raise Conflict(f"subscriber {address!r} already exists")
            if kind == SubscriberKind.EMAIL:
                ensure_not_suppressed(session, address)  # a hard bounce or complaint: only an admin lifts it
            session.add(subscriber)
            session.flush()
            session.refresh(subscriber)
    except IntegrityError:
        raise Conflict(f"subscriber {address!r} already exists") from None
    return subscriber


def find_subscriber(db: Database, kind: str, address: str) -> Subscriber | None:
    with db.session() as session:
        return session.exec(
            select(Subscriber).where(Subscriber.kind == kind, Subscriber.address == address.strip())
        ).first()


def get_subscriber(db: Database, ref: str | int) -> Subscriber:
    with db.session() as session:
        return _resolve(session, ref)


def list_subscribers(db: Database, *, kind: str | None = None, guild_id: str | None = None) -> list[Subscriber]:
    with db.session() as session:
        statement = select(Subscriber).order_by(col(Subscriber.id))
        if kind:
            statement = statement.where(Subscriber.kind == kind)
        if guild_id:
            statement = statement.where(Subscriber.guild_id == guild_id)
        return list(session.exec(statement).all())


def remove_subscriber(db: Database, ref: str | int) -> Subscriber:
    """Delete a subscriber with their subscriptions, recorded matches and ledger rows.

    The database removes those (ON DELETE CASCADE); deleting the subscriptions through the ORM as
    well raced that cascade (SQLAlchemy warned of a DELETE matching no row)."""
    with db.session() as session:
        subscriber = _resolve(session, ref)
        session.delete(subscriber)
        return subscriber


def set_subscriber_paused(db: Database, ref: str | int, paused: bool, reason: str | None = None) -> Subscriber:
    with db.session() as session:
        subscriber = _resolve(session, ref)
        if not paused and subscriber.kind == SubscriberKind.EMAIL:
            ensure_not_suppressed(session, subscriber.address)
        subscriber.paused = paused
        subscriber.pause_reason = reason if paused else None
        if not paused:
            subscriber.bounce_count = subscriber.send_failures = 0
            subscriber.retry_after = subscriber.last_send_error = None
        session.add(subscriber)
        return subscriber


def record_digests_sent(db: Database, subscriber_ids: Sequence[int], now: datetime) -> None:
    """Remember that these subscribers' digest period is used up (sent, or nothing to send)."""
    if not subscriber_ids:
        return
    with db.transaction() as connection:
        record_digests_sent_on(connection, subscriber_ids, now)


_SUBSCRIBERS = Subscriber.__table__  # type: ignore[attr-defined]
# Built once (the e-mail ledger runs it once per sent group): building it cost more than running it.
_PERIOD_USED = (
    update(_SUBSCRIBERS)
    .where(_SUBSCRIBERS.c.id.in_(bindparam("ids", expanding=True)))
    # bounces and failures count consecutive refusals, so a delivered digest resets them
    .values(last_digest_at=bindparam("at"), bounce_count=0, send_failures=0, retry_after=None, last_send_error=None)
)


def record_digests_sent_on(connection: Connection, subscriber_ids: Sequence[int], now: datetime) -> None:
    """`record_digests_sent`'s statement in the caller's transaction."""
    connection.execute(_PERIOD_USED, {"ids": list(subscriber_ids), "at": now})


def confirm_subscriber(db: Database, subscriber_id: int) -> Subscriber:
    """Record consent; confirming twice keeps the first confirmation time."""
    with db.session() as session:
        subscriber = _resolve(session, subscriber_id)
        if subscriber.confirmed_at is None:
            subscriber.confirmed_at = utcnow()
            session.add(subscriber)
        return subscriber


def set_schedule(
    db: Database,
    ref: str | int,
    *,
    schedule: str | None = None,
    hour: int | None = None,
    weekday: int | None = None,
    timezone: str | None = None,
) -> Subscriber:
    with db.session() as session:
        subscriber = _resolve(session, ref)
        new_schedule = schedule or subscriber.schedule
        new_hour = subscriber.digest_hour if hour is None else hour
        new_weekday = subscriber.digest_weekday if weekday is None else weekday
        validate_schedule(new_schedule, new_hour, new_weekday)
        subscriber.schedule = new_schedule
        subscriber.digest_hour = new_hour
        subscriber.digest_weekday = new_weekday
        if timezone is not None:
            subscriber.timezone = validate_timezone(timezone)
        session.add(subscriber)
        return subscriber


@dataclass
class AddedSubscription:
    subscription: Subscription
    backfill_days: int  # the window used (0 = no backfill)
    backfilled: int  # matches of that window queued for the first digest


def add_subscription(
    db: Database, settings: Settings, subscriber_ref: str | int, query: str, created_by: str | None = None,
    *, backfill_days: int = 0,
) -> Subscription:
    """Save a query for a subscriber; no backfill unless asked (interfaces call `subscribe`, whose default is
    the `subscription_backfill_days` setting, and which says how many papers were backfilled)."""
    return subscribe(db, settings, subscriber_ref, query, created_by, backfill_days=backfill_days).subscription


def subscribe(
    db: Database, settings: Settings, subscriber_ref: str | int, query: str, created_by: str | None = None,
    *, backfill_days: int | None = None, top_n: int | None = None,
) -> AddedSubscription:
    """Save a query for a subscriber after validating it exactly as every interface does.

    An empty query subscribes to the day's trending papers (digest.services.trending), `top_n` a day.

    A query equivalent to one the subscriber already has (same normal form: operand order, nesting,
    spelling) is refused with a pointer to it. `backfill_days` (default: the
    `subscription_backfill_days` setting; 0 = none) queues the matches of the papers first seen in
    that many days for the first digest.
    """
    if is_trending(query):
        return AddedSubscription(_subscribe_trending(db, subscriber_ref, created_by, top_n), 0, 0)
    text = validate_query(settings, query)
    form = normal_form(parse_query(text, query_limits(settings)).root)
    try:
        with db.session() as session:
            subscriber = _resolve(session, subscriber_ref)
            for existing in session.exec(select(Subscription).where(Subscription.subscriber_id == subscriber.id)):
                if existing.query == text or _form_of(settings, existing.query) == form:
                    same = "the query" if existing.query == text else "an equivalent query"
                    raise Conflict(
                        f"subscriber {subscriber.address!r} already has {same}: #{existing.id} {existing.query!r}"
                    )
            assert subscriber.id is not None
            subscription = Subscription(subscriber_id=subscriber.id, query=text, created_by=created_by)
            session.add(subscription)
            session.flush()
            session.refresh(subscription)
    except IntegrityError:
        raise Conflict(f"duplicate subscription {text!r}") from None
    # bounded like the setting: a hostile "backfill 10 years" from a form cannot scan the whole archive
    days = (settings.subscription_backfill_days if backfill_days is None
            else min(max(0, backfill_days), BACKFILL_MAX_DAYS))
    return AddedSubscription(subscription, days, backfill_subscription(db, settings, subscription, days))


def _subscribe_trending(db: Database, subscriber_ref: str | int, created_by: str | None,
                        top_n: int | None) -> Subscription:
    if top_n is not None and not 1 <= top_n <= MAX_TOP_N:
        raise InvalidInput(f"the number of trending papers a day must be 1-{MAX_TOP_N}, got {top_n}")
    try:
        with db.session() as session:
            subscriber = _resolve(session, subscriber_ref)
            existing = session.exec(select(Subscription).where(
                Subscription.subscriber_id == subscriber.id, Subscription.query == TRENDING_QUERY)).first()
            if existing is not None:
                raise Conflict(f"subscriber {subscriber.address!r} already has the trending papers: #{existing.id}")
            assert subscriber.id is not None
            subscription = Subscription(subscriber_id=subscriber.id, query=TRENDING_QUERY, created_by=created_by,
                                        max_items=top_n)
            session.add(subscription)
            session.flush()
            session.refresh(subscription)
            return subscription
    except IntegrityError:
        raise Conflict("already subscribed to the trending papers") from None


def _form_of(settings: Settings, query: str) -> object:
    try:
        return normal_form(parse_query(query, query_limits(settings)).root)
    except QueryError:
        return None  # a stored query the current parser refuses equals nothing


def _scoped_subscription(
    session: Session, subscription_id: int, owner_id: int | None, guild_id: str | None
) -> Subscription:
    subscription = session.get(Subscription, subscription_id)
    if subscription is not None and (owner_id is not None or guild_id is not None):
        owner = session.get(Subscriber, subscription.subscriber_id)
        # Someone else's subscription is reported exactly like a missing one: no information leaks.
        not_owner = owner_id is not None and subscription.subscriber_id != owner_id
        other_guild = guild_id is not None and (owner is None or owner.guild_id != guild_id)
        if not_owner or other_guild:
            subscription = None
    if subscription is None:
        raise NotFound(f"no subscription #{subscription_id}")
    return subscription


def list_subscriptions(
    db: Database, *, subscriber_id: int | None = None, guild_id: str | None = None
) -> list[Subscription]:
    with db.session() as session:
        statement = select(Subscription).order_by(col(Subscription.id))
        if subscriber_id is not None:
            statement = statement.where(Subscription.subscriber_id == subscriber_id)
        if guild_id is not None:
            statement = statement.join(Subscriber).where(Subscriber.guild_id == guild_id)
        return list(session.exec(statement).all())


def get_subscription(
    db: Database, subscription_id: int, *, owner_id: int | None = None, guild_id: str | None = None
) -> Subscription:
    with db.session() as session:
        return _scoped_subscription(session, subscription_id, owner_id, guild_id)


def remove_subscription(
    db: Database, subscription_id: int, *, owner_id: int | None = None, guild_id: str | None = None
) -> Subscription:
    with db.session() as session:
        subscription = _scoped_subscription(session, subscription_id, owner_id, guild_id)
        session.delete(subscription)
        return subscription


def set_subscription_paused(
    db: Database, subscription_id: int, paused: bool, *, owner_id: int | None = None, guild_id: str | None = None
) -> Subscription:
    with db.session() as session:
        subscription = _scoped_subscription(session, subscription_id, owner_id, guild_id)
        subscription.paused = paused
        session.add(subscription)
        return subscription


def edit_query(
    db: Database, settings: Settings, subscription_id: int, query: str, *, owner_id: int | None = None,
    guild_id: str | None = None,
) -> Subscription:
    """Replace a subscription's query (validated like a new one; `Conflict` when another of the subscriber's
    subscriptions already asks the same). Pending papers the new query no longer matches are dropped when
    they are next claimed (digest.services.claim_check), so the next digest holds only what it matches."""
    text = validate_query(settings, query)
    form = _form_of(settings, text)
    with db.session() as session:
        subscription = _scoped_subscription(session, subscription_id, owner_id, guild_id)
        siblings = session.exec(select(Subscription).where(
            Subscription.subscriber_id == subscription.subscriber_id, col(Subscription.id) != subscription_id))
        same = next((other for other in siblings if _form_of(settings, other.query) == form), None)
        if same is not None:
            raise Conflict(f"you already have that query (subscription #{same.id})")
        subscription.query = text
        session.add(subscription)
        session.flush()
        session.refresh(subscription)
        return subscription
