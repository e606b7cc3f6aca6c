"""One subscriber's e-mail digest built: items loaded, ordered by their votes, rendered, made a message.

Used by digest.email.digests (the delivery pass and the preview). Rendering is CPU work (templates,
CSS inlining, training on votes) and runs in a worker thread, off the event loop. A digest that
cannot be built raises `MailRefused` (or whatever broke), which the caller records on that subscriber
alone.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from email.message import Message

from digest.core.address import address_problem
from digest.core.assembly import DigestItem
from digest.email.failures import Failure
from digest.email.feedback_view import feedback_hook
from digest.email.message import build_message, sender_domain
from digest.email.render import Links, RenderedDigest, render_capped
from digest.services import feedback, outbox
from digest.services.digest_extras import DigestExtras, with_extras
from digest.services.items import Row, load_items, recipient_of
from digest.services.tokens import Purpose, link
from digest.settings import Settings
from storage.db import Database
from storage.models import Subscriber


def links_for(settings: Settings, subscriber: Subscriber) -> Links:
    assert subscriber.id is not None
    return Links(
        manage_url=link(settings, Purpose.MANAGE, subscriber.id, subscriber.address),
        unsubscribe_url=link(settings, Purpose.UNSUBSCRIBE, subscriber.id, subscriber.address),
    )


async def render(
    settings: Settings, db: Database, subscriber: Subscriber, items: list[DigestItem], now: datetime,
    notice: str | None = None, extras: DigestExtras | None = None, plan_inputs: feedback.PlanInputs | None = None,
) -> RenderedDigest:
    # Rendering is CPU work (templates + CSS inlining, training on votes): keep it off the event loop.
    return await asyncio.to_thread(render_blocking, settings, db, subscriber, items, now, notice, extras, plan_inputs)


def render_blocking(
    settings: Settings, db: Database, subscriber: Subscriber, items: list[DigestItem], now: datetime,
    notice: str | None = None, extras: DigestExtras | None = None, plan_inputs: feedback.PlanInputs | None = None,
    links: Links | None = None,
) -> RenderedDigest:
    """Order by what the subscriber liked (today's order when they never voted), with vote links.
    `plan_inputs`: the batch's votes and limits, read once for all its subscribers."""
    assert subscriber.id is not None
    plan = feedback.plan_for(db, subscriber.id, items, settings.feedback_representation, plan_inputs)
    hook = feedback_hook(settings, subscriber.id, subscriber.address, plan, plan.counts.describe())
    if extras is not None:  # lifecycle updates and query health (digest.services.digest_extras)
        hook = with_extras(hook, extras)
    return render_capped(
        settings, recipient_of(subscriber), items, links or links_for(settings, subscriber), now=now, rank=plan.rank,
        extra=hook, notice=notice,
    )


class MailRefused(Exception):
    """This subscriber's mail cannot be built or sent; carries the failure to record on them."""

    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.reason)
        self.failure = failure


def failure_of(exc: BaseException, stage: str) -> Failure:
    if isinstance(exc, MailRefused):
        return exc.failure
    return Failure(f"{stage} failed: {type(exc).__name__}: {exc}"[:1000])


def check_address(subscriber: Subscriber) -> None:
    problem = address_problem(subscriber.address)
    if problem is not None:  # stored before the door checks: can never be delivered, pause at once
        raise MailRefused(Failure(f"undeliverable address: {problem}", fatal=True))


def _rendered_message(
    settings: Settings, db: Database, subscriber: Subscriber, items: list[DigestItem], now: datetime,
    notice: str | None, extras: DigestExtras | None, plan_inputs: feedback.PlanInputs | None, message_id: str,
) -> tuple[RenderedDigest, Message]:
    """Render and build the message in one worker-thread hop: both are CPU work (building encodes ~100 kB)."""
    assert subscriber.id is not None
    links = links_for(settings, subscriber)  # signed once for the page and the List-Unsubscribe header
    rendered = render_blocking(settings, db, subscriber, items, now, notice, extras, plan_inputs, links)
    return rendered, build_message(
        settings, to_address=subscriber.address, to_name=subscriber.display_name, mail=rendered.mail,
        message_id=message_id, date=now, unsubscribe_url=links.unsubscribe_url, subscriber_id=subscriber.id,
    )


async def prepare(
    settings: Settings, db: Database, subscriber: Subscriber, claimed: list[outbox.ClaimedDelivery], now: datetime,
    notice: str | None = None, loaded: list[DigestItem] | Exception | None = None,
    extras: DigestExtras | None = None, plan_inputs: feedback.PlanInputs | None = None,
) -> tuple[Message, list[int], list[int]]:
    """Load (unless `loaded` with the pass's batch), render and build one subscriber's digest:
    (message, shown row ids, held-back row ids)."""
    assert subscriber.id is not None
    check_address(subscriber)
    if isinstance(loaded, Exception):  # the batch could not build this subscriber's items: theirs alone fails
        raise loaded
    items = loaded if loaded is not None else await load_items(settings, db, rows_of(claimed))
    message_id = claimed[0].message_id if claimed else outbox.new_message_id(subscriber.id, sender_domain(settings))
    rendered, message = await asyncio.to_thread(_rendered_message, settings, db, subscriber, items, now, notice,
                                                extras, plan_inputs, message_id)
    shown = list(rendered.shown_delivery_ids)
    shown_set = set(shown)
    held_back = [c.delivery_id for c in claimed if c.delivery_id not in shown_set]
    return message, shown, held_back


def rows_of(claimed: list[outbox.ClaimedDelivery]) -> list[Row]:
    return [(c.delivery_id, c.paper_id, c.subscription_id, c.explanation) for c in claimed]
