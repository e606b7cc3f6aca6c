"""Email digests: who is due, what they get, sending it once, and the double opt-in mail.

Called by `paperbell digest`, `paperbell demo`, the runtime scheduler and the web app's tests.
Per due subscriber: claim their pending ledger rows (digest.services.outbox), assemble + render
(digest.assembly, digest.email.render), send (digest.email.send), then mark the shown rows sent
at once. A failed send releases the rows (the ledger says "not sent"; the next run retries with
the same Message-ID); permanent 5xx failures count against the address and pause it after
`bounce_pause_threshold`. Unconfirmed addresses only ever get the one confirmation mail.
"""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import update
from sqlmodel import col, select

from digest.assembly import DigestItem, Recipient
from digest.email.headers import MailKind, verp_sender
from digest.email.items import load_items
from digest.email.message import build_message, confirmation_message_id, sender_domain
from digest.email.render import Links, RenderedDigest, render_capped, render_confirmation
from digest.email.schedule import is_due
from digest.email.send import MailTransport, SendOutcome, SendStatus, make_transport
from digest.email.tokens import Purpose, link
from digest.services import outbox
from digest.services.errors import InvalidInput
from digest.services.subscribers import get_subscriber, record_digests_sent
from digest.services.suppression import record_bounce, suppressed_among
from digest.settings import Settings
from storage.db import Database
from storage.models import Delivery, DeliveryStatus, Subscriber, SubscriberKind
from storage.types import utcnow

log = logging.getLogger(__name__)
CLAIM_LIMIT = 5000  # far above any digest; rows past it simply wait for the next run


@dataclass
class DigestResult:
    subscriber_id: int
    address: str
    # sent | not_due | empty | unconfirmed | confirmation_sent | failed | bounced | paused | suppressed | dry_run
    status: str
    papers: int = 0  # papers recorded as delivered by this run (dry run: papers that would be)
    held_back: int = 0  # pending papers left for the next digest (size cap)
    message_id: str | None = None
    path: str | None = None
    error: str | None = None


@dataclass
class PreviewResult:
    subscriber_id: int
    subject: str
    html_path: Path
    text_path: Path
    papers: int
    shown: int


def links_for(settings: Settings, subscriber: Subscriber) -> Links:
    assert subscriber.id is not None
    return Links(
        manage_url=link(settings, Purpose.MANAGE, subscriber.id, subscriber.address),
        unsubscribe_url=link(settings, Purpose.UNSUBSCRIBE, subscriber.id, subscriber.address),
    )


def recipient_of(subscriber: Subscriber) -> Recipient:
    assert subscriber.id is not None
    return Recipient(
        subscriber_id=subscriber.id,
        address=subscriber.address,
        display_name=subscriber.display_name,
        timezone=subscriber.timezone,
        schedule=subscriber.schedule,
    )


# --- database steps (run in worker threads) ---------------------------------------------------
def _email_subscribers(db: Database, ref: str | int | None) -> list[Subscriber]:
    if ref is not None:
        subscriber = get_subscriber(db, ref)
        if subscriber.kind != SubscriberKind.EMAIL:
            raise InvalidInput(f"subscriber {subscriber.address!r} is not an e-mail subscriber")
        return [subscriber]
    with db.session() as session:
        return list(
            session.exec(
                select(Subscriber)
                .where(Subscriber.kind == SubscriberKind.EMAIL.value, col(Subscriber.paused).is_(False))
                .order_by(col(Subscriber.id))
            ).all()
        )


def _pending_rows(db: Database, subscriber_id: int) -> list[tuple[int, int, int | None, dict[str, object]]]:
    with db.session() as session:
        rows = session.exec(
            select(Delivery.id, Delivery.paper_id, Delivery.subscription_id, Delivery.explanation)
            .where(Delivery.subscriber_id == subscriber_id, Delivery.status == DeliveryStatus.PENDING.value)
            .order_by(col(Delivery.id))
        ).all()
        return [(int(r[0] or 0), r[1], r[2], dict(r[3] or {})) for r in rows]


def _unclaim_held_back(db: Database, delivery_ids: Sequence[int]) -> None:
    """Rows cut by the size cap were never sent: back to PENDING WITHOUT the message id, so the
    next digest (different content) gets a fresh Message-ID. Not an attempt, so attempts stay."""
    if not delivery_ids:
        return
    with db.session() as session:
        session.execute(
            update(Delivery)
            .where(col(Delivery.id).in_(list(delivery_ids)), col(Delivery.status) == DeliveryStatus.SENDING.value)
            .values(status=DeliveryStatus.PENDING.value, message_id=None, claimed_by=None, claimed_at=None)
        )


def _record_confirmation_sent(db: Database, subscriber_id: int, now: datetime) -> None:
    with db.session() as session:
        subscriber = session.get(Subscriber, subscriber_id)
        if subscriber is not None:
            subscriber.confirmation_sent_at = now
            session.add(subscriber)


# --- sending ----------------------------------------------------------------------------------
async def _render(settings: Settings, subscriber: Subscriber, items: list[DigestItem], now: datetime) -> RenderedDigest:
    # Rendering is CPU work (templates + CSS inlining): keep it off the event loop.
    return await asyncio.to_thread(
        render_capped, settings, recipient_of(subscriber), items, links_for(settings, subscriber), now=now
    )


async def _send_one(
    settings: Settings,
    db: Database,
    subscriber: Subscriber,
    transport: MailTransport,
    now: datetime,
    claimed: list[outbox.ClaimedDelivery],
    items: list[DigestItem],
    in_flight: asyncio.Semaphore,
) -> DigestResult:
    """Render, send and record one subscriber's digest from rows already claimed for them."""
    assert subscriber.id is not None
    result = DigestResult(subscriber.id, subscriber.address, "empty")
    ids = [c.delivery_id for c in claimed]
    try:
        rendered = await _render(settings, subscriber, items, now)
    except Exception as exc:
        # A rendering bug must neither leave rows stuck in SENDING nor stop everyone else's digest.
        log.exception("digest for subscriber #%s could not be rendered", subscriber.id)
        await db.run(outbox.release, db, ids, f"render failed: {exc}")
        result.status, result.error = "failed", f"render failed: {exc}"
        return result
    shown = rendered.shown_delivery_ids
    shown_set = set(shown)
    held_back = [i for i in ids if i not in shown_set]
    await db.run(_unclaim_held_back, db, held_back)
    message_id = claimed[0].message_id if claimed else outbox.new_message_id(subscriber.id, sender_domain(settings))
    message = build_message(
        settings, to_address=subscriber.address, to_name=subscriber.display_name, mail=rendered.mail,
        message_id=message_id, date=now, unsubscribe_url=links_for(settings, subscriber).unsubscribe_url,
        subscriber_id=subscriber.id,
    )
    # A slot covers send AND the ledger write, so at most `smtp_concurrency` messages are ever
    # accepted by the server but not yet recorded: that bounds the duplicates a kill -9 can cause.
    async with in_flight:
        outcome: SendOutcome = await transport.send(
            message, envelope_from=verp_sender(settings, subscriber.id, subscriber.address))
        if outcome.status is SendStatus.SENT:
            await db.run(outbox.mark_sent, db, shown, None, now=utcnow())
    result.message_id, result.held_back = message_id, len(held_back)
    result.path = str(outcome.path) if outcome.path else None
    if outcome.status is SendStatus.SENT:
        await db.run(record_digests_sent, db, [subscriber.id], now)
        result.status, result.papers = "sent", len(shown)
        return result
    await db.run(outbox.release, db, shown, outcome.error)
    result.error = outcome.error
    result.status = "failed"
    if outcome.status is SendStatus.PERMANENT:
        paused = await db.run(record_bounce, db, settings, subscriber.id, outcome.error or "refused")
        result.status = "bounced"
        if paused:
            log.warning("subscriber #%s paused after repeated permanent failures: %s", subscriber.id, outcome.error)
    return result


async def send_confirmation(
    settings: Settings,
    db: Database,
    subscriber_ref: str | int,
    now: datetime | None = None,
    *,
    transport: MailTransport | None = None,
) -> DigestResult:
    """Send the double opt-in mail (a signed, expiring confirm link) and remember when."""
    now = now or utcnow()
    subscriber = await db.run(get_subscriber, db, subscriber_ref)
    assert subscriber.id is not None
    confirm_url = link(settings, Purpose.CONFIRM, subscriber.id, subscriber.address)
    unsubscribe_url = link(settings, Purpose.UNSUBSCRIBE, subscriber.id, subscriber.address)
    mail = render_confirmation(settings, subscriber.address, confirm_url, unsubscribe_url)
    message = build_message(
        settings, to_address=subscriber.address, to_name=subscriber.display_name, mail=mail,
        message_id=confirmation_message_id(settings, subscriber.id, now), date=now, unsubscribe_url=unsubscribe_url,
        subscriber_id=subscriber.id, kind=MailKind.CONFIRMATION,
    )
    if await db.run(suppressed_among, db, [subscriber.address]):
        return DigestResult(subscriber.id, subscriber.address, "suppressed")
    own = transport is None
    active = transport or make_transport(settings)
    try:
        outcome = await active.send(message, envelope_from=verp_sender(settings, subscriber.id, subscriber.address))
    finally:
        if own:
            await active.close()
    result = DigestResult(subscriber.id, subscriber.address, "confirmation_sent", message_id=message["Message-ID"])
    result.path = str(outcome.path) if outcome.path else None
    if outcome.ok:
        await db.run(_record_confirmation_sent, db, subscriber.id, now)
        return result
    result.status, result.error = "failed", outcome.error
    if outcome.status is SendStatus.PERMANENT:
        result.status = "bounced"
        await db.run(record_bounce, db, settings, subscriber.id, outcome.error or "refused")
    return result


async def _send_chunk(
    settings: Settings,
    db: Database,
    chunk: list[Subscriber],
    transport: MailTransport,
    now: datetime,
    worker: str,
    in_flight: asyncio.Semaphore,
) -> list[DigestResult]:
    """Claim, load and summarize for many due subscribers at once (few transactions), then send each."""
    ids = [s.id for s in chunk if s.id is not None]
    claimed = await db.run(
        outbox.claim, db, worker_id=worker, subscriber_ids=ids, kind=SubscriberKind.EMAIL.value,
        limit=CLAIM_LIMIT * len(ids), message_id_domain=sender_domain(settings),
    )
    by_subscriber: dict[int, list[outbox.ClaimedDelivery]] = {}
    for row in claimed:
        by_subscriber.setdefault(row.subscriber_id, []).append(row)
    try:
        items = await load_items(
            settings, db, [(c.delivery_id, c.paper_id, c.subscription_id, c.explanation) for c in claimed]
        )
    except Exception as exc:
        await db.run(outbox.release, db, [c.delivery_id for c in claimed], f"loading failed: {exc}")
        raise
    items_of: dict[int, list[DigestItem]] = {}
    owner = {c.delivery_id: c.subscriber_id for c in claimed}
    for item in items:
        items_of.setdefault(owner[item.delivery_id], []).append(item)

    empty = [sid for sid in ids if sid not in by_subscriber]
    results = []
    if not settings.send_empty_digests:
        # The period is used up even when nothing matched: new papers wait for the next slot.
        await db.run(record_digests_sent, db, empty, now)
        results = [DigestResult(s.id or 0, s.address, "empty") for s in chunk if s.id in set(empty)]
    sending = [s for s in chunk if s.id in by_subscriber or settings.send_empty_digests]
    sent = await asyncio.gather(
        *(
            _send_one(
                settings, db, s, transport, now, by_subscriber.get(s.id or 0, []), items_of.get(s.id or 0, []),
                in_flight,
            )
            for s in sending
        )
    )
    return results + list(sent)


async def send_due_digests(
    settings: Settings,
    db: Database,
    now: datetime | None = None,
    *,
    subscriber_ref: str | int | None = None,
    dry_run: bool = False,
    force: bool = False,
    transport: MailTransport | None = None,
    chunk_size: int = 100,
) -> list[DigestResult]:
    """Send every due digest (all pending with `force`); one result per e-mail subscriber looked at.

    Unconfirmed addresses get the confirmation mail once; due subscribers are handled `chunk_size`
    at a time (one claim and one paper load per chunk), each chunk's digests sent concurrently
    through one transport (at most `smtp_concurrency` SMTP connections, reused).
    """
    now = now or utcnow()
    subscribers = await db.run(_email_subscribers, db, subscriber_ref)
    own = transport is None
    active = transport or make_transport(settings)
    worker = f"email-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    results: list[DigestResult] = []
    due: list[Subscriber] = []
    # Suppression pauses the subscriber too; this check also holds if a row was un-paused behind our back.
    suppressed = await db.run(suppressed_among, db, [s.address for s in subscribers])
    try:
        for subscriber in subscribers:
            assert subscriber.id is not None
            if subscriber.paused:
                results.append(DigestResult(subscriber.id, subscriber.address, "paused", error=subscriber.pause_reason))
            elif subscriber.address in suppressed:
                results.append(DigestResult(subscriber.id, subscriber.address, "suppressed"))
            elif subscriber.confirmed_at is None:
                if subscriber.confirmation_sent_at is not None or dry_run:
                    results.append(DigestResult(subscriber.id, subscriber.address, "unconfirmed"))
                else:
                    results.append(await send_confirmation(settings, db, subscriber.id, now, transport=active))
            elif not force and not is_due(subscriber, now):
                results.append(DigestResult(subscriber.id, subscriber.address, "not_due"))
            elif dry_run:
                rows = await db.run(_pending_rows, db, subscriber.id)
                results.append(DigestResult(subscriber.id, subscriber.address, "dry_run", papers=len(rows)))
            else:
                due.append(subscriber)
        in_flight = asyncio.Semaphore(settings.smtp_concurrency)
        for start in range(0, len(due), chunk_size):
            chunk = due[start : start + chunk_size]
            results.extend(await _send_chunk(settings, db, chunk, active, now, worker, in_flight))
    finally:
        if own:
            await active.close()
    order = {s.id: n for n, s in enumerate(subscribers)}
    return sorted(results, key=lambda r: order.get(r.subscriber_id, 0))


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
    subscriber = (await db.run(_email_subscribers, db, subscriber_ref))[0]
    assert subscriber.id is not None
    rows = await db.run(_pending_rows, db, subscriber.id)
    items = await load_items(settings, db, rows)
    rendered = await _render(settings, subscriber, items, now)
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
