"""Each chat channel's state for `paperbell status`: targets, paused (with why), backing off, pending.

Read by digest.runtime.state (the status snapshot) for every kind in digest.services.chat_targets, so
a new chat channel shows up without code here. `configured` says which channels have what they need
to post (a server or a token); without it their papers stay pending, which status says.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from digest.services.chat_targets import CHAT_TARGETS
from digest.settings import Settings
from storage.db import Database
from storage.models import Delivery, DeliveryStatus, Subscriber
from storage.types import utcnow

_S = Subscriber.__table__  # type: ignore[attr-defined]
_D = Delivery.__table__  # type: ignore[attr-defined]
# which setting a chat kind needs before anything is posted (kinds of other branches add theirs here)
# (any one of these settings; the first is named when none is set)
NEEDS = {"ntfy_topic": ("ntfy_url",), "slack_channel": ("slack_bot_token",),
         "slack_webhook": ("slack_enabled", "slack_bot_token"), "telegram_chat": ("telegram_token",),
         "matrix_room": ("matrix_access_token",)}


def shown_address(kind: str, address: str) -> str:
    """The address as status shows it: a webhook path's secret (its last part) is never printed."""
    if kind == "slack_webhook" and "/" in address:
        return address.rsplit("/", 1)[0] + "/****"
    return address


def configured(settings: Settings) -> dict[str, str | None]:
    """Kind → None when it can post, else the `PAPERBELL_…` variable that is missing."""
    missing: dict[str, str | None] = {}
    for kind in CHAT_TARGETS:
        names = NEEDS.get(kind, ())
        ready = not names or any(getattr(settings, name, None) for name in names)
        missing[kind] = None if ready else f"PAPERBELL_{names[0].upper()}"
    return missing


def chat_facts(db: Database, now: datetime | None = None) -> dict[str, dict[str, Any]]:
    """Kind → counts and the paused targets with their reasons; only kinds that have subscribers."""
    now = now or utcnow()
    kinds = list(CHAT_TARGETS)
    with db.session() as session:
        rows = session.execute(
            select(_S.c.id, _S.c.kind, _S.c.address, _S.c.paused, _S.c.pause_reason, _S.c.retry_after,
                   _S.c.last_send_error).where(_S.c.kind.in_(kinds)).order_by(_S.c.id)
        ).all()
        pending = dict(session.execute(
            select(_S.c.kind, func.count()).select_from(_D.join(_S, _D.c.subscriber_id == _S.c.id))
            .where(_S.c.kind.in_(kinds),
                   _D.c.status.in_([DeliveryStatus.PENDING.value, DeliveryStatus.SENDING.value]))
            .group_by(_S.c.kind)
        ).all())
    facts: dict[str, dict[str, Any]] = {}
    for row in rows:
        fact = facts.setdefault(row.kind, {"label": CHAT_TARGETS[row.kind].label, "targets": 0, "paused": 0,
                                           "backing_off": 0, "pending": int(pending.get(row.kind, 0)),
                                           "paused_list": [], "failing_list": []})
        fact["targets"] += 1
        if row.paused:
            fact["paused"] += 1
            fact["paused_list"].append({"id": row.id, "address": shown_address(row.kind, row.address),
                                        "reason": row.pause_reason})
        elif row.retry_after is not None and row.retry_after > now:
            fact["backing_off"] += 1
            fact["failing_list"].append({"id": row.id, "address": shown_address(row.kind, row.address),
                                         "error": row.last_send_error,
                                         "retry_at": row.retry_after.isoformat()})
    return facts
