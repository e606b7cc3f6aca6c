"""Tables for learning from 👍/👎: one vote per (subscriber, paper, voter).

`voter` is "" for the subscriber's own vote (an e-mail reader, a Discord user's DM subscription)
and the Discord member id for votes cast on a channel subscription's post, so a channel collects
the votes of its members and each member's vote stays theirs (changed or withdrawn by them only).
A withdrawn vote is deleted; a changed vote keeps `created_at` and moves `updated_at`.

`paper_terms` holds each paper's hashed term counts (digest.feedback.term_counts), computed once at
ingest, so a ranking applies IDF to stored counts instead of analysing texts again.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime, utcnow


class PaperVote(SQLModel, table=True):
    """A reader's 👍 (+1) or 👎 (-1) on one paper."""

    __tablename__ = "paper_votes"
    __table_args__ = (
        UniqueConstraint("subscriber_id", "paper_id", "voter", name="uq_paper_vote_subscriber_paper_voter"),
        CheckConstraint("vote IN (-1, 1)", name="ck_paper_vote_sign"),
    )

    id: int | None = Field(default=None, primary_key=True)
    subscriber_id: int = Field(foreign_key="subscribers.id", index=True, ondelete="CASCADE")
    paper_id: int = Field(foreign_key="papers.id", index=True, ondelete="CASCADE")
    voter: str = Field(default="", max_length=64)
    vote: int
    channel: str = Field(default="", max_length=16)  # where it was cast: email, discord, web, cli, seed
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class PaperTerms(SQLModel, table=True):
    """One paper's hashed term counts (`version` of the encoding; another version is recomputed)."""

    __tablename__ = "paper_terms"

    paper_id: int = Field(foreign_key="papers.id", primary_key=True, ondelete="CASCADE")
    version: int = Field(default=1)
    counts: bytes = Field(sa_type=LargeBinary, nullable=False)
