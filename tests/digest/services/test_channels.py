"""The `Channel` protocol: both channels implement it, classify failures the same three ways, and the
sender loop delivers through whatever channels it is given (a new channel needs no runtime change)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from digest.discord.channel import DiscordChannel
from digest.discord.delivery import DeliveryRefused, MessageRejected
from digest.discord.outbox_poster import OutboxPoster
from digest.email.channel import EmailChannel
from digest.email.digests import MailRefused
from digest.email.failures import Failure
from digest.runtime.channels import build_channels
from digest.runtime.metrics import Metrics
from digest.runtime.senders import Senders
from digest.services.channels import Channel, ChannelPass, FailureKind
from digest.settings import Settings
from storage.db import Database

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def test_every_built_channel_implements_the_protocol(settings: Settings, db: Database) -> None:
    channels = build_channels(settings, db, discord_poster=OutboxPoster(settings))
    assert [c.name for c in channels] == ["email", "discord"]
    assert all(isinstance(c, Channel) for c in channels)
    assert [c.name for c in build_channels(settings, db, email=False)] == []


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (MailRefused(Failure("undeliverable address", fatal=True)), FailureKind.UNREACHABLE),
        (MailRefused(Failure("550 no such user", permanent=True)), FailureKind.REFUSED),
        (MailRefused(Failure("451 try later")), FailureKind.TRANSIENT),
        (ConnectionResetError("dropped"), FailureKind.TRANSIENT),
    ],
)
def test_email_failures_fall_into_the_three_kinds(
    settings: Settings, db: Database, error: BaseException, kind: FailureKind
) -> None:
    assert EmailChannel(settings, db).classify(error) is kind


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (MessageRejected("50035 invalid form body"), FailureKind.REFUSED),
        (DeliveryRefused("50013 missing permissions"), FailureKind.UNREACHABLE),
        (TimeoutError(), FailureKind.TRANSIENT),
    ],
)
def test_discord_failures_fall_into_the_three_kinds(
    settings: Settings, db: Database, error: BaseException, kind: FailureKind
) -> None:
    assert DiscordChannel(settings, db, OutboxPoster(settings)).classify(error) is kind


class CountingChannel:
    """A third channel, written only against the protocol."""

    name = "counting"

    def __init__(self) -> None:
        self.passes: list[datetime] = []

    async def due(self, now: datetime) -> list[int]:
        return [1]

    async def deliver_due(self, now: datetime, *, spend_empty_slots: bool = True) -> ChannelPass:
        self.passes.append(now)
        return ChannelPass(self.name, messages=2, papers=3, statuses={"sent": 1})

    async def preview(self, subscriber_id: int, now: datetime) -> str:
        return "two messages"

    def classify(self, error: BaseException) -> FailureKind:
        return FailureKind.TRANSIENT

    async def aclose(self) -> None:
        return None


async def test_the_sender_loop_delivers_through_any_channel_it_is_given(settings: Settings, db: Database) -> None:
    extra = CountingChannel()
    assert isinstance(extra, Channel)
    senders = Senders(settings, db, Metrics(), channels=[EmailChannel(settings, db), extra], clock=lambda: NOW)
    assert await senders.run_pass() == 2  # nobody is subscribed by e-mail: only the counting channel sent
    assert extra.passes == [NOW]
    assert (await senders.deliver("counting")).statuses == {"sent": 1}
