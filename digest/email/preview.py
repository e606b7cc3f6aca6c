"""What a subscriber's next e-mail digest would look like now: written to files, nothing claimed or sent.

Called by `paperbell digest preview` and the e-mail channel's `preview`. Uses the same item loading,
extras and rendering as the delivery pass (digest.email.digests), so the preview is what would be sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from digest.email.building import render
from digest.email.rows import email_subscribers
from digest.services import outbox
from digest.services.digest_extras import load_extras
from digest.services.items import load_items
from digest.settings import Settings
from storage.db import Database
from storage.types import utcnow


@dataclass
class PreviewResult:
    subscriber_id: int
    subject: str
    html_path: Path
    text_path: Path
    papers: int
    shown: int


async def preview_digest(
    settings: Settings,
    db: Database,
    subscriber_ref: str | int,
    now: datetime | None = None,
    *,
    out_dir: Path | None = None,
) -> PreviewResult:
    """Write the HTML and text the subscriber would get now (pending papers; nothing is claimed or sent)."""
    now = now or utcnow()
    subscriber = (await db.run(email_subscribers, db, subscriber_ref))[0]
    assert subscriber.id is not None
    rows = await db.run(outbox.pending_rows, db, subscriber.id)
    items = await load_items(settings, db, rows)
    extras = await db.run(load_extras, db, subscriber.id, now)  # shown, not recorded as told
    rendered = await render(settings, db, subscriber, items, now, extras=extras)
    folder = out_dir or settings.resolved_outbox_dir() / "preview"
    folder.mkdir(parents=True, exist_ok=True)
    html_path = folder / f"digest-{subscriber.id}.html"
    text_path = folder / f"digest-{subscriber.id}.txt"
    html_path.write_text(rendered.mail.html, encoding="utf-8")
    text_path.write_text(rendered.mail.text, encoding="utf-8")
    return PreviewResult(
        subscriber_id=subscriber.id, subject=rendered.mail.subject, html_path=html_path, text_path=text_path,
        papers=len(items), shown=len(rendered.shown_delivery_ids),
    )
