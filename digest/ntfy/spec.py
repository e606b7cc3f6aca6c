"""The ntfy channel as the composition root registers it: its subscriber kind, settings and admin command.

Light on purpose (no client library): every command imports it to know the channel is there.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from digest.services.channel_specs import AdminAdd, ChatKind, ChatSpec, own_settings
from digest.services.chat_targets import TargetShape

if TYPE_CHECKING:
    from digest.ntfy.settings import NtfySettings
    from digest.services.channels import Channel
    from digest.settings import Settings
    from storage.db import Database

TOPIC = "ntfy_topic"  # a topic name on the configured ntfy server

# https://docs.ntfy.sh/publish/ topics: server.go topicRegex ^[-_A-Za-z0-9]{1,64}$
_SHAPE = TargetShape(re.compile(r"[-_A-Za-z0-9]{1,64}"), "an ntfy topic name (1-64 of A-Z a-z 0-9 _ -)", "ntfy")


def _settings() -> type[NtfySettings]:
    """The package's settings class (imported here: pydantic is not loaded for `paperbell --help`)."""
    from digest.ntfy.settings import NtfySettings

    return NtfySettings


def _ready(settings: Settings) -> bool:
    return isinstance(settings, _settings()) and bool(settings.ntfy_url)


def _build(settings: Settings, db: Database) -> Channel:
    from digest.ntfy.channel import ntfy_channel

    return ntfy_channel(own_settings(settings, _settings()), db)


SPEC = ChatSpec(
    name="ntfy", label="ntfy", kinds=(ChatKind(TOPIC, _SHAPE, needs=("ntfy_url",)),), settings=_settings,
    ready=_ready, build=_build, cli_help="ntfy topics: phone notifications without a chat app.",
    admin=(AdminAdd("add", TOPIC,
                    "Publish papers matching QUERY to an ntfy topic (created with the subscriber if new).",
                    "ntfy topic name (1-64 of A-Z a-z 0-9 _ -); treat it as a password.", metavar="TOPIC",
                    needs="ntfy_url"),),
)
