"""The Slack channel behind the `Channel` protocol: the shared posting loop over `SlackPlatform`.

Built by the composition root (digest.runtime.channels) when Slack subscribers can be served: always
for incoming webhooks (they carry their own secret), with `PAPERBELL_SLACK_BOT_TOKEN` for app channels.
"""

from __future__ import annotations

from digest.services.posting import PostingChannel
from digest.slack.client import SlackPlatform
from digest.slack.settings import SlackSettings
from storage.db import Database


def slack_channel(settings: SlackSettings, db: Database) -> PostingChannel:
    """The Slack channel on these settings."""
    return PostingChannel(settings, db, SlackPlatform(settings), "slack")
