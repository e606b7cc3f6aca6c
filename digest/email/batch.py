"""Batches of due e-mail subscribers, and what a batch needs besides its claimed rows, read together.

Used by digest.email.digests: the due subscribers cut into batches (`batches_of`); after one claim
for a batch, one load of every subscriber's items (digest.services.items.load_items_many: one read,
one re-check pass, one summary lookup; what it reads and makes is remembered, by paper content and
query text, for the next batches and passes: `shared_memory_of`), then one read of their digests'
extras (lifecycle updates, query health) and of what their ranking needs (who has votes, the
subscriptions' limits). Each
subscriber's failure stays theirs: a subscriber whose items cannot be built gets the exception; if a
batch read itself fails (not an outage), every subscriber of the batch reads their own, as if there
were no batch.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from digest.core.assembly import DigestItem
from digest.email.building import rows_of
from digest.services import feedback, outbox
from digest.services.digest_extras import DigestExtras, load_extras_many
from digest.services.items import load_items_many, shared_memory_of
from digest.settings import Settings
from storage.db import Database
from storage.models import Subscriber
from storage.outage import is_outage

log = logging.getLogger(__name__)


@dataclass
class BatchFacts:
    """Per subscriber id: items (or the exception that stops that digest) and extras; the ranking inputs."""

    items: dict[int, list[DigestItem] | Exception] = field(default_factory=dict)
    extras: dict[int, DigestExtras] = field(default_factory=dict)
    plan_inputs: feedback.PlanInputs | None = None


def _reads(db: Database, subscriber_ids: Sequence[int], subscription_ids: Sequence[int], now: datetime
           ) -> tuple[dict[int, DigestExtras], feedback.PlanInputs]:
    """The extras and the ranking inputs of the batch (blocking: one worker thread)."""
    return (load_extras_many(db, subscriber_ids, now),
            feedback.plan_inputs_many(db, subscriber_ids, subscription_ids))


async def load_batch(settings: Settings, db: Database, claimed: Mapping[int, list[outbox.ClaimedDelivery]],
                     subscriber_ids: Sequence[int], now: datetime) -> BatchFacts:
    """The items of the claimed rows (by subscriber) and the extras and ranking inputs of `subscriber_ids`."""
    facts = BatchFacts()
    try:
        facts.items = await load_items_many(settings, db, {k: rows_of(v) for k, v in claimed.items()},
                                            memory=shared_memory_of(settings, db))
    except Exception as exc:
        if is_outage(exc):
            raise
        log.exception("digest items of %d subscribers could not be loaded together; one by one", len(claimed))
    subscriptions = sorted({item.subscription_id for loaded in facts.items.values() if isinstance(loaded, list)
                            for item in loaded if item.subscription_id is not None})
    try:
        facts.extras, facts.plan_inputs = await db.run(_reads, db, subscriber_ids, subscriptions, now)
    except Exception as exc:
        if is_outage(exc):
            raise
        log.exception("digest extras of %d subscribers could not be read together; one by one", len(subscriber_ids))
    return facts


def batches_of(due: list[Subscriber], size: int, *, rotate: bool) -> list[list[Subscriber]]:
    """Due subscribers in batches of `size`. With `rotate` (PostgreSQL, where several senders may run),
    this sender starts at a random batch, so concurrent senders mostly claim different subscribers
    instead of queueing behind one another's locks."""
    batches = [due[i : i + size] for i in range(0, len(due), size)]
    if rotate and len(batches) > 1:
        start = random.randrange(len(batches))
        batches = batches[start:] + batches[:start]
    return batches
