"""The `Channel` protocol: the small interface the composition root delivers through.

A channel (e-mail, Discord, and any later one) owns everything below its front end: which of its
subscribers are due, how one subscriber's pending papers are rendered within the platform's
limits, how they are sent, and how a failed send is classified. The runtime knows only this
interface: the sender loop and `paperbell run --once` call `deliver_due` on each channel they
were given and report what came back in one shape (`ChannelPass`), and `aclose` once when they stop.
Adding a channel means adding one package that implements it and registering it in
`digest.runtime.channels`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol, runtime_checkable


class FailureKind(StrEnum):
    """The three ways a send can fail, the same on every channel."""

    REFUSED = "refused"  # this one message can never be sent: its papers fail, the subscriber's others go on
    UNREACHABLE = "unreachable"  # nothing can reach this target: the subscriber is paused with the reason
    TRANSIENT = "transient"  # try again later, with a growing, capped delay


@dataclass
class ChannelPass:
    """What one delivery pass of one channel did."""

    channel: str
    messages: int = 0  # messages the platform accepted
    papers: int = 0  # papers in them
    statuses: dict[str, int] = field(default_factory=dict)  # subscribers per outcome ("sent", "not_due", …)
    failures: list[str] = field(default_factory=list)  # "subscriber #N: reason", one line each
    notes: list[str] = field(default_factory=list)  # what a reader of the report should know

    def count(self, status: str, n: int = 1) -> None:
        self.statuses[status] = self.statuses.get(status, 0) + n


@runtime_checkable
class Channel(Protocol):
    """What every delivery channel offers the runtime."""

    name: str

    async def due(self, now: datetime) -> list[int]:
        """Ids of this channel's subscribers whose pending papers are due now."""
        ...

    async def deliver_due(self, now: datetime, *, spend_empty_slots: bool = True) -> ChannelPass:
        """Claim → render → send → record for every due subscriber, each one isolated from the others.

        `spend_empty_slots=False` (after a failed match): a subscriber with nothing pending keeps their
        digest period, since nothing pending is not known then.
        """
        ...

    async def preview(self, subscriber_id: int, now: datetime) -> str:
        """What this subscriber would receive now, rendered as the platform would show it; sends nothing."""
        ...

    def classify(self, error: BaseException) -> FailureKind:
        """Which of the three failure kinds a send error is."""
        ...

    async def aclose(self) -> None:
        """Close the clients and connections this channel owns (once, when the runtime stops delivering)."""
        ...


class SubscriberMail(Protocol):
    """What the web front asks of the e-mail channel for one subscriber (given to it by the runtime)."""

    async def send_confirmation(self, subscriber_id: int, *, seen_sent_at: datetime | None = None) -> object:
        """Send the double opt-in mail now, unless another caller that saw the same `seen_sent_at` did."""
        ...

    async def send_now(self, subscriber_id: int) -> str:
        """Send everything pending now; returns the outcome ("sent", "empty", "failed", …)."""
        ...
