"""What a chat channel's subscriber address may look like: the documented shape of a platform's target id.

Each chat channel declares one `TargetShape` per subscriber kind it owns (in its `ChatSpec`,
digest.services.channel_specs); `digest.services.subscriber_input` checks every subscriber written
against it, and the chat channel packages check an id from a platform before they take it. The shape
is the one the platform documents, so a typo is refused at the door with a one-line reason instead of
failing later as "channel not found".
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class TargetShape:
    """The documented shape of one platform's target id, and how to say it to a person."""

    pattern: re.Pattern[str]
    what: str  # "a channel id (C…, G…)": completes "not …" in the refusal
    label: str  # the platform's name in messages and `paperbell status`


class BadTarget(ValueError):
    """An address that is not the documented shape of its platform's target id."""


def clean_target(shape: TargetShape, address: str) -> str:
    """The address, stripped, or `BadTarget` with a one-line reason naming the shape expected."""
    text = address.strip()
    if not shape.pattern.fullmatch(text):
        shown = text if len(text) <= 80 else text[:77] + "…"
        raise BadTarget(f"not {shape.what}: {shown!r}")
    return text
