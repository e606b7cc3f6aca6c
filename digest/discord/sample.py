"""/admin test: one sample paper (any stored one the admin picks, else the latest) posted to a channel
subscriber's target exactly as deliveries would post it (same style, template, colour, placement, role
mention, poster and error classes), without touching the ledger and without pausing anything: the admin
reads the outcome in the reply.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlmodel import col, select

from digest.discord.delivery import DeliveryRefused, MessageRejected, Poster
from digest.discord.placement import dress, placement_for
from digest.discord.render import instant_messages
from digest.discord.styles import styled_instant
from digest.discord.targets import get_target
from digest.services.errors import NotFound
from digest.services.items import load_items
from digest.settings import Settings
from storage.db import Database
from storage.models import Paper, Subscriber
from storage.types import utcnow


@dataclass(frozen=True)
class SampleResult:
    ok: bool
    detail: str  # the message id, or why Discord refused


def _latest_paper_id(db: Database) -> int | None:
    with db.session() as session:
        return session.exec(select(Paper.id).order_by(col(Paper.first_seen_at).desc()).limit(1)).first()


async def send_sample(settings: Settings, db: Database, poster: Poster, subscriber: Subscriber,
                      paper_id: int | None = None) -> SampleResult:
    """Post `paper_id` (any stored paper the admin picked; default the latest) as this target would get it."""
    assert subscriber.id is not None
    paper_id = paper_id or await db.run(_latest_paper_id, db)
    if paper_id is None:
        raise NotFound("no paper is stored yet; run an ingest first")
    items = await load_items(settings, db, [(0, paper_id, None, {})])
    target = await db.run(get_target, db, subscriber.id)
    [(_, message)] = instant_messages(items) if target.style == "full" else styled_instant(items, target.style)
    placement = None
    if not target.is_default:
        message = dress(message, target, first=True, instant=True, items=items)
        placement = placement_for(target, subscriber.address, items, instant=True, now=utcnow(), thread_id=None)
    nonce = f"t{subscriber.id}-{int(time.time())}"[:25]  # a test post is new each time it is asked for
    try:
        if placement is None:
            message_id = await poster.post(subscriber.kind, subscriber.address, message, nonce=nonce)
        else:
            message_id = await poster.post(subscriber.kind, subscriber.address, message, nonce=nonce,
                                           placement=placement)
    except (DeliveryRefused, MessageRejected) as refused:
        return SampleResult(False, str(refused))
    return SampleResult(True, message_id)
