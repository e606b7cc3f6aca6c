"""Lifecycle updates and query health on Discord: one short post "Updates to papers you received".

Called by digest.discord.delivery: a daily/weekly target gets it right after its digest (with the
health of its queries: matches in 30 days, a narrow query's near misses), an instant target on any
pass where an update is waiting (updates only: a health footer under every paper would be noise).
The lines come from digest.services.digest_extras, the same facts the e-mail shows; the events are
recorded as told only once Discord acknowledged the post, and the nonce is derived from them, so a
retry after a lost reply does not post twice (Discord's `enforce_nonce`, for a few minutes).
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime
from typing import Any

from digest.discord.render import clip_message
from digest.services.digest_extras import DigestExtras, load_extras, record_shown
from storage.db import Database
from storage.models import Schedule, Subscriber

log = logging.getLogger(__name__)


def updates_message(extras: DigestExtras, *, health: bool) -> dict[str, Any] | None:
    """The post, or None when there is nothing to say."""
    lines = (extras if health else extras.updates_only()).chat_lines(lambda heading: f"**{heading}**")
    if not lines:
        return None
    return clip_message({"content": "\n".join(lines), "allowed_mentions": {"parse": []}})


async def tell_updates(db: Database, poster: Any, subscriber: Subscriber, now: datetime, *, digest: bool = False,
                       extras: DigestExtras | None = None) -> bool:
    """Post the subscriber's waiting updates (after a digest: with the health of its queries); True when posted.

    `digest=False` is a delivery pass: only an instant target is told then. `extras`: already read (for a
    chunk of digests, digest.discord.prepare), else read here. A failure is logged and left for the next
    pass (nothing is recorded as told); it never stops the delivery."""
    assert subscriber.id is not None
    if not digest and subscriber.schedule != Schedule.INSTANT.value:
        return False
    try:
        if extras is None:
            extras = await db.run(load_extras, db, subscriber.id, now)
        message = updates_message(extras, health=digest)
        if message is None:
            return False
        told = ",".join(str(note.event_id) for note in extras.updates) or now.date().isoformat()
        nonce = hashlib.sha256(f"updates:{subscriber.id}:{told}".encode()).hexdigest()[:25]
        await poster.post(subscriber.kind, subscriber.address, message, nonce=nonce)
    except Exception as exc:  # the papers go out regardless; the updates wait for the next pass
        log.warning("discord: updates for %s not posted: %s", subscriber.address, exc)
        return False
    await db.run(record_shown, db, subscriber.id, extras, now)
    return True
