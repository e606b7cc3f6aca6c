"""Each chat channel's state for `paperbell status`: targets, paused (with why), backing off, pending.

Read by digest.runtime.state (the status snapshot) for every kind of the registered chat channels
(the `ChatRegistry` the composition root hands in), so a new chat channel shows up without code here.
`ChatRegistry.missing_settings` says which kinds have what they need to post (a server or a token);
without it their papers stay pending, which status says.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from digest.services.channel_specs import ChatRegistry
from storage.db import Database
from storage.models import Delivery, DeliveryStatus, Subscriber
from storage.types import utcnow

_S = Subscriber.__table__  # type: ignore[attr-defined]
_D = Delivery.__table__  # type: ignore[attr-defined]


def chat_facts(db: Database, registry: ChatRegistry, now: datetime | None = None) -> dict[str, dict[str, Any]]:
    """Kind → counts and the paused targets with their reasons; only kinds that have subscribers."""
    now = now or utcnow()
    kinds = list(registry.kinds)
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
        fact = facts.setdefault(row.kind, {"label": registry.label_of(row.kind), "targets": 0, "paused": 0,
                                           "backing_off": 0, "pending": int(pending.get(row.kind, 0)),
                                           "paused_list": [], "failing_list": []})
        fact["targets"] += 1
        shown = registry.shown_address(row.kind, row.address)
        if row.paused:
            fact["paused"] += 1
            fact["paused_list"].append({"id": row.id, "address": shown, "reason": row.pause_reason})
        elif row.retry_after is not None and row.retry_after > now:
            fact["backing_off"] += 1
            fact["failing_list"].append({"id": row.id, "address": shown, "error": row.last_send_error,
                                         "retry_at": row.retry_after.isoformat()})
    return facts
