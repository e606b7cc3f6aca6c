"""What happened to a paper after readers received it, and how each saved query is doing.

`paper_events`: a new version, a journal reference/DOI, a code or artifact link, found by ingest
when a record merges into a stored paper (digest.services.lifecycle), once per (paper, kind, key).
`update_notices`: which subscriber was told of which event; its primary key is the promise
"at most once per event per paper per subscriber". `subscription_updates`: the event kinds a
subscription opted in to (none by default). `query_health`: the match cycle's recent near misses
of a narrow query and when its reader was last told that it matched nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime, utcnow


class PaperEvent(SQLModel, table=True):
    """One change in a stored paper's life; `key` tells two events of one kind apart ("v2", a DOI, a URL)."""

    __tablename__ = "paper_events"
    __table_args__ = (UniqueConstraint("paper_id", "kind", "key", name="uq_paper_events_paper_kind_key"),)

    id: int | None = Field(default=None, primary_key=True)
    paper_id: int = Field(foreign_key="papers.id", index=True, ondelete="CASCADE")
    kind: str = Field(max_length=16)  # new-version | published | code
    key: str = Field(max_length=255)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False, index=True)


class UpdateNotice(SQLModel, table=True):
    """A subscriber was shown an event (in a digest or a Discord post): never again."""

    __tablename__ = "update_notices"

    subscriber_id: int = Field(foreign_key="subscribers.id", primary_key=True, ondelete="CASCADE")
    event_id: int = Field(foreign_key="paper_events.id", primary_key=True, ondelete="CASCADE")
    sent_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class SubscriptionUpdates(SQLModel, table=True):
    """The lifecycle events a subscription opted in to, comma separated ("new-version,code")."""

    __tablename__ = "subscription_updates"

    subscription_id: int = Field(foreign_key="subscriptions.id", primary_key=True, ondelete="CASCADE")
    kinds: str = Field(default="", max_length=64)


class QueryHealth(SQLModel, table=True):
    """Per narrow query: up to three recent near misses (paper id, failed clause, when) and the last silence note."""

    __tablename__ = "query_health"

    subscription_id: int = Field(foreign_key="subscriptions.id", primary_key=True, ondelete="CASCADE")
    near_misses: list[Any] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))  # [id, title, clause]
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    silent_noted_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
