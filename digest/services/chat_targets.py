"""What a chat channel's subscriber address may look like: one rule per chat subscriber kind.

Called by `digest.services.subscribers` (every subscriber written goes through it) and by the chat
channel packages before they take an id from a platform. The address is the platform's own id of
the place posts go to; each shape below is the one the platform documents, so a typo is refused at
the door with a one-line reason instead of failing later as "channel not found".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from storage.models import SubscriberKind


@dataclass(frozen=True)
class TargetShape:
    """The documented shape of one platform's target id, and how to say it to a person."""

    pattern: re.Pattern[str]
    what: str  # "a Slack channel id (C…, G…)"
    label: str  # the platform's name in messages and `paperbell status`


CHAT_TARGETS: dict[str, TargetShape] = {
    # https://api.slack.com/methods/chat.postMessage#arg_channel (C… public, G… private, D… DM)
    SubscriberKind.SLACK_CHANNEL.value: TargetShape(
        re.compile(r"[CGD][A-Z0-9]{6,20}"), "a Slack channel id (C…, G… or D…, e.g. C0123456789)", "Slack"),
    # https://api.slack.com/messaging/webhooks: https://hooks.slack.com/services/T…/B…/secret
    SubscriberKind.SLACK_WEBHOOK.value: TargetShape(
        re.compile(r"T[A-Z0-9]{6,20}/B[A-Z0-9]{6,20}/[A-Za-z0-9]{16,64}"),
        "an incoming webhook path T…/B…/secret (the part after /services/)", "Slack webhook"),
    # https://core.telegram.org/bots/api#sendmessage chat_id: integer (groups negative, channels -100…)
    SubscriberKind.TELEGRAM_CHAT.value: TargetShape(
        re.compile(r"-?[1-9][0-9]{0,15}"), "a Telegram chat id (an integer, e.g. -1001234567890)", "Telegram"),
    # https://spec.matrix.org/v1.11/appendices/#room-ids: !opaque_id:server_name, at most 255 bytes
    SubscriberKind.MATRIX_ROOM.value: TargetShape(
        re.compile(r"![\x21-\x39\x3b-\x7e]{1,200}:[A-Za-z0-9.\-]{1,230}(:[0-9]{1,5})?"),
        "a Matrix room id (!opaque:server.org)", "Matrix"),
    # https://docs.ntfy.sh/publish/ topics: server.go topicRegex ^[-_A-Za-z0-9]{1,64}$
    SubscriberKind.NTFY_TOPIC.value: TargetShape(
        re.compile(r"[-_A-Za-z0-9]{1,64}"), "an ntfy topic name (1-64 of A-Z a-z 0-9 _ -)", "ntfy"),
}


class BadTarget(ValueError):
    """An address that is not the documented shape of its platform's target id."""


def is_chat_kind(kind: str) -> bool:
    return kind in CHAT_TARGETS


def clean_target(kind: str, address: str) -> str:
    """The address, stripped, or `BadTarget` with a one-line reason naming the shape expected."""
    shape = CHAT_TARGETS[kind]
    text = address.strip()
    if not shape.pattern.fullmatch(text):
        shown = text if len(text) <= 80 else text[:77] + "…"
        raise BadTarget(f"not {shape.what}: {shown!r}")
    return text


def label_of(kind: str) -> str:
    shape = CHAT_TARGETS.get(kind)
    return shape.label if shape else kind.replace("_", " ")
