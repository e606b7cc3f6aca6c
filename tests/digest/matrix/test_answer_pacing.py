"""The bot's answers to `!paperbell` commands keep below the homeserver's rate like its deliveries:
a burst of commands in one /sync is answered in full, with no 429 from the homeserver."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from digest.matrix.api import MatrixClient
from digest.matrix.listener import MatrixListener
from digest.settings import Settings
from storage.db import Database
from tests.digest.matrix.double import MatrixDouble

ROOM = "!lab:double.test"
COMMANDS = 6


@pytest.fixture
async def tight() -> AsyncIterator[MatrixDouble]:
    server = await MatrixDouble(rate=8.0, burst=2).start()  # a homeserver that lets 2 through, then 8 a second
    yield server
    await server.stop()


async def test_a_burst_of_commands_is_answered_within_the_homeserver_rate(
        settings: Settings, db: Database, tight: MatrixDouble) -> None:
    client = MatrixClient(tight.url, tight.user_id, tight.access_token, timeout=5)
    own = settings.model_copy(update={"matrix_homeserver": tight.url, "matrix_user_id": tight.user_id,
                                      "matrix_rate": 7.0, "matrix_burst": 2, "chat_max_ratelimit_wait": 0.0})
    listener = MatrixListener(own, db, client)
    try:
        tight.add_room(ROOM)
        await listener.poll_once(0)  # the first sync: history is not read as commands
        for _ in range(COMMANDS):
            tight.user_says(ROOM, "!paperbell list", sender="@eve:double.test")
        assert await listener.poll_once(1000) == COMMANDS  # unpaced, the homeserver refuses all but 2
        assert len(tight.posted(ROOM)) == COMMANDS
        assert tight.rate_limited == 0
    finally:
        await client.close()
