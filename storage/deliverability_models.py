"""The suppression list: addresses no paperbell mail may go to (hard bounces, complaints, admin blocks).

One row per address (lower-case). Written by digest.services.suppression (inbound bounces and
feedback reports, the bounce webhook, `paperbell suppression add`); only an admin removes a row.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime, utcnow


class Suppression(SQLModel, table=True):
    """An address that must never be mailed again without an admin's explicit override."""

    __tablename__ = "suppressions"

    id: int | None = Field(default=None, primary_key=True)
    address: str = Field(max_length=320, unique=True, index=True)
    reason: str = Field(max_length=32)  # a SuppressionReason value: hard_bounce | complaint | manual
    source: str = Field(max_length=64)  # inbound | webhook:ses | webhook:mailgun | webhook:postmark | admin
    detail: str | None = Field(default=None, max_length=1000)  # e.g. the DSN's status and diagnostic
    events: int = 1  # reports seen for this address (later ones only update detail and last_event_at)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    last_event_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
