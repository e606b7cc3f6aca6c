"""A visitor's ▲ on the public web pages: paperbell's own trending signal from readers without an account.

One row per (paper, visitor). `visitor` is a digest of the random id in the visitor's signed cookie
(digest.web.visitor_votes), never an address or an IP, so the table holds nothing personal; the
unique key makes a second ▲ from the same browser a no-op. Counted next to subscribers' 👍 by
digest.services.trending.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime, utcnow


class VisitorVote(SQLModel, table=True):
    __tablename__ = "visitor_votes"
    __table_args__ = (UniqueConstraint("paper_id", "visitor", name="uq_visitor_vote_paper_visitor"),)

    id: int | None = Field(default=None, primary_key=True)
    paper_id: int = Field(foreign_key="papers.id", index=True, ondelete="CASCADE")
    visitor: str = Field(max_length=32)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
