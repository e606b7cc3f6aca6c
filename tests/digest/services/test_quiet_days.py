"""On a day without arXiv announcement, Discord channels are told once instead of being left silent."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from digest.discord.outbox_poster import OutboxPoster
from digest.services import subscribers as service
from digest.services.quiet_days import tell_quiet_day
from digest.settings import Settings
from storage.db import Database

SATURDAY = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)  # Sat 28 Nov 21:00 US/Eastern
THANKSGIVING = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)  # Thu 26 Nov 22:00 US/Eastern
WEDNESDAY = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)


class Refusing:
    """A channel Discord refuses (deleted); the others must still be told."""

    def __init__(self, inner: OutboxPoster, refused: str) -> None:
        self.inner, self.refused = inner, refused

    async def post(self, kind: str, address: str, message: dict[str, Any], *, nonce: str) -> str:
        if address == self.refused:
            raise RuntimeError("404 Unknown Channel")
        return await self.inner.post(kind, address, message, nonce=nonce)


@pytest.mark.parametrize(("now", "text"), [
    (SATURDAY, "📭 No new arXiv papers today: no announcement on Saturdays."),
    (THANKSGIVING, "📭 No new arXiv papers today: arXiv holiday (Thanksgiving)."),
])
async def test_channels_are_told_once_per_quiet_day(settings: Settings, db: Database, now: datetime,
                                                    text: str) -> None:
    arxiv = settings.model_copy(update={"sources": ["arxiv:cs.LG"]})
    for n, channel in enumerate(("100000000000000001", "100000000000000002", "100000000000000003")):
        service.add_subscriber(db, arxiv, "discord_channel", channel, guild_id="900000000000000001",
                               schedule="instant", display_name=f"c{n}")
    service.add_subscriber(db, arxiv, "discord_user", "200000000000000002", guild_id="900000000000000001")
    poster = Refusing(OutboxPoster(arxiv), refused="100000000000000002")
    assert await tell_quiet_day(arxiv, db, poster, now) == 2  # the refused channel does not stop the others
    assert await tell_quiet_day(arxiv, db, poster, now) == 0  # once per day
    files = sorted((arxiv.resolved_outbox_dir() / "discord").glob("*.json"))
    assert len(files) == 2 and all(f.name.startswith("discord_channel-") for f in files)
    assert {json.loads(f.read_text())["message"]["content"] for f in files} == {text}


async def test_no_notice_on_an_announcement_day_or_without_arxiv(settings: Settings, db: Database) -> None:
    service.add_subscriber(db, settings, "discord_channel", "100000000000000001", guild_id="900000000000000001")
    arxiv = settings.model_copy(update={"sources": ["arxiv:cs.LG"]})
    assert await tell_quiet_day(arxiv, db, OutboxPoster(arxiv), WEDNESDAY) == 0
    hf_only = settings.model_copy(update={"sources": ["hf:daily"]})
    assert await tell_quiet_day(hf_only, db, OutboxPoster(hf_only), SATURDAY) == 0
