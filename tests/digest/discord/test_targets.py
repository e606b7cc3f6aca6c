"""Channel target options: every hostile option refused at the door with a one-line reason,
nothing half-stored; coherent combinations only; the webhook token never shown."""

from __future__ import annotations

from typing import Any

import pytest

from digest.discord.targets import TargetOptions, get_target, set_target
from digest.services.errors import InvalidInput, NotFound
from digest.services.subscribers import add_subscriber
from digest.settings import Settings
from storage.db import Database


@pytest.fixture
def channel_id(db: Database, settings: Settings) -> int:
    return add_subscriber(db, settings, "discord_channel", "123456789012345678", guild_id="1").id or 0


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"kind": "email"}, "target must be one of"),
        ({"style": "fancy"}, "style must be one of"),
        ({"role_id": "@everyone"}, "the role must be a Discord id"),
        ({"role_id": "0"}, "the role must be a Discord id"),
        ({"thread_id": "12; drop table"}, "the thread must be a Discord id"),
        ({"kind": "thread"}, "a thread target needs the thread"),
        ({"kind": "webhook"}, "a webhook target needs a webhook"),
        ({"webhook_name": "x" * 81}, "1-80 characters"),
        ({"webhook_name": "My Discord feed"}, "clyde' or 'discord"),
        ({"webhook_avatar": "http://example.org/a.png"}, "https://"),
        ({"webhook_avatar": "javascript:alert(1)"}, "https://"),
        ({"webhook_avatar": "https://example.org/" + "a" * 600}, "https://"),
    ],
)
def test_hostile_options_are_refused_and_nothing_is_stored(db: Database, channel_id: int, changes: dict[str, Any],
                                                           reason: str) -> None:
    with pytest.raises(InvalidInput, match=reason):
        set_target(db, channel_id, **{"style": "compact", **changes})
    assert get_target(db, channel_id) == TargetOptions()


def test_only_channel_subscribers_have_targets(db: Database, settings: Settings) -> None:
    member = add_subscriber(db, settings, "discord_user", "223456789012345678")
    with pytest.raises(NotFound):
        set_target(db, member.id or 0, style="compact")


def test_options_are_stored_and_described_without_the_token(db: Database, channel_id: int) -> None:
    stored = set_target(db, channel_id, kind="webhook", webhook_id="42", webhook_token="secret-token",
                        webhook_name="  cs.CL   bot ", role_id="77", style="titles", open_thread=True)
    assert get_target(db, channel_id) == stored and stored.webhook_name == "cs.CL bot"
    described = stored.describe()
    assert "secret-token" not in described and "<@&77>" in described and "style titles" in described
    forum = set_target(db, channel_id, kind="forum")
    assert forum.open_thread is False, "a forum post is already the thread"
