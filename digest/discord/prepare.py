"""What a Discord delivery pass reads before posting, read for a chunk of due subscribers at once.

Called by digest.discord.delivery, which still posts one subscriber at a time (parts, nonces, ledger
marks and failures stay per subscriber). Per chunk, instead of a few statements and worker-thread hops
per subscriber:
  - one claim of the chunk's rows, each subscriber ending with exactly what a claim of its own would
    have given (`claim_chunk`: its lowest CLAIM_LIMIT rows);
  - one read and re-check of the chunk's rows (digest.services.items.load_items_many, with the process's
    memory of papers, item parts and re-checks, as `load_items` uses it);
  - one read of who can have a learned ranking and of the subscriptions' limits, then each digest's
    plan (digest.services.feedback: a subscriber without votes, or a member who never voted in a
    channel, costs no query);
  - the updates and query-health lines told after a digest (digest.services.digest_extras), read after
    the re-check, as when they were read per subscriber.
A failure stays with its subscriber: a load or plan that failed is handed to that subscriber's turn,
which fails (backs off, releases its rows) exactly where it failed before; extras that could not be
read are read again by that subscriber's turn.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from digest.core.assembly import DigestItem
from digest.services import feedback, outbox, outbox_holds
from digest.services.digest_extras import DigestExtras, load_extras_many
from digest.services.items import load_items_many, shared_memory_of
from digest.services.outbox import ClaimedDelivery
from digest.settings import Settings
from storage.db import Database
from storage.models import Schedule, Subscriber


@dataclass
class Prepared:
    """One subscriber's share of a chunk: its claimed rows and, when it has any, what its digest needs."""

    claimed: list[ClaimedDelivery]
    items: list[DigestItem] | BaseException | None = None
    plan: feedback.FeedbackPlan | BaseException | None = None  # digests only
    extras: DigestExtras | None = None  # digests only; None: read it in the subscriber's turn

    def loaded(self) -> list[DigestItem]:
        if isinstance(self.items, BaseException):
            raise self.items
        return self.items or []

    def planned(self) -> feedback.FeedbackPlan | None:
        if isinstance(self.plan, BaseException):
            raise self.plan
        return self.plan


async def give_back(db: Database, prepared: Prepared) -> None:
    """Rows a turn still holds when it ends (cancelled before or early in its turn) go back now, not at the
    lease's end; rows whose "sent" waits to be written stay held (digest.services.outbox_holds)."""
    held, waiting = outbox_holds.held(), {i for ids in outbox_holds.unrecorded().values() for i in ids}
    ids = [c.delivery_id for c in prepared.claimed if c.delivery_id in held and c.delivery_id not in waiting]
    if not ids:
        return
    try:
        await db.run(outbox.release, db, ids, None)
    finally:
        outbox_holds.let_go(ids)


def claim_chunk(db: Database, subscribers: Sequence[Subscriber], kinds: Sequence[str], limit: int, *,
                worker: str, now: datetime) -> dict[int, list[ClaimedDelivery]]:
    """Each subscriber's lowest `limit` claimable rows (as `limit`-row claims of their own), in one claim.

    The chunk's claim takes `limit` rows per subscriber in all, lowest ids first: a subscriber holding more
    than `limit` gives the rest back at once; when the chunk's claim came back full, the others may have
    been cut short and top their share up with a claim of their own (both only with a backlog that large).
    """
    ids = [s.id for s in subscribers if s.id is not None]
    total = limit * len(ids)
    rows = outbox.claim(db, worker_id=worker, subscriber_ids=ids, kind=list(kinds), limit=total,
                        batch_by="delivery", now=now)
    mine: dict[int, list[ClaimedDelivery]] = {sid: [] for sid in ids}
    for row in sorted(rows, key=lambda r: r.delivery_id):
        mine[row.subscriber_id].append(row)
    over = [row.delivery_id for claimed in mine.values() for row in claimed[limit:]]
    if over:
        outbox.release(db, over)
    for sid, claimed in mine.items():
        del claimed[limit:]
        if len(rows) >= total and len(claimed) < limit:
            claimed += outbox.claim(db, worker_id=worker, subscriber_ids=[sid], kind=list(kinds),
                                    limit=limit - len(claimed), batch_by="delivery", now=now)
    return mine


def _plans_and_extras(settings: Settings, db: Database, digests: dict[int, list[DigestItem]], now: datetime
                      ) -> tuple[dict[int, feedback.FeedbackPlan | BaseException], dict[int, DigestExtras]]:
    """Each digest's feedback plan and extras (blocking: one worker thread for the chunk)."""
    plans: dict[int, feedback.FeedbackPlan | BaseException] = {}
    if not digests:
        return plans, {}
    subscriptions = {i.subscription_id for items in digests.values() for i in items if i.subscription_id}
    try:
        inputs: feedback.PlanInputs | None = feedback.plan_inputs_many(db, list(digests), sorted(subscriptions),
                                                                       members_who_voted=True)
    except Exception:  # each plan then reads what it needs, and fails alone if it must
        inputs = None
    for sid, items in digests.items():
        try:
            plans[sid] = feedback.plan_for(db, sid, items, settings.feedback_representation, inputs)
        except Exception as exc:  # this digest fails in its own turn, as it did when planned there
            plans[sid] = exc
    try:
        extras = load_extras_many(db, list(digests), now)
    except Exception:  # read again per subscriber, where a failure only skips that notice
        extras = {}
    return plans, extras


async def prepare(settings: Settings, db: Database, subscribers: Sequence[Subscriber], claimed: dict[int, list[
                  ClaimedDelivery]], now: datetime) -> dict[int, Prepared]:
    """The chunk's items, plans and extras for its claimed rows (see the module docstring)."""
    out = {sid: Prepared(rows) for sid, rows in claimed.items()}
    wanted = {sid: [(c.delivery_id, c.paper_id, c.subscription_id, c.explanation) for c in rows]
              for sid, rows in claimed.items() if rows}
    if not wanted:
        return out
    try:
        loaded: dict[int, list[DigestItem] | Exception] = await load_items_many(
            settings, db, wanted, memory=shared_memory_of(settings, db))  # the process's memory, as load_items
    except Exception as exc:  # nothing could be read: every subscriber of the chunk fails its turn
        loaded = dict.fromkeys(wanted, exc)
    schedule = {s.id: s.schedule for s in subscribers}
    for sid, items in loaded.items():
        out[sid].items = items
    digests = {sid: items for sid, items in loaded.items()
               if not isinstance(items, BaseException) and schedule.get(sid) != Schedule.INSTANT}
    plans, extras = await db.run(_plans_and_extras, settings, db, digests, now)
    for sid, plan in plans.items():
        out[sid].plan = plan
        out[sid].extras = extras.get(sid)
    return out
