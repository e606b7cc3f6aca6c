"""Discord delivery: pending ledger rows of due Discord subscribers → embed messages → marked sent, once.

Called by the runtime scheduler (with the live bot's poster), `paperbell demo` (outbox poster, no token),
tests and bench/discord.py. Channel subscribers with schedule `instant` get one message per paper as it
is matched; `daily`/`weekly` subscribers (digest.core.schedule.is_due) get one digest, batched into as
few messages as Discord's limits allow. Rows go through digest.services.outbox (claim → mark_sent), the
same ledger as email, so each (subscriber, paper) is posted once.

Idempotent parts: a message's nonce is derived from what it carries (the subscriber and its paper ids),
and its rows are marked sent only when Discord acknowledged THAT message. When the outcome of a send is
unknown (a dropped connection, a timeout), the rows of that part are pinned together (their message id
becomes the part key) so the retry re-sends the very same set of papers under the same nonce and
Discord's `enforce_nonce` returns the first message instead of posting again. Bound: Discord keeps nonces
for "a few minutes"; a retry later than that after a lost reply can repeat that one message.
Forum posts and webhook executions (digest.discord.placement) have no nonce
on Discord: after a lost reply there, the retry can repeat that one post.

Errors, three kinds (the poster classifies Discord's answers):
  - `MessageRejected` (400 50035 invalid form body and kin): this one message can never be sent; its
    papers are marked FAILED with the reason and the subscriber's other papers go on in the same pass.
  - `DeliveryRefused` (50001, 50007, 50013, 50033, 10003, other 403/404): nothing can reach this target;
    the subscriber is paused with the reason and someone is told.
  - anything else is transient: the rows go back to pending and the subscriber waits an exponentially
    growing, capped delay (`TransientBackoff`) before the next try, so a broken target costs one failed
    request per back-off step, far below Discord's invalid-request limit.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import update
from sqlmodel import col, select

from digest.core.assembly import Digest, DigestItem, build_digest
from digest.core.schedule import is_due
from digest.discord.caps import Extra, split_at_cap
from digest.discord.components import with_vote_buttons
from digest.discord.placement import Placement, dress, later_part, placement_for
from digest.discord.prepare import Prepared, claim_chunk, give_back, prepare
from digest.discord.render import Message, digest_messages, instant_messages, pack, paper_embed
from digest.discord.styles import pack_lines, paper_line, styled_digest, styled_instant
from digest.discord.targets import TargetOptions, get_target
from digest.discord.updates import tell_updates
from digest.services import feedback, outbox, outbox_holds
from digest.services.items import load_items, recipient_of
from digest.services.outbox import ClaimedDelivery
from digest.services.outbox_durable import mark_sent_durably
from digest.services.posting import post_key
from digest.services.quiet_days import tell_trending_quiet
from digest.services.subscribers import record_digests_sent, set_subscriber_paused
from digest.settings import Settings
from storage.db import Database
from storage.models import Delivery, Schedule, Subscriber, SubscriberKind
from storage.types import utcnow

log = logging.getLogger(__name__)
DISCORD_KINDS = (SubscriberKind.DISCORD_CHANNEL.value, SubscriberKind.DISCORD_USER.value)
CLAIM_LIMIT = 2000
DIGEST_MAX_ITEMS = 50  # five messages of ten embeds; the rest stays pending for the next digest
CONCURRENCY = 16  # subscribers posted to at once (each channel has its own rate-limit bucket)
CHUNK = 50  # subscribers whose rows are claimed and read together (digest.discord.prepare)
PART_PREFIX = "discord-part:"  # message id of rows pinned to one part after an unknown outcome


class DeliveryRefused(Exception):
    """Nothing can reach this target (deleted channel, missing permission, closed DMs): pause, don't retry."""


class MessageRejected(Exception):
    """Discord refused this one message for good (400 50035 invalid form body, …): fail its papers, go on."""


class Poster(Protocol):
    """Where messages go: the live bot (bot.poster.BotPoster) or the outbox writer (digest.discord.outbox_poster)."""

    backoff: TransientBackoff

    async def post(self, kind: str, address: str, message: dict[str, Any], *, nonce: str,
                   placement: Placement | None = None) -> str:
        """Post one message to a channel (`discord_channel`) or a user's DMs; return its message id.

        `placement` (channel subscribers with target options): a forum post, a message in a
        thread, a webhook message, maybe with a thread opened under it; the id returned is then the
        message's, which is also the id of any thread it started.

        `nonce` is the same for the same papers when they are re-sent (Discord's `enforce_nonce` then
        returns the first message instead of posting twice). Raises DeliveryRefused / MessageRejected
        for permanent refusals; any other exception is treated as transient.
        """
        ...

    async def notify_paused(self, subscriber: Subscriber, reason: str) -> None:
        """Tell the server's admins (channel) or the member why deliveries were paused."""
        ...


class TransientBackoff:
    """Per-subscriber delay after transient failures: base · 2^(failures-1), capped; reset by a success.

    Kept by the long-lived poster, so it spans delivery passes of one process.
    """

    def __init__(self, base: float = 30.0, cap: float = 1800.0, clock: Any = time.monotonic) -> None:
        self.base, self.cap, self.clock = base, cap, clock
        self._state: dict[int, tuple[int, float]] = {}  # subscriber id -> (failures, not before)

    def ready(self, subscriber_id: int) -> bool:
        return self.clock() >= self._state.get(subscriber_id, (0, 0.0))[1]

    def failed(self, subscriber_id: int, at_least: float = 0.0) -> float:
        failures = self._state.get(subscriber_id, (0, 0.0))[0] + 1
        delay = max(at_least, min(self.cap, self.base * 2 ** (failures - 1)))  # at_least: Discord's retry_after
        self._state[subscriber_id] = (failures, self.clock() + delay)
        return delay

    def succeeded(self, subscriber_id: int) -> None:
        self._state.pop(subscriber_id, None)


@dataclass
class DiscordDeliveryReport:
    messages: int = 0
    papers: int = 0
    subscribers: int = 0
    failed: int = 0  # papers quarantined because Discord rejected their message for good
    paused: list[tuple[int, str]] = field(default_factory=list)
    rejected: list[tuple[int, str]] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)
    backing_off: int = 0  # subscribers skipped this pass because of a recent transient failure


def part_nonce(subscriber_id: int, paper_ids: Sequence[int]) -> str:
    """A Discord nonce (≤ 25 characters) derived from what a message carries: who gets it, which papers.

    The same papers to the same subscriber always get the same nonce; a different set never does, so a
    retry can never be mistaken for an earlier, different message.
    """
    return post_key(subscriber_id, paper_ids)[:25]  # the chat channels' key, cut to Discord's nonce length


@dataclass
class Part:
    """One message and the ledger rows (delivery id, paper id) it carries."""

    delivery_ids: list[int]
    paper_ids: list[int]
    message: Message


def due_subscribers(db: Database, now: datetime) -> list[Subscriber]:
    with db.session() as session:
        rows = session.exec(
            select(Subscriber)
            .where(col(Subscriber.kind).in_(DISCORD_KINDS), Subscriber.paused == False)  # noqa: E712
            .order_by(col(Subscriber.id))
        ).all()
    return [s for s in rows if s.confirmed_at is not None and is_due(s, now)]


def _pin_part(db: Database, delivery_ids: list[int], key: str) -> None:
    """Rows whose send had an unknown outcome keep travelling together under one part key."""
    with db.session() as session:
        session.execute(update(Delivery).where(col(Delivery.id).in_(delivery_ids)).values(message_id=key))


async def deliver_discord(
    settings: Settings, db: Database, poster: Poster, now: datetime | None = None, *, worker_id: str | None = None,
    spend_empty_slots: bool = True,
) -> DiscordDeliveryReport:
    """Post everything due to every Discord subscriber once; see the module docstring.

    `spend_empty_slots=False` (after a failed match: "nothing pending" is not known) leaves a digest
    period with nothing to post open, so the papers that match later still go out in it.
    """
    now = now or utcnow()
    worker = worker_id or f"discord-{os.getpid()}"
    report = DiscordDeliveryReport()
    subscribers = await db.run(due_subscribers, db, now)
    report.subscribers = len(subscribers)
    ready = [s for s in subscribers if s.id is not None and poster.backoff.ready(s.id)]
    report.backing_off = len(subscribers) - len(ready)
    gate = asyncio.Semaphore(CONCURRENCY)
    ahead = asyncio.Semaphore(2 * CHUNK)  # claimed but not done: one chunk is read while the one before posts

    async def one(subscriber: Subscriber, prepared: Prepared) -> None:
        try:
            async with gate:
                await _deliver_to(settings, db, poster, subscriber, prepared, now, report, spend_empty_slots)
        finally:
            ahead.release()
            await give_back(db, prepared)  # a turn cut short (the pass cancelled) holds nothing past its end

    turns: list[asyncio.Task[None]] = []
    try:
        for start in range(0, len(ready), CHUNK):
            chunk = ready[start : start + CHUNK]
            for _ in chunk:
                await ahead.acquire()
            claimed = await db.run(claim_chunk, db, chunk, DISCORD_KINDS, CLAIM_LIMIT, worker=worker, now=now)
            prepared = await prepare(settings, db, chunk, claimed, now)
            turns += [asyncio.create_task(one(s, prepared[s.id])) for s in chunk if s.id is not None]
    except BaseException as failed:  # every turn ends (cancelled with the pass, or finished) before the pass does
        for turn in turns if isinstance(failed, asyncio.CancelledError) else ():
            turn.cancel()
        await asyncio.gather(*turns, return_exceptions=True)
        raise
    for outcome in await asyncio.gather(*turns, return_exceptions=True):  # all of them, even when cancelled
        if isinstance(outcome, BaseException):
            raise outcome
    return report


def _digest_batches(digest: Digest, period: str, style: str, folded: set[int]) -> list[tuple[list[int], Message]]:
    """The digest's messages: papers within their query's limits in full (or in `style`), then the papers
    past a limit (`max_items`/`min_score`, digest.services.feedback) as one-line title links, one click away."""
    past = [item for item in digest.items if item.paper_id in folded]
    if past:
        digest = replace(digest, groups=[
            replace(group, items=[i for i in group.items if i.paper_id not in folded]) for group in digest.groups
        ])
    batches = digest_messages(digest, period) if style == "full" else styled_digest(digest, period, style)
    if past:
        which = "this query" if len(digest.groups) == 1 else "these queries"
        header = f"↳ {len(past)} more past your limits for {which}:"
        batches += pack_lines([(item.delivery_id, paper_line(item, "titles")) for item in past], header=header)
    return batches


def _parts(subscriber: Subscriber, claimed: list[ClaimedDelivery], items: list[DigestItem], now: datetime,
           plan: feedback.FeedbackPlan | None = None, style: str = "full") -> list[Part]:
    """Messages to send: first each pinned part exactly as before, then the rest packed afresh."""
    by_delivery = {item.delivery_id: item for item in items}
    pinned: dict[str, list[DigestItem]] = {}
    for row in claimed:
        if row.message_id.startswith(PART_PREFIX) and row.delivery_id in by_delivery:
            pinned.setdefault(row.message_id, []).append(by_delivery.pop(row.delivery_id))
    parts: list[Part] = []
    for group in pinned.values():
        if style != "full":  # the same lines as before, so the same papers travel together again
            for ids, message in pack_lines([(i.delivery_id, paper_line(i, style)) for i in group]):
                parts.append(_part(ids, [i.paper_id for i in group if i.delivery_id in ids], message))
            continue
        for message in pack([paper_embed(item) for item in group]):
            count = len(message.get("embeds", []))
            chunk, group = group[:count], group[count:]
            parts.append(_part([i.delivery_id for i in chunk], [i.paper_id for i in chunk], message))
    rest = [item for item in items if item.delivery_id in by_delivery]
    paper_of = {item.delivery_id: item.paper_id for item in items}
    if subscriber.schedule == Schedule.INSTANT:
        batches = instant_messages(rest) if style == "full" else styled_instant(rest, style)
    else:
        digest = build_digest(recipient_of(subscriber), rest, now=now, max_items=DIGEST_MAX_ITEMS,
                              **({"rank": plan.rank} if plan is not None else {}))
        folded = plan.folded if plan is not None else set()
        batches = _digest_batches(digest, subscriber.schedule, style, folded) if digest.items else []
    parts += [_part(ids, [paper_of[i] for i in ids], message) for ids, message in batches]
    return parts


def _part(delivery_ids: list[int], paper_ids: list[int], message: Message) -> Part:
    """Every part, whatever its target or style, carries its papers' vote buttons (the one place that adds them)."""
    return Part(delivery_ids, paper_ids, with_vote_buttons(message, paper_ids))


async def _deliver_to(
    settings: Settings, db: Database, poster: Poster, subscriber: Subscriber, prepared: Prepared, now: datetime,
    report: DiscordDeliveryReport, spend_empty_slots: bool = True,
) -> None:
    assert subscriber.id is not None
    instant = subscriber.schedule == Schedule.INSTANT
    # Rows are claimed per delivery (not one message id per subscriber, as the email batch): a Discord digest
    # is cut into parts here, and rows pinned to a part after an unknown outcome come back with everything due.
    claimed = prepared.claimed
    await tell_updates(db, poster, subscriber, now)  # instant targets: a paper's new version, DOI, code as a post
    if not claimed:
        try:  # a trending subscription that found nothing today says so once, instead of silence
            report.messages += await tell_trending_quiet(db, poster, subscriber, now)
        except Exception as exc:  # a notice must never stop delivery
            log.warning("trending quiet-day notice to %s not posted: %s", subscriber.address, exc)
        if not instant and spend_empty_slots:
            await db.run(record_digests_sent, db, [subscriber.id], now)  # the period is used up even when empty
        return
    unsent = {c.delivery_id for c in claimed}
    error: str | None = None
    try:
        items = prepared.loaded()  # read for the chunk (digest.discord.prepare); a failed read fails here
        plan = prepared.planned()  # digests: the subscriber's 👍/👎 order it (today's order without votes)
        target = TargetOptions()
        if subscriber.kind == SubscriberKind.DISCORD_CHANNEL:
            target = await db.run(get_target, db, subscriber.id)
        by_id = {item.delivery_id: item for item in items}
        extra: list[Extra] = []
        if target.daily_cap is not None:  # caps.py
            items, extra = await db.run(split_at_cap, db, settings, subscriber, target.daily_cap, items, now)
        started: str | None = None  # the thread the first part of this digest started
        parts = _parts(subscriber, claimed, items, now, plan, target.style) + [Part(*e) for e in extra]
        for index, part in enumerate(parts):
            placement = None
            if not target.is_default:
                papers = [by_id[i] for i in part.delivery_ids]
                part.message = dress(part.message, target, first=index == 0, instant=instant, items=papers)
                placement = placement_for(target, subscriber.address, papers, instant=instant, now=now, thread_id=None)
                placement = later_part(placement, None if instant else started)
            message_id, error = await _send_part(db, poster, subscriber, part, report, placement)
            if placement is not None and placement.starts_thread and index == 0 and not instant:
                started = message_id
            unsent.difference_update(part.delivery_ids)
        if not instant:
            await tell_updates(db, poster, subscriber, now, digest=True,  # folded in after the digest
                               extras=prepared.extras)
            await db.run(record_digests_sent, db, [subscriber.id], now)
        poster.backoff.succeeded(subscriber.id)
    except DeliveryRefused as refused:
        error = str(refused)
        await _pause(db, poster, subscriber, error, report)
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"[:500]
        report.errors.append((subscriber.id, error))
        delay = poster.backoff.failed(subscriber.id, float(getattr(exc, "retry_after", 0.0) or 0.0))
        log.warning("discord: delivery to %s failed, next try in %.0f s: %s", subscriber.address, delay, error)
    finally:
        if unsent:  # not posted (over the digest cap, refused or failed): back to pending for later
            await db.run(outbox.release, db, sorted(unsent), error)
        outbox_holds.let_go(c.delivery_id for c in claimed)


async def _send_part(db: Database, poster: Poster, subscriber: Subscriber, part: Part,
                     report: DiscordDeliveryReport, placement: Placement | None = None
                     ) -> tuple[str | None, str | None]:
    """Send one part; its rows end SENT (acknowledged) or FAILED (rejected). Returns (message id, rejection).

    Any other exception propagates after pinning the part, so a retry sends exactly these papers again.
    """
    assert subscriber.id is not None
    nonce = part_nonce(subscriber.id, part.paper_ids)
    try:
        if placement is None:  # plain channels and DMs: the poster's original call
            message_id = await poster.post(subscriber.kind, subscriber.address, part.message, nonce=nonce)
        else:
            message_id = await poster.post(subscriber.kind, subscriber.address, part.message, nonce=nonce,
                                           placement=placement)
    except MessageRejected as rejected:
        reason = f"Discord rejected the message: {rejected}"[:500]
        await db.run(outbox.mark_failed, db, part.delivery_ids, reason)
        report.failed += len(part.delivery_ids)
        report.rejected.append((subscriber.id, reason))
        log.warning("discord: %s papers to %s quarantined: %s", len(part.delivery_ids), subscriber.address, reason)
        return None, reason
    except DeliveryRefused:
        raise
    except BaseException:
        # Unknown outcome (maybe posted, reply lost): keep these papers together under their nonce.
        await db.run(_pin_part, db, part.delivery_ids, PART_PREFIX + nonce)
        raise
    await db.run(mark_sent_durably, db, part.delivery_ids, message_id, now=utcnow())  # through a db restart
    report.messages += 1
    report.papers += len(part.delivery_ids)
    return message_id, None


async def _pause(db: Database, poster: Poster, subscriber: Subscriber, reason: str,
                 report: DiscordDeliveryReport) -> None:
    assert subscriber.id is not None
    await db.run(set_subscriber_paused, db, subscriber.id, True, reason)
    report.paused.append((subscriber.id, reason))
    log.warning("discord: paused %s %s: %s", subscriber.kind, subscriber.address, reason)
    try:
        await poster.notify_paused(subscriber, reason)
    except Exception:  # telling someone is best effort; the pause itself is recorded
        log.exception("discord: could not report the pause of %s", subscriber.address)


async def pending_digest(
    settings: Settings, db: Database, subscriber: Subscriber, now: datetime | None = None
) -> tuple[int, list[dict[str, Any]]]:
    """What is waiting for a subscriber right now, rendered as digest messages, WITHOUT sending or claiming.

    Used by the bot's /digest; returns (pending paper count, messages).
    """
    assert subscriber.id is not None
    now = now or utcnow()
    rows = await db.run(outbox.pending_rows, db, subscriber.id)
    items = await load_items(settings, db, rows)
    digest = build_digest(recipient_of(subscriber), items, now=now, max_items=DIGEST_MAX_ITEMS)
    return len(items), [message for _, message in digest_messages(digest, "pending")]  # dropped rows not counted
