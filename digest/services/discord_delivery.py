"""Discord delivery: pending ledger rows of due Discord subscribers → embed messages → marked sent, once.

Called by the runtime scheduler (with the live bot's poster), `paperbell demo` (outbox poster, no token),
tests and bench/discord.py. Channel subscribers with schedule `instant` get one message per paper as it
is matched; `daily`/`weekly` subscribers (digest.email.schedule.is_due) get one digest, batched into as
few messages as Discord's limits allow. Rows go through digest.services.outbox (claim → mark_sent), the
same ledger as email, so each (subscriber, paper) is posted once. A permanent refusal (deleted channel,
missing permission, closed DMs) pauses the subscriber with the reason and tells someone, instead of
retrying forever; a transient failure releases the rows for the next run.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from sqlmodel import col, select

from bot.embeds import digest_messages, instant_messages
from digest.assembly import build_digest
from digest.email.items import load_items
from digest.email.schedule import is_due
from digest.feedback.discord_components import with_vote_buttons
from digest.services import feedback, outbox
from digest.services.email_digests import recipient_of
from digest.services.subscribers import record_digests_sent, set_subscriber_paused
from digest.settings import Settings
from storage.db import Database
from storage.models import Schedule, Subscriber, SubscriberKind
from storage.types import utcnow

log = logging.getLogger(__name__)
DISCORD_KINDS = (SubscriberKind.DISCORD_CHANNEL.value, SubscriberKind.DISCORD_USER.value)
CLAIM_LIMIT = 2000
DIGEST_MAX_ITEMS = 50  # five messages of ten embeds; the rest stays pending for the next digest
CONCURRENCY = 16  # subscribers posted to at once (each channel has its own rate-limit bucket)


class DeliveryRefused(Exception):
    """Discord refused for good (deleted channel, missing permission, closed DMs): pause, don't retry."""


class Poster(Protocol):
    """Where messages go: the live bot (bot.poster.BotPoster) or the outbox writer (OutboxPoster)."""

    async def post(self, kind: str, address: str, message: dict[str, Any], *, nonce: str) -> str:
        """Post one message to a channel (`discord_channel`) or a user's DMs; return its message id.

        `nonce` is the same for the same message when it is re-sent after a crash (Discord's
        `enforce_nonce` then returns the first message instead of posting twice).
        Raises DeliveryRefused for permanent refusals; any other exception is treated as transient.
        """
        ...

    async def notify_paused(self, subscriber: Subscriber, reason: str) -> None:
        """Tell the server's admins (channel) or the member why deliveries were paused."""
        ...


@dataclass
class DiscordDeliveryReport:
    messages: int = 0
    papers: int = 0
    subscribers: int = 0
    paused: list[tuple[int, str]] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)


class OutboxPoster:
    """Writes each message as JSON into <outbox>/discord/ (used when no bot token is set; the demo relies on it)."""

    def __init__(self, settings: Settings) -> None:
        self.folder = settings.resolved_outbox_dir() / "discord"

    async def post(self, kind: str, address: str, message: dict[str, Any], *, nonce: str) -> str:
        # Named by the nonce: a re-send after a crash overwrites the same file instead of adding one.
        name = f"{kind}-{re.sub(r'[^0-9A-Za-z]', '_', address)}-{nonce}.json"
        record = {"target": {"kind": kind, "address": address}, "nonce": nonce, "message": message}
        await asyncio.to_thread(_write_atomically, self.folder / name, json.dumps(record, indent=2, ensure_ascii=False))
        return f"outbox:{name}"

    async def notify_paused(self, subscriber: Subscriber, reason: str) -> None:
        log.warning("discord subscriber %s paused: %s", subscriber.address, reason)


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def message_nonce(claim_message_id: str, part: int) -> str:
    """A Discord nonce (≤ 25 characters) that is the same for the same message across re-claims.

    digest.services.outbox keeps a row's message id when it is re-claimed after a crash, so the
    message that may already have been posted carries the same nonce and Discord does not repeat it.
    """
    return hashlib.sha256(f"{claim_message_id}#{part}".encode()).hexdigest()[:25]


def _due_subscribers(db: Database, now: datetime) -> list[Subscriber]:
    with db.session() as session:
        rows = session.exec(
            select(Subscriber)
            .where(col(Subscriber.kind).in_(DISCORD_KINDS), Subscriber.paused == False)  # noqa: E712
            .order_by(col(Subscriber.id))
        ).all()
    return [s for s in rows if s.confirmed_at is not None and is_due(s, now)]


async def deliver_discord(
    settings: Settings, db: Database, poster: Poster, now: datetime | None = None, *, worker_id: str | None = None
) -> DiscordDeliveryReport:
    """Post everything due to every Discord subscriber once; see the module docstring."""
    now = now or utcnow()
    worker = worker_id or f"discord-{os.getpid()}"
    report = DiscordDeliveryReport()
    subscribers = await db.run(_due_subscribers, db, now)
    report.subscribers = len(subscribers)
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(subscriber: Subscriber) -> None:
        async with gate:
            await _deliver_to(settings, db, poster, subscriber, now, worker, report)

    await asyncio.gather(*(one(s) for s in subscribers))
    return report


async def _deliver_to(
    settings: Settings, db: Database, poster: Poster, subscriber: Subscriber, now: datetime, worker: str,
    report: DiscordDeliveryReport,
) -> None:
    assert subscriber.id is not None
    instant = subscriber.schedule == Schedule.INSTANT
    claimed = await db.run(
        outbox.claim, db, worker_id=worker, subscriber_ids=[subscriber.id], kind=subscriber.kind,
        limit=CLAIM_LIMIT, batch_by="delivery" if instant else "subscriber", now=now,
    )
    if not claimed:
        if not instant:
            await db.run(record_digests_sent, db, [subscriber.id], now)  # the period is used up even when empty
        return
    unsent = {c.delivery_id for c in claimed}
    error: str | None = None
    try:
        items = await load_items(
            settings, db, [(c.delivery_id, c.paper_id, c.subscription_id, c.explanation) for c in claimed]
        )
        if instant:
            batches = instant_messages(items)
        else:
            # the subscriber's 👍/👎 order the digest (today's order without votes)
            plan = await db.run(feedback.plan_for, db, subscriber.id, items, settings.feedback_representation)
            digest = build_digest(
                recipient_of(subscriber), items, now=now, max_items=DIGEST_MAX_ITEMS, rank=plan.rank
            )
            batches = digest_messages(digest, subscriber.schedule)
        paper_of = {item.delivery_id: item.paper_id for item in items}
        batches = [(ids, with_vote_buttons(message, [paper_of[i] for i in ids if i in paper_of]))
                   for ids, message in batches]
        claim_ids = {c.delivery_id: c.message_id for c in claimed}
        for part, (delivery_ids, message) in enumerate(batches):
            nonce = message_nonce(claim_ids[delivery_ids[0]], part)
            message_id = await poster.post(subscriber.kind, subscriber.address, message, nonce=nonce)
            await db.run(outbox.mark_sent, db, delivery_ids, message_id, now=utcnow())
            unsent.difference_update(delivery_ids)
            report.messages += 1
            report.papers += len(delivery_ids)
        if not instant:
            await db.run(record_digests_sent, db, [subscriber.id], now)
    except DeliveryRefused as refused:
        reason = error = str(refused)
        await db.run(set_subscriber_paused, db, subscriber.id, True, reason)
        report.paused.append((subscriber.id, reason))
        log.warning("discord: paused %s %s: %s", subscriber.kind, subscriber.address, reason)
        try:
            await poster.notify_paused(subscriber, reason)
        except Exception:  # telling someone is best effort; the pause itself is recorded
            log.exception("discord: could not report the pause of %s", subscriber.address)
    except Exception as exc:
        report.errors.append((subscriber.id, str(exc)))
        log.warning("discord: delivery to %s failed, will retry: %s", subscriber.address, exc)
        error = str(exc)[:500]
    finally:
        if unsent:  # not posted (over the digest cap, refused or failed): back to pending for later
            await db.run(outbox.release, db, sorted(unsent), error)


def _pending_rows(db: Database, subscriber_id: int) -> list[tuple[int, int, int | None, dict[str, Any]]]:
    from storage.models import Delivery, DeliveryStatus

    with db.session() as session:
        rows = session.exec(
            select(Delivery)
            .where(Delivery.subscriber_id == subscriber_id, Delivery.status == DeliveryStatus.PENDING.value)
            .order_by(col(Delivery.id))
        ).all()
        return [(d.id or 0, d.paper_id, d.subscription_id, dict(d.explanation or {})) for d in rows]


async def pending_digest(
    settings: Settings, db: Database, subscriber: Subscriber, now: datetime | None = None
) -> tuple[int, list[dict[str, Any]]]:
    """What is waiting for a subscriber right now, rendered as digest messages, WITHOUT sending or claiming.

    Used by the bot's /digest; returns (pending paper count, messages).
    """
    assert subscriber.id is not None
    now = now or utcnow()
    rows = await db.run(_pending_rows, db, subscriber.id)
    items = await load_items(settings, db, rows)
    digest = build_digest(recipient_of(subscriber), items, now=now, max_items=DIGEST_MAX_ITEMS)
    return len(rows), [message for _, message in digest_messages(digest, "pending")]
