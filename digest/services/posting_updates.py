"""Lifecycle updates and query health through the shared chat loop (digest.services.posting), once for all.

A platform that can render them has `render_updates` (the `RendersUpdates` protocol); the loop calls
`tell_updates` right after a subscriber's digest (updates and the health footer) or, for an instant
target, on every pass (updates only, as their own short post, as Discord does). The facts are the
e-mail's and Discord's (digest.services.digest_extras: `load_extras`, `record_shown`), and the text
is shared too (`updates_text`), so each chat platform only wraps it in its own body.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from digest.services.digest_extras import DigestExtras, load_extras, record_shown
from digest.services.lifecycle import pending_updates
from storage.db import Database
from storage.models import Subscriber

if TYPE_CHECKING:
    from digest.services.posting import Platform

log = logging.getLogger(__name__)


class RendersUpdates(Protocol):
    """Optional on a `Platform`: lifecycle updates and query health as one post (a platform without it is
    skipped, nothing is recorded as told). `digest_extras.updates_text` is the shared text to wrap."""

    def render_updates(self, subscriber: Subscriber, extras: DigestExtras) -> Any | None:
        """The post body for these extras, or None when there is nothing to say."""
        ...


async def tell_updates(db: Database, platform: Platform, subscriber: Subscriber, now: datetime, *, digest: bool
                       ) -> bool:
    """Post the subscriber's waiting updates (after a digest: with its queries' health) once; True when posted.

    Recorded as told only once the platform acknowledged the post, so each event is told at most once (a
    lost reply: the next pass posts it again, one copy more at most, none where `key` is idempotent).
    A failure is logged and left for the next pass; it never stops the papers."""
    render = getattr(platform, "render_updates", None)
    if render is None or subscriber.id is None:
        return False
    try:
        # an instant target: updates only (a health footer under every paper would be noise), cheap per pass
        extras = await db.run(load_extras, db, subscriber.id, now) if digest \
            else DigestExtras(await db.run(pending_updates, db, subscriber.id))
        body = render(subscriber, extras)
        if body is None:
            return False
        told = ",".join(str(note.event_id) for note in extras.updates) or now.date().isoformat()
        key = hashlib.sha256(f"updates:{subscriber.id}:{told}".encode()).hexdigest()[:32]
        await platform.send(subscriber, body, key=key)
    except Exception as exc:
        log.warning("%s: updates for %s not posted: %s", platform.label, subscriber.address, exc)
        return False
    await db.run(record_shown, db, subscriber.id, extras, now)
    return True
