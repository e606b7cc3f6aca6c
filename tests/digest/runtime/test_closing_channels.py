"""Every channel's clients are closed when the sender loop stops and after `paperbell run --once`.

The four chat channels, built by the composition root against their local doubles, each post one paper
(so each client has opened its connections); after `Senders.stop()` / `run_cycle` every client is closed,
and collecting what is left raises no "Unclosed client session" warning.
"""

from __future__ import annotations

import contextlib
import gc
import warnings
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from pydantic import SecretStr

from digest.runtime.channels import build_channels
from digest.runtime.metrics import Metrics
from digest.runtime.once import run_cycle
from digest.runtime.parts import Parts
from digest.runtime.senders import Senders
from digest.services.channels import Channel, ChannelPass, FailureKind
from digest.services.matching import run_match_cycle
from digest.services.subscribers import add_subscriber, add_subscription
from digest.settings import Settings
from storage.db import Database
from tests.bot.conftest import add_papers
from tests.digest.matrix.double import MatrixDouble
from tests.digest.ntfy.ntfy_double import NtfyDouble
from tests.digest.slack.slack_double import SlackDouble
from tests.digest.telegram.double import TelegramDouble

SLACK, CHAT, ROOM, TOPIC = "C0CLOSE001", 4242, "!close:double.test", "closing"
TARGETS = [("ntfy_topic", TOPIC), ("slack_channel", SLACK), ("telegram_chat", str(CHAT)), ("matrix_room", ROOM)]


@dataclass
class Doubles:
    ntfy: NtfyDouble
    slack: SlackDouble
    telegram: TelegramDouble
    matrix: MatrixDouble

    def posts(self) -> list[int]:
        return [len(self.ntfy.messages.get(TOPIC, [])), len(self.slack.channels[SLACK]),
                len(self.telegram.sent.get(CHAT, [])), len(self.matrix.posted(ROOM))]


@pytest.fixture
async def doubles() -> AsyncIterator[Doubles]:
    ntfy, slack = NtfyDouble(), SlackDouble(burst=50, per_second=100.0)
    slack.channels[SLACK] = []
    await ntfy.start()
    await slack.start()
    telegram = await TelegramDouble(scale=0.005).start()
    telegram.add_chat(CHAT)
    matrix = await MatrixDouble(rate=200.0, burst=50).start()
    matrix.add_room(ROOM)
    yield Doubles(ntfy, slack, telegram, matrix)
    for double in (ntfy, slack, telegram, matrix):
        await double.stop()


@pytest.fixture
def chat_settings(settings: Settings, db: Database, doubles: Doubles) -> Settings:
    """Every chat channel configured against its double; one instant target each, one matching paper."""
    configured = settings.model_copy(update={
        "sources": [], "ntfy_url": doubles.ntfy.url, "slack_api_url": f"{doubles.slack.url}/api/",
        "slack_bot_token": SecretStr(doubles.slack.token), "telegram_token": SecretStr(doubles.telegram.token),
        "telegram_api_url": doubles.telegram.base_url, "matrix_homeserver": doubles.matrix.url,
        "matrix_user_id": doubles.matrix.user_id, "matrix_access_token": SecretStr(doubles.matrix.access_token)})
    for kind, address in TARGETS:
        subscriber = add_subscriber(db, configured, kind, address)
        add_subscription(db, configured, subscriber.id or 0, "protein")
    add_papers(db)
    run_match_cycle(db, configured)
    return configured


def closed_checks(channels: list[Channel]) -> dict[str, Callable[[], bool]]:
    """Per chat channel: whether the client it opened (taken now, before any close) is closed."""
    checks: dict[str, Callable[[], bool]] = {}
    for channel in channels:
        platform: Any = getattr(channel, "platform", None)
        if channel.name == "ntfy":
            checks["ntfy"] = lambda client=platform.client: bool(client.is_closed)
        elif channel.name == "slack":
            checks["slack"] = lambda session=platform._http: bool(session.closed)
        elif channel.name == "telegram":
            checks["telegram"] = lambda requests=platform.client._requests: all(r._client.is_closed for r in requests)
        elif channel.name == "matrix":
            # nio drops its session on close (a post went through it, so None means closed)
            nio = platform.client.client
            checks["matrix"] = lambda nio=nio: nio.client_session is None or bool(nio.client_session.closed)
    return checks


@contextlib.contextmanager
def no_unclosed_warning() -> Iterator[None]:
    """The block, then collecting the garbage, warn of no unclosed session or connector (aiohttp's ResourceWarning)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
        gc.collect()
    assert [str(w.message) for w in caught if "Unclosed" in str(w.message)] == []


async def test_the_sender_loop_closes_every_channel_when_it_stops(chat_settings: Settings, db: Database,
                                                                   doubles: Doubles) -> None:
    channels = build_channels(chat_settings, db, email=False)
    senders = Senders(chat_settings, db, Metrics(), channels=channels)
    assert await senders.run_pass() == 4 and doubles.posts() == [1, 1, 1, 1]
    checks = closed_checks(channels)
    assert sorted(checks) == ["matrix", "ntfy", "slack", "telegram"]
    assert not any(closed() for closed in checks.values())  # the pass left every client open
    senders.start()
    await senders.stop()
    assert {name: closed() for name, closed in checks.items()} == dict.fromkeys(checks, True)
    with no_unclosed_warning():
        del channels, checks, senders


class RecordingParts(Parts):
    """The application's parts, remembering the channels `run --once` was given (before it closes them)."""

    given: list[Channel]

    def senders(self, metrics: Metrics, *, discord_poster: Any = None) -> Senders:
        built = super().senders(metrics, discord_poster=discord_poster)
        self.given = list(built.channels)
        return built


async def test_run_once_closes_every_channel_after_its_pass(chat_settings: Settings, db: Database,
                                                            doubles: Doubles) -> None:
    parts = RecordingParts(chat_settings, db)
    report = await run_cycle(parts)
    assert report.ok, report.failures
    assert doubles.posts() == [1, 1, 1, 1]
    checks = closed_checks(parts.given)
    assert {name: closed() for name, closed in checks.items()} == dict.fromkeys(
        ["ntfy", "slack", "telegram", "matrix"], True)
    with no_unclosed_warning():
        del parts, checks


class Counting:
    """A channel written only against the protocol, counting its closes; `fail` makes its close raise."""

    def __init__(self, name: str, fail: bool = False) -> None:
        self.name, self.fail, self.closes = name, fail, 0

    async def due(self, now: Any) -> list[int]:
        return []

    async def deliver_due(self, now: Any, *, spend_empty_slots: bool = True) -> ChannelPass:
        return ChannelPass(self.name)

    async def preview(self, subscriber_id: int, now: Any) -> str:
        return ""

    def classify(self, error: BaseException) -> FailureKind:
        return FailureKind.TRANSIENT

    async def aclose(self) -> None:
        self.closes += 1
        if self.fail:
            raise RuntimeError("close failed")


@pytest.mark.parametrize("started", [True, False], ids=["loop-ran", "never-started"])
async def test_each_channel_is_closed_once_even_when_one_close_fails(settings: Settings, db: Database,
                                                                     started: bool) -> None:
    failing, other = Counting("failing", fail=True), Counting("other")
    senders = Senders(settings, db, Metrics(), channels=[failing, other])
    if started:
        senders.start()
    await senders.stop()
    await senders.stop()  # a second stop closes nothing twice
    await senders.close_channels()
    assert (failing.closes, other.closes) == (1, 1)
