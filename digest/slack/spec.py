"""The Slack channel as the composition root registers it: its two subscriber kinds, settings, routes, CLI.

Light on purpose (no slack-sdk): every command imports it to know the channel is there.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from digest.services.channel_specs import AdminAdd, ChatKind, ChatSpec, own_settings
from digest.services.chat_targets import TargetShape

if TYPE_CHECKING:
    from digest.services.channels import Channel
    from digest.settings import Settings
    from digest.slack.settings import SlackSettings
    from storage.db import Database

CHANNEL = "slack_channel"  # a channel id (C…/G…) the Slack app posts to
WEBHOOK = "slack_webhook"  # an incoming webhook's path (T…/B…/secret) under the webhook base

# https://api.slack.com/methods/chat.postMessage#arg_channel (C… public, G… private, D… DM)
_CHANNEL = TargetShape(re.compile(r"[CGD][A-Z0-9]{6,20}"), "a Slack channel id (C…, G… or D…, e.g. C0123456789)",
                       "Slack")
# https://api.slack.com/messaging/webhooks: https://hooks.slack.com/services/T…/B…/secret
_WEBHOOK = TargetShape(re.compile(r"T[A-Z0-9]{6,20}/B[A-Z0-9]{6,20}/[A-Za-z0-9]{16,64}"),
                       "an incoming webhook path T…/B…/secret (the part after /services/)", "Slack webhook")


def _settings() -> type[SlackSettings]:
    """The package's settings class (imported here: pydantic is not loaded for `paperbell --help`)."""
    from digest.slack.settings import SlackSettings

    return SlackSettings


def hide_webhook_secret(address: str) -> str:
    """The webhook path as shown: its secret (the last part) is never printed."""
    return address.rsplit("/", 1)[0] + "/****" if "/" in address else address


def webhook_path(url: str) -> str:
    """What is stored of an incoming webhook URL: the path after /services/."""
    return url.strip().split("/services/", 1)[-1]


def _ready(settings: Settings) -> bool:
    """Webhooks carry their own secret (`slack_enabled`); app channels need the bot token."""
    return isinstance(settings, _settings()) and (settings.slack_enabled or settings.slack_bot_token is not None)


def _build(settings: Settings, db: Database) -> Channel:
    from digest.slack.channel import slack_channel

    return slack_channel(own_settings(settings, _settings()), db)


def _routes(settings: Settings, db: Database) -> Sequence[Any]:
    from digest.slack.routes import slack_routes

    return slack_routes(own_settings(settings, _settings()), db)


SPEC = ChatSpec(
    name="slack", label="Slack",
    kinds=(ChatKind(CHANNEL, _CHANNEL, needs=("slack_bot_token",)),
           ChatKind(WEBHOOK, _WEBHOOK, needs=("slack_enabled", "slack_bot_token"), redact=hide_webhook_secret)),
    settings=_settings, ready=_ready, build=_build, routes=_routes, votes=True,
    cli_help="Slack: incoming webhooks (the Slack app subscribes from inside Slack).",
    admin=(AdminAdd("add-webhook", WEBHOOK,
                    "Post papers matching QUERY through a Slack incoming webhook (one channel per webhook).",
                    "The incoming webhook URL from the Slack app's settings.", metavar="WEBHOOK", schedule="daily",
                    address=webhook_path),),
)
