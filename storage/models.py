"""The SQLModel tables: papers, subscribers, subscriptions, the delivery ledger/outbox and source state.

Every schema change goes through an Alembic migration in `storage/migrations/versions/`;
`tests/storage/test_migrations.py` checks that the migrated schema equals these models.
Timestamps are aware UTC (`UTCDateTime`); list/dict columns are JSON.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime, utcnow


def _ts(*, nullable: bool = True, index: bool = False) -> Any:
    return Field(default=None, sa_type=UTCDateTime, nullable=nullable, index=index)


class SubscriberKind(StrEnum):
    EMAIL = "email"
    DISCORD_USER = "discord_user"
    DISCORD_CHANNEL = "discord_channel"
    # each chat channel's kinds are its own (its `ChatSpec`, digest.services.channel_specs): the column
    # is a string, so a registered channel stores its kinds without a member here


class Schedule(StrEnum):
    INSTANT = "instant"  # Discord: post each paper as it is matched
    DAILY = "daily"
    WEEKLY = "weekly"


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # matched, waiting for its subscriber's next send
    SENDING = "sending"  # claimed by a sender (claimed_by/claimed_at say who and when)
    SENT = "sent"
    FAILED = "failed"  # permanent failure; kept so the paper is never retried blindly
    DROPPED = "dropped"  # closed unsent: the subscription's query was edited and no longer matches (last_error)


class Paper(SQLModel, table=True):
    """One canonical record per paper, whatever sources it arrived from."""

    __tablename__ = "papers"

    id: int | None = Field(default=None, primary_key=True)
    # arXiv id without version ("2410.17243", "hep-ph/9411242"), "doi:…" or "hash:…" for id-less items
    canonical_id: str = Field(max_length=255, unique=True, index=True)
    version: int | None = None
    title: str
    abstract: str = ""
    authors: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    categories: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    primary_category: str | None = Field(default=None, max_length=64)
    doi: str | None = Field(default=None, max_length=255, index=True)
    abs_url: str | None = None
    pdf_url: str | None = None
    published_at: datetime | None = _ts()
    updated_at: datetime | None = _ts()
    first_seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False, index=True)
    # indexed: the web front's cache fingerprint reads max(last_seen_at) on every request
    last_seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False, index=True)
    # which sources have reported it, e.g. ["arxiv:cs.LG", "hf:daily"]
    sources: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # source-specific facts: upvotes, num_comments, ai_summary, ai_keywords, github_repo, project_page, hf_url
    extras: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class Subscriber(SQLModel, table=True):
    """Someone (or some channel) that receives papers: an email address, a Discord user or channel."""

    __tablename__ = "subscribers"
    __table_args__ = (UniqueConstraint("kind", "address", name="uq_subscriber_kind_address"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=32)  # a SubscriberKind value
    # email address, Discord user id, or Discord channel id (as text)
    address: str = Field(max_length=320)
    guild_id: str | None = Field(default=None, max_length=32, index=True)  # Discord guild of a channel/member
    display_name: str | None = Field(default=None, max_length=255)
    timezone: str = Field(default="UTC", max_length=64)
    schedule: str = Field(default=Schedule.DAILY.value, max_length=16)  # a Schedule value
    digest_hour: int = 8
    digest_weekday: int = 0  # 0 = Monday, for weekly digests
    confirmed_at: datetime | None = _ts()
    paused: bool = False
    pause_reason: str | None = None
    bounce_count: int = 0
    last_digest_at: datetime | None = _ts()
    confirmation_sent_at: datetime | None = _ts()  # when the double opt-in mail went out (email)
    # email isolation: consecutive failed attempts, when the next may run, and why the last failed
    send_failures: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    retry_after: datetime | None = _ts()
    last_send_error: str | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class Subscription(SQLModel, table=True):
    """A subscriber's saved query."""

    __tablename__ = "subscriptions"
    __table_args__ = (UniqueConstraint("subscriber_id", "query", name="uq_subscription_subscriber_query"),)

    id: int | None = Field(default=None, primary_key=True)
    subscriber_id: int = Field(foreign_key="subscribers.id", index=True, ondelete="CASCADE")
    query: str = Field(max_length=2000)
    created_by: str | None = Field(default=None, max_length=255)  # "cli", "discord:<user id>", "web", "demo"
    paused: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    # Digest limits: papers past the first `max_items`, or scoring below `min_score` once the
    # subscriber has voted, are listed as one-line links at the end of the query's section.
    max_items: int | None = None
    min_score: float | None = None


class Delivery(SQLModel, table=True):
    """The delivery ledger and outbox in one: at most one row per (subscriber, paper), ever."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("subscriber_id", "paper_id", name="uq_delivery_subscriber_paper"),
        Index("ix_deliveries_status_subscriber", "status", "subscriber_id"),
        # a query's matches in the last 30 days (query health, read with every batch of digests) and the
        # rows of a deleted subscription (set to NULL) without reading the whole ledger
        Index("ix_deliveries_subscription_created", "subscription_id", "created_at", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    subscriber_id: int = Field(foreign_key="subscribers.id", ondelete="CASCADE")
    paper_id: int = Field(foreign_key="papers.id", index=True, ondelete="CASCADE")
    subscription_id: int | None = Field(default=None, foreign_key="subscriptions.id", ondelete="SET NULL")
    status: str = Field(default=DeliveryStatus.PENDING.value, max_length=16)  # a DeliveryStatus value
    # why it matched: {"matched_words": [...], "clauses": [...], "score": float}
    explanation: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    claimed_at: datetime | None = _ts()
    claimed_by: str | None = Field(default=None, max_length=128)
    sent_at: datetime | None = _ts()
    message_id: str | None = Field(default=None, max_length=255)  # Message-ID / Discord message id
    attempts: int = 0
    last_error: str | None = None


class MatchSet(SQLModel, table=True):
    """Pending matches in compact form: one subscriber's matches of one match batch.

    The match cycle writes one of these per (subscriber, batch) instead of a `Delivery` row per
    paper; delivery expands a subscriber's sets into `Delivery` rows just before it reads them
    (digest.services.match_sets). `paper_ids` and `subscription_ids` are little-endian int64 arrays
    of equal length; `pairs` is that length (for counts without unpacking).
    """

    __tablename__ = "match_sets"

    id: int | None = Field(default=None, primary_key=True)
    subscriber_id: int = Field(foreign_key="subscribers.id", index=True, ondelete="CASCADE")
    pairs: int
    paper_ids: bytes = Field(sa_type=LargeBinary, nullable=False)
    subscription_ids: bytes = Field(sa_type=LargeBinary, nullable=False)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class SourceState(SQLModel, table=True):
    """Per-source memory between runs: watermark, HTTP validators, and the last run's outcome."""

    __tablename__ = "source_states"

    source: str = Field(primary_key=True, max_length=512)  # the source spec string
    watermark: str | None = None  # source-defined (e.g. newest announced date or id)
    etag: str | None = None
    last_modified: str | None = None
    last_run_at: datetime | None = _ts()
    last_status: str | None = Field(default=None, max_length=32)  # ok | empty | not_modified | error
    last_error: str | None = None
    last_counts: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class SourceRun(SQLModel, table=True):
    """One row per source run: what was fetched, new, updated, skipped, and any error."""

    __tablename__ = "source_runs"

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=512, index=True)
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False, index=True)
    finished_at: datetime | None = _ts()
    status: str = Field(default="running", max_length=32)
    fetched: int = 0
    new: int = 0
    updated: int = 0
    skipped: int = 0
    error: str | None = None


class Cursor(SQLModel, table=True):
    """Named watermarks of the cycle, e.g. 'match' = the last paper id already matched."""

    __tablename__ = "cursors"

    name: str = Field(primary_key=True, max_length=64)
    value: int = Field(default=0, sa_type=BigInteger)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class SummaryCache(SQLModel, table=True):
    """Summaries produced by a model, cached per paper and model so each is paid for once."""

    __tablename__ = "summary_cache"

    paper_id: int = Field(foreign_key="papers.id", primary_key=True, ondelete="CASCADE")
    model: str = Field(primary_key=True, max_length=128)
    summary: str
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class GuildSettings(SQLModel, table=True):
    """Per-Discord-server settings set by its admins."""

    __tablename__ = "guild_settings"

    guild_id: str = Field(primary_key=True, max_length=32)
    admin_role_id: str | None = Field(default=None, max_length=32)
    # channels where members may use /subscribe deliver:here
    member_channels: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    max_subscriptions_per_member: int | None = None
    queries_per_minute: int | None = None
    notify_channel_id: str | None = Field(default=None, max_length=32)  # where admins are told of problems


ALL_TABLES = [Paper, Subscriber, Subscription, Delivery, SourceState, SourceRun, Cursor, SummaryCache, GuildSettings]

# Tables of other areas live in their own modules; imported here so metadata and Alembic see them.
from storage.feedback_models import PaperTerms, PaperVote  # noqa: E402

ALL_TABLES.extend([PaperVote, PaperTerms])
from storage.deliverability_models import Suppression  # noqa: E402

ALL_TABLES.append(Suppression)
from storage.discord_target_models import DiscordDmChannel, DiscordTarget  # noqa: E402  (Discord targets, DMs)

ALL_TABLES.extend([DiscordTarget, DiscordDmChannel])
from storage.alias_models import PaperAlias  # noqa: E402

ALL_TABLES.append(PaperAlias)
from storage.lifecycle_models import PaperEvent, QueryHealth, SubscriptionUpdates, UpdateNotice  # noqa: E402

ALL_TABLES.extend([PaperEvent, UpdateNotice, SubscriptionUpdates, QueryHealth])

from storage.visitor_models import VisitorVote  # noqa: E402  (web visitors' ▲)

ALL_TABLES.append(VisitorVote)
