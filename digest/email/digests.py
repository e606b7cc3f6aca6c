"""Email digests: who is due, what they get, sending it once, and the double opt-in mail.

Called by `paperbell digest`, `paperbell demo`, the runtime scheduler and the web app's tests.
Per due subscriber: claim their pending ledger rows (digest.services.outbox), assemble + render
(digest.core.assembly, digest.email.render), send (digest.email.send), then mark the shown rows sent
at once. A failed send releases the rows (the ledger says "not sent"; the next run retries with
the same Message-ID); permanent 5xx failures count against the address and pause it after
`bounce_pause_threshold`. Unconfirmed addresses only ever get the one confirmation mail.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from email.message import Message
from typing import Literal

from digest.core.schedule import describe_next, is_due
from digest.email.already import render_already_subscribed
from digest.email.batch import BatchFacts, batches_of, load_batch
from digest.email.building import MailRefused, check_address, failure_of, links_for, prepare
from digest.email.failures import Failure, in_backoff, record_failure
from digest.email.headers import MailKind, verp_sender
from digest.email.message import build_message, confirmation_message_id, sender_domain
from digest.email.render import render_confirmation
from digest.email.rows import (
    Unclaimed,
    claim_due_batch,
    email_subscribers,
    has_undelivered,
    unclaim_held_back,
    unclaimed_facts,
)
from digest.email.send import MailTransport, SendOutcome, SendStatus, make_transport
from digest.services import outbox, outbox_holds, trending
from digest.services.confirmations import Claim, claim_confirmation, unclaim_confirmation
from digest.services.digest_extras import load_extras, silent_note_due
from digest.services.outbox_durable import recover
from digest.services.quiet_days import quiet_day_note_due
from digest.services.sent_batches import SentRecorder
from digest.services.subscribers import get_subscriber
from digest.services.suppression import suppressed_among
from digest.services.tokens import Purpose, link
from digest.settings import Settings
from storage.db import Database
from storage.models import Subscriber
from storage.outage import is_outage
from storage.types import utcnow

log = logging.getLogger(__name__)
CLAIM_LIMIT = 5000  # rows per subscriber, far above any digest; rows past it simply wait for the next run
BATCH_PER_SLOT = 8  # subscribers claimed together per SMTP connection: one claim feeds every connection a while


@dataclass
class DigestResult:
    subscriber_id: int
    address: str
    # sent | not_due | empty | unconfirmed | confirmation_sent | failed | bounced | paused | dry_run | suppressed
    # | backoff (waiting after a failure) | busy (rows held by another sender; the slot is not used up)
    status: str
    papers: int = 0  # papers recorded as delivered by this run (dry run: papers that would be)
    held_back: int = 0  # pending papers left for the next digest (size cap)
    message_id: str | None = None
    path: str | None = None
    error: str | None = None


async def _fail(
    settings: Settings, db: Database, result: DigestResult, failure: Failure, now: datetime
) -> DigestResult:
    """Record the failure on this subscriber only (backoff, maybe pause); everyone else carries on."""
    paused = await db.run(record_failure, db, settings, result.subscriber_id, failure, now)
    result.status = "bounced" if failure.permanent else "failed"
    result.error = failure.reason
    if paused:
        log.warning("subscriber #%s paused: %s", result.subscriber_id, failure.reason)
    return result


@dataclass
class _Pass:
    """What the subscribers of one pass share: the transport, the send slots and the ledger writer."""

    settings: Settings
    db: Database
    transport: MailTransport
    now: datetime
    worker: str
    in_flight: asyncio.Semaphore  # send + its ledger write: bounds what a kill -9 can duplicate
    recorder: SentRecorder
    spend_empty_slots: bool = True
    recheck_due: bool = True  # False for "send now" (forced): the schedule does not apply


async def _serve_batch(run: _Pass, subscribers: list[Subscriber]) -> list[DigestResult | BaseException]:
    """Claim and load many due subscribers at once (one claim, one read), then build, send and record each
    one's digest; any failure stays with its subscriber."""
    settings, db = run.settings, run.db
    still_due, claimed = await db.run(
        claim_due_batch, db, subscribers, run.now, worker=run.worker, recheck_due=run.recheck_due,
        limit_each=CLAIM_LIMIT, message_id_domain=sender_domain(settings),
    )
    try:
        by_subscriber: dict[int, list[outbox.ClaimedDelivery]] = {}
        for row in claimed:
            by_subscriber.setdefault(row.subscriber_id, []).append(row)
        empty = [i for i in sorted(still_due) if i not in by_subscriber]  # what their slot depends on, read at once
        unclaimed = (await db.run(unclaimed_facts, db, empty, run.now, quiet=run.spend_empty_slots)
                     if empty else Unclaimed())
        facts = await load_batch(settings, db, by_subscriber, sorted(still_due), run.now)

        async def one(subscriber: Subscriber) -> DigestResult:
            assert subscriber.id is not None
            if subscriber.id not in still_due:  # another sender served them since this pass began
                return DigestResult(subscriber.id, subscriber.address, "not_due")
            return await _deliver_claimed(run, subscriber, by_subscriber.get(subscriber.id, []),
                                          DigestResult(subscriber.id, subscriber.address, "empty"), facts,
                                          unclaimed)

        return await asyncio.gather(*(one(s) for s in subscribers), return_exceptions=True)
    finally:  # however this batch ended, no pass here works on these rows any more
        outbox_holds.let_go(c.delivery_id for c in claimed)


async def _nothing_claimed(
    run: _Pass, subscriber: Subscriber, result: DigestResult, facts: BatchFacts, unclaimed: Unclaimed
) -> tuple[DigestResult | None, str | None]:
    """A due subscriber with no rows claimed: their result now (busy, not known, period used up), or None
    and the notice of the empty digest that goes out (on a quiet arXiv day, the note saying why)."""
    assert subscriber.id is not None
    settings, db, now = run.settings, run.db, run.now
    # read with the batch; only if that read failed, now
    busy = subscriber.id in unclaimed.busy if unclaimed.busy is not None else None
    if busy or (busy is None and await db.run(has_undelivered, db, subscriber.id)):
        result.status = "busy"  # rows held by another live sender (or new): the slot is NOT used up
        return result, None
    if not run.spend_empty_slots:
        result.status = "not_known"  # matching failed: "nothing pending" is not known, the slot stays open
        return result, None
    # a trending subscriber is told about a quiet day rather than left wondering
    quiet = unclaimed.quiet.get(subscriber.id)
    if quiet is None:
        quiet = await db.run(trending.quiet_today, db, subscriber.id, now)
    notice = trending.QUIET_NOTICE if quiet else None
    known = facts.extras.get(subscriber.id)  # read with the batch: its weekly "matched nothing" note
    silent = bool(known.silent) if known is not None else await db.run(silent_note_due, db, subscriber.id, now)
    if not (notice or settings.send_empty_digests or quiet_day_note_due(settings, subscriber, now) or silent):
        # truly nothing pending: the period is used up, new papers wait for the next slot
        await run.recorder.record([], subscriber.id)
        return result, None
    return None, notice


async def _deliver_claimed(
    run: _Pass, subscriber: Subscriber, claimed: list[outbox.ClaimedDelivery], result: DigestResult,
    facts: BatchFacts, unclaimed: Unclaimed,
) -> DigestResult:
    """Build, send and record one subscriber's claimed rows (or record the empty period)."""
    assert subscriber.id is not None
    settings, db, now = run.settings, run.db, run.now
    ids = [c.delivery_id for c in claimed]
    notice = None
    if not claimed:
        done, notice = await _nothing_claimed(run, subscriber, result, facts, unclaimed)
        if done is not None:
            return done
    try:
        extras = facts.extras.get(subscriber.id)  # lifecycle updates, query health (read with the batch)
        if extras is None:
            extras = await db.run(load_extras, db, subscriber.id, now)
        message, shown, held_back = await prepare(settings, db, subscriber, claimed, now, notice,
                                                  facts.items.get(subscriber.id), extras, facts.plan_inputs)
    except Exception as exc:  # isolation: encoding, data, template, address: this subscriber only
        if is_outage(exc):  # the database, not this subscriber: the pass stops, the rows go back at the next poll
            raise
        failure = failure_of(exc, "building the digest")
        if not isinstance(exc, MailRefused):
            log.exception("digest for subscriber #%s could not be built", subscriber.id)
        await db.run(outbox.release, db, ids, failure.reason)
        return await _fail(settings, db, result, failure, now)
    if held_back:
        await db.run(unclaim_held_back, db, held_back)
    wanted_empty = (bool(notice) or settings.send_empty_digests or quiet_day_note_due(settings, subscriber, now)
                    or bool(extras.silent))
    if not shown and not wanted_empty:
        # every claimed paper was dropped at claim time (an edited query no longer matches it): nothing to send
        await run.recorder.record([], subscriber.id)
        return result
    result.message_id, result.held_back = message["Message-ID"], len(held_back)
    # A slot covers send AND the ledger write (grouped with other sends' by the recorder), so at most
    # `smtp_concurrency` messages are ever accepted by the server but not yet recorded: that bounds the
    # duplicates a kill -9 can cause.
    async with run.in_flight:
        outcome: SendOutcome = await run.transport.send(
            message, envelope_from=verp_sender(settings, subscriber.id, subscriber.address))
        if outcome.status is SendStatus.SENT:  # retried through a database restart: a lost "sent" is a resend
            await run.recorder.record(shown, subscriber.id, extras)  # with the updates it told, in one write
    result.path = str(outcome.path) if outcome.path else None
    if outcome.status is SendStatus.SENT:
        result.status, result.papers = "sent", len(shown)
        return result
    await db.run(outbox.release, db, shown, outcome.error)
    failure = Failure(outcome.error or "refused", permanent=outcome.status is SendStatus.PERMANENT)
    return await _fail(settings, db, result, failure, now)


async def _send_confirmation(
    settings: Settings, subscriber: Subscriber, transport: MailTransport, now: datetime
) -> tuple[Message, SendOutcome]:
    assert subscriber.id is not None
    check_address(subscriber)
    confirm_url = link(settings, Purpose.CONFIRM, subscriber.id, subscriber.address)
    unsubscribe_url = link(settings, Purpose.UNSUBSCRIBE, subscriber.id, subscriber.address)
    manage_url = links_for(settings, subscriber).manage_url
    if subscriber.confirmed_at is not None:  # asked again: say so and where to manage, change nothing
        mail = render_already_subscribed(subscriber.address, manage_url, unsubscribe_url,
                                         describe_next(subscriber, now))
    else:
        mail = render_confirmation(settings, subscriber.address, confirm_url, unsubscribe_url,
                                   manage_url=manage_url, first_digest=describe_next(subscriber, now))
    message = build_message(
        settings, to_address=subscriber.address, to_name=subscriber.display_name, mail=mail,
        message_id=confirmation_message_id(settings, subscriber.id, now), date=now, unsubscribe_url=unsubscribe_url,
        subscriber_id=subscriber.id, kind=MailKind.CONFIRMATION,
    )
    return message, await transport.send(
        message, envelope_from=verp_sender(settings, subscriber.id, subscriber.address))


async def send_confirmation(
    settings: Settings,
    db: Database,
    subscriber_ref: str | int,
    now: datetime | None = None,
    *,
    transport: MailTransport | None = None,
    seen_sent_at: datetime | Literal["current"] | None = "current",
) -> DigestResult:
    """Send the double opt-in mail (a signed, expiring confirm link) and remember when.

    `seen_sent_at` is when the caller last saw a confirmation go out (None: never; "current": whatever
    the row says now, for an explicit resend). Only one of several callers that saw the same value sends
    (digest.services.confirmations); the others get status "already_sent", or "capped" over the hourly cap.
    """
    now = now or utcnow()
    subscriber = await db.run(get_subscriber, db, subscriber_ref)
    assert subscriber.id is not None
    if await db.run(suppressed_among, db, [subscriber.address]):
        return DigestResult(subscriber.id, subscriber.address, "suppressed")
    previous = subscriber.confirmation_sent_at if seen_sent_at == "current" else seen_sent_at
    claim = await db.run(claim_confirmation, db, subscriber.id, previous, now, settings.confirmation_mails_per_hour)
    if claim is not Claim.CLAIMED:
        return DigestResult(subscriber.id, subscriber.address, claim.value)
    result = DigestResult(subscriber.id, subscriber.address, "confirmation_sent")
    own = transport is None
    active = transport or make_transport(settings)
    try:
        message, outcome = await _send_confirmation(settings, subscriber, active, now)
    except Exception as exc:  # isolation: a confirmation that cannot be built fails alone
        if not isinstance(exc, MailRefused):
            log.exception("confirmation for subscriber #%s could not be built", subscriber.id)
        await db.run(unclaim_confirmation, db, subscriber.id, now, previous)
        return await _fail(settings, db, result, failure_of(exc, "building the confirmation"), now)
    finally:
        if own:
            await active.close()
    result.message_id = message["Message-ID"]
    result.path = str(outcome.path) if outcome.path else None
    if outcome.ok:
        return result
    await db.run(unclaim_confirmation, db, subscriber.id, now, previous)
    failure = Failure(outcome.error or "refused", permanent=outcome.status is SendStatus.PERMANENT)
    return await _fail(settings, db, result, failure, now)


async def _triage(
    settings: Settings, db: Database, subscriber: Subscriber, now: datetime, *, dry_run: bool, force: bool,
    chosen: bool, transport: MailTransport,
) -> DigestResult | None:
    """The result for a subscriber who gets no digest in this pass, or None when their digest is due."""
    assert subscriber.id is not None
    if subscriber.paused:
        return DigestResult(subscriber.id, subscriber.address, "paused", error=subscriber.pause_reason)
    if in_backoff(subscriber, now) and not chosen:
        return DigestResult(subscriber.id, subscriber.address, "backoff", error=subscriber.last_send_error)
    if subscriber.confirmed_at is None:
        if subscriber.confirmation_sent_at is not None or dry_run:
            return DigestResult(subscriber.id, subscriber.address, "unconfirmed")
        return await send_confirmation(settings, db, subscriber.id, now, transport=transport, seen_sent_at=None)
    if not force and not is_due(subscriber, now):
        return DigestResult(subscriber.id, subscriber.address, "not_due")
    if dry_run:
        rows = await db.run(outbox.pending_rows, db, subscriber.id)
        return DigestResult(subscriber.id, subscriber.address, "dry_run", papers=len(rows))
    return None


async def send_due_digests(
    settings: Settings,
    db: Database,
    now: datetime | None = None,
    *,
    subscriber_ref: str | int | None = None,
    dry_run: bool = False,
    force: bool = False,
    transport: MailTransport | None = None,
    spend_empty_slots: bool = True,
) -> list[DigestResult]:
    """Send every due digest (all pending with `force`); one result per e-mail subscriber looked at.

    `spend_empty_slots=False` (after a failed match, "nothing pending" is not known): a due subscriber
    with nothing pending keeps the period open (status "not_known") instead of using it up.

    Abandoned claims (a killed sender) are recovered first. Unconfirmed addresses get the confirmation
    mail once; subscribers in backoff after a failure wait (unless named with `subscriber_ref`). Due
    subscribers are served concurrently, each claiming only its own rows just before its send, through
    one transport (at most `smtp_concurrency` SMTP connections, reused).
    """
    now = now or utcnow()
    settings.signing_key()  # a bad key is a configuration error: stop before touching any subscriber
    if not dry_run:
        await db.run(recover, db, grace_seconds=settings.presence_grace_seconds)
    subscribers = await db.run(email_subscribers, db, subscriber_ref)
    own = transport is None
    active = transport or make_transport(settings)
    run = _Pass(settings, db, active, now, f"email-{uuid.uuid4().hex[:8]}",
                asyncio.Semaphore(settings.smtp_concurrency),
                SentRecorder(db, now, settings.database_outage_seconds), spend_empty_slots, recheck_due=not force)
    try:
        results, due = await _triage_all(settings, db, subscribers, now, dry_run=dry_run, force=force,
                                         chosen=subscriber_ref is not None, transport=active)
        results.extend(await _serve_all(run, due))
    finally:
        if own:
            await active.close()
    order = {s.id: n for n, s in enumerate(subscribers)}
    return sorted(results, key=lambda r: order.get(r.subscriber_id, 0))


async def _triage_all(settings: Settings, db: Database, subscribers: list[Subscriber], now: datetime, *,
                      dry_run: bool, force: bool, chosen: bool, transport: MailTransport
                      ) -> tuple[list[DigestResult], list[Subscriber]]:
    """(results of the subscribers settled without a send, the due ones to serve), in the pass's order."""
    results: list[DigestResult] = []
    due: list[Subscriber] = []
    # Suppression pauses the subscriber too; this check also holds if a row was un-paused behind our back.
    suppressed = await db.run(suppressed_among, db, [s.address for s in subscribers])
    for subscriber in subscribers:
        if subscriber.address in suppressed:
            results.append(DigestResult(subscriber.id or 0, subscriber.address, "suppressed"))
            continue
        triaged = await _triage(settings, db, subscriber, now, dry_run=dry_run, force=force, chosen=chosen,
                                transport=transport)
        if triaged is None:
            due.append(subscriber)
        else:
            results.append(triaged)
    return results, due


async def _serve_all(run: _Pass, due: list[Subscriber]) -> list[DigestResult]:
    """Serve the due subscribers in batches, the next batch's claims and renders while this one sends.

    Every send is waited for, even when one failed (a send cut off after the server accepted it would
    be sent again); the first error is raised once all have finished.
    """
    working = asyncio.Semaphore(2)  # claims + renders of the next batch run while this one sends

    async def serve(batch: list[Subscriber]) -> list[DigestResult | BaseException]:
        async with working:
            return await _serve_batch(run, batch)

    batches = batches_of(due, BATCH_PER_SLOT * run.settings.smtp_concurrency, rotate=run.db.is_postgres)
    served: list[DigestResult | BaseException] = []
    for outcome in await asyncio.gather(*(serve(b) for b in batches), return_exceptions=True):
        served.extend(outcome if isinstance(outcome, list) else [outcome])
    errors = [r for r in served if isinstance(r, BaseException)]
    if errors:
        raise errors[0]
    return [r for r in served if isinstance(r, DigestResult)]
