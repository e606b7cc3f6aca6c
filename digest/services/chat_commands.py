"""What a chat platform's commands do, whatever their spelling: subscribe, list, unsubscribe, search, vote.

Shared by the chat channels with commands inside the platform (`/subscribe`, `!paperbell subscribe`):
one chat target (a chat, a room) is one subscriber of its kind whose address
is the platform's id for it, created by its first subscription. Functions here are blocking (database)
except `search`; they raise the services' one-line refusals (`ServiceError`, `QueryError`), and
each platform words the results in its own markup.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import select

from digest.services import feedback
from digest.services.errors import InvalidInput
from digest.services.search import SearchResult, rank_stored, summarized
from digest.services.subscribers import (
    add_subscriber,
    find_subscriber,
    list_subscriptions,
    remove_subscription,
    set_schedule,
    set_subscriber_paused,
    subscribe,
)
from digest.settings import Settings
from storage.db import Database
from storage.models import Delivery, Subscriber, Subscription


@dataclass(frozen=True)
class Target:
    """Where a command was given: the subscriber kind, the platform's id of the chat, its name, who spoke."""

    kind: str
    address: str
    title: str = ""
    voter: str | None = None  # the platform's id of the member (e.g. "@ada:example.org")


@dataclass(frozen=True)
class Subscribed:
    number: int  # the subscription's id, for /unsubscribe
    backfilled: int  # recent matches queued for the next post
    resumed: bool  # the chat had been paused (blocked, kicked) and is on again


def subscriber_of(db: Database, target: Target) -> Subscriber | None:
    return find_subscriber(db, target.kind, target.address)


def subscribe_here(db: Database, settings: Settings, target: Target, query: str) -> Subscribed:
    """Subscribe the chat to `query`, creating its subscriber first; a paused chat that speaks is resumed."""
    subscriber = subscriber_of(db, target) or add_subscriber(
        db, settings, target.kind, target.address, display_name=target.title[:200] or None)
    assert subscriber.id is not None
    resumed = subscriber.paused
    if resumed:  # someone there talks to the bot again: the chat is reachable
        set_subscriber_paused(db, subscriber.id, False)
    created_by = f"{target.kind}:{target.voter or 'chat'}"[:255]
    added = subscribe(db, settings, subscriber.id, query, created_by=created_by)
    return Subscribed(added.subscription.id or 0, added.backfilled, resumed)


def subscriptions_here(db: Database, target: Target) -> tuple[Subscriber | None, list[Subscription]]:
    subscriber = subscriber_of(db, target)
    if subscriber is None:
        return None, []
    return subscriber, list_subscriptions(db, subscriber_id=subscriber.id)


def unsubscribe_here(db: Database, target: Target, number: int) -> Subscription | None:
    """Remove this chat's subscription `number`; None when the chat has none (NotFound when not its own)."""
    subscriber = subscriber_of(db, target)
    if subscriber is None:
        return None
    return remove_subscription(db, number, owner_id=subscriber.id)


SCHEDULE_USAGE = "instant, daily [hour 0-23] or weekly [hour 0-23], e.g. daily 8"


def schedule_here(db: Database, target: Target, words: str) -> Subscriber | None:
    """Set the chat's schedule from `instant`, `daily 8`, `weekly 8` (hours in the chat's time zone, UTC
    unless set); None when the chat has no subscriber yet. InvalidInput names the accepted forms."""
    parts = words.lower().split()
    if not parts or parts[0] not in ("instant", "daily", "weekly") or len(parts) > 2 or (
            len(parts) == 2 and not parts[1].isdigit()):
        raise InvalidInput(f"say {SCHEDULE_USAGE}")
    subscriber = subscriber_of(db, target)
    if subscriber is None or subscriber.id is None:
        return None
    hour = int(parts[1]) if len(parts) == 2 else None
    return set_schedule(db, subscriber.id, schedule=parts[0], hour=hour)


def describe_schedule(subscriber: Subscriber) -> str:
    if subscriber.schedule == "instant":
        return "each paper as it is matched"
    return f"a {subscriber.schedule} digest at {subscriber.digest_hour:02d}:00 {subscriber.timezone}"


async def search(settings: Settings, db: Database, query: str, *, shown: int = 3) -> SearchResult:
    """The strongest stored matches of `query`, summarized (raises `QueryError` for a bad query)."""
    result, papers = await db.run(lambda: rank_stored(settings, db, query, shown=shown,
                                                      candidates=settings.discord_search_candidates))
    return await summarized(settings, db, result, papers)


def papers_of_post(db: Database, target: Target, message_id: str) -> list[int]:
    """The papers a post of ours in this chat carried (its platform message id as the ledger stored it)."""
    subscriber = subscriber_of(db, target)
    if subscriber is None:
        return []
    with db.session() as session:
        return list(session.exec(select(Delivery.paper_id).where(
            Delivery.subscriber_id == subscriber.id, Delivery.message_id == message_id)).all())


def vote_here(db: Database, target: Target, paper_id: int, vote: int, *, channel: str, toggle: bool = True) -> str:
    """A 👍/👎 from a member under a post in this chat; a short answer.

    `toggle`: the same vote again withdraws it (buttons); without it (reactions, which a client adds once
    and withdraws by redacting) the same vote again changes nothing.
    """
    subscriber = subscriber_of(db, target)
    voter = target.voter or ""
    if subscriber is None or subscriber.id is None or not feedback.was_delivered(db, subscriber.id, paper_id):
        return "This paper was not posted here by paperbell."
    if toggle and feedback.vote_of(db, subscriber.id, paper_id, voter=voter) == vote:
        feedback.withdraw_vote(db, subscriber.id, paper_id, voter=voter)
        done = "withdrawn"
    else:
        feedback.record_vote(db, subscriber.id, paper_id, vote, voter=voter, channel=channel)
        done = "recorded"
    mark = "👍" if vote > 0 else "👎"
    return f"{mark} {done} — {feedback.vote_counts(db, subscriber.id).describe()}"
