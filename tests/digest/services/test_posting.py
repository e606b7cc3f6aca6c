"""The shared posting loop's rules, platform-independent: each of the three failure kinds does what the
`Channel` protocol promises (refused post → its papers FAILED, the rest sent; unreachable → paused with
the reason; transient → pending, a growing back-off never shorter than the platform's retry_after)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import col, select

from digest.core.assembly import Digest, DigestItem
from digest.services import channel_specs
from digest.services.channel_specs import ChatKind, ChatRegistry, ChatSpec
from digest.services.channels import FailureKind
from digest.services.chat_targets import TargetShape
from digest.services.matching import run_match_cycle
from digest.services.posting import (
    PostingChannel,
    PostRejected,
    Rendered,
    RetryLater,
    TargetUnreachable,
    backoff_seconds,
    classify,
)
from digest.services.subscribers import add_subscriber, add_subscription, get_subscriber
from digest.settings import Settings
from storage.db import Database
from storage.models import Delivery, DeliveryStatus, Subscriber
from storage.types import utcnow
from tests.bot.conftest import add_papers


class Scripted:
    """A platform whose `send` raises the scripted error for a title (the loop under test is real)."""

    kinds: tuple[str, ...] = ("scripted_target",)
    label = "Scripted"

    def __init__(self, errors: dict[str, BaseException]) -> None:
        self.errors, self.sent = errors, []  # type: ignore[var-annotated]

    def render_instant(self, subscriber: Subscriber, item: DigestItem) -> Any:
        return item.title

    def render_digest(self, subscriber: Subscriber, digest: Digest) -> list[Rendered]:
        return [([i.delivery_id], i.title) for i in digest.items]

    async def send(self, subscriber: Subscriber, body: Any, *, key: str) -> str:
        if body in self.errors:
            raise self.errors[body]
        self.sent.append(body)
        return f"id-{len(self.sent)}"

    async def find_sent(self, subscriber: Subscriber, body: Any, *, key: str, since: Any) -> str | None:
        return None

    async def notify_paused(self, subscriber: Subscriber, reason: str) -> None:
        return None


# the loop under test knows no channel: a throwaway one, registered as the composition root registers its own
SCRIPTED = ChatSpec(name="scripted", label="Scripted",
                    kinds=(ChatKind("scripted_target", TargetShape(re.compile("[a-z]+"), "a word", "Scripted")),),
                    settings=lambda: Settings, ready=lambda s: False,
                    build=lambda s, db: PostingChannel(s, db, Scripted({}), "scripted"))


@pytest.fixture(autouse=True)
def scripted_registered() -> Iterator[None]:
    before = channel_specs.installed()
    channel_specs.install(ChatRegistry([SCRIPTED]))
    yield
    channel_specs.install(before)


def rows(db: Database) -> dict[int, str]:
    with db.session() as session:
        return {r.paper_id: r.status for r in session.exec(select(Delivery).order_by(col(Delivery.paper_id))).all()}


PROTEIN = "Diffusion models for protein design"


@pytest.mark.parametrize(("error", "outcome", "status"), [
    (PostRejected("too large"), "sent", DeliveryStatus.FAILED),  # the other paper is still sent
    (TargetUnreachable("chat not found"), "paused", DeliveryStatus.PENDING),
    (RetryLater("busy", retry_after=900), "retry_later", DeliveryStatus.PENDING),
    (ConnectionResetError("dropped"), "retry_later", DeliveryStatus.PENDING),
])
async def test_each_failure_kind(settings: Settings, db: Database, error: BaseException, outcome: str,
                                 status: str) -> None:
    subscriber = add_subscriber(db, settings, "scripted_target", "scripted")
    add_subscription(db, settings, subscriber.id or 0, "diffusion")
    add_papers(db)
    run_match_cycle(db, settings)
    platform = Scripted({PROTEIN: error})
    now = utcnow()
    report = await PostingChannel(settings, db, platform, "scripted").deliver_due(now)
    assert report.statuses == {outcome: 1}
    protein, latent = rows(db).values()  # papers 1 and 3 match "diffusion"
    assert protein == status
    allowed = {DeliveryStatus.SENT} if outcome == "sent" else {DeliveryStatus.SENT, DeliveryStatus.PENDING}
    assert latent in allowed
    after = get_subscriber(db, subscriber.id or 0)
    assert after.paused == (outcome == "paused")
    assert (after.pause_reason or "").startswith("Scripted: chat not found") == (outcome == "paused")
    if outcome == "retry_later":
        assert after.retry_after is not None and after.retry_after >= now + timedelta(seconds=30)
        assert await PostingChannel(settings, db, platform, "scripted").due(now) == []  # backing off
    if isinstance(error, RetryLater):
        assert after.retry_after is not None and after.retry_after >= now + timedelta(seconds=900)
    assert classify(error) == {"sent": FailureKind.REFUSED, "paused": FailureKind.UNREACHABLE}.get(
        outcome, FailureKind.TRANSIENT)


def test_backoff_grows_capped_and_respects_retry_after(settings: Settings) -> None:
    waits = [backoff_seconds(settings, n) for n in range(1, 12)]
    assert waits[:3] == [30.0, 60.0, 120.0] and waits[-1] == settings.chat_retry_max_seconds
    assert backoff_seconds(settings, 1, retry_after=600.0) == 600.0


async def test_preview_renders_pending_without_claiming(settings: Settings, db: Database) -> None:
    subscriber = add_subscriber(db, settings, "scripted_target", "scripted")
    add_subscription(db, settings, subscriber.id or 0, "diffusion")
    add_papers(db)
    run_match_cycle(db, settings)
    platform = Scripted({})
    shown = await PostingChannel(settings, db, platform, "scripted").preview(subscriber.id or 0, utcnow())
    assert sorted(json.loads(shown)) == [PROTEIN, "Latent diffusion with fewer steps"]
    assert set(rows(db).values()) == {DeliveryStatus.PENDING} and platform.sent == []
