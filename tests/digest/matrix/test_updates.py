"""Lifecycle updates through the shared loop on Matrix: one event after a received paper's v4 appears, within
the event size limit and the homeserver's rate, never twice, not even after a lost reply (the retry
reuses the transaction id); a send the room refused records nothing as told, and once the bot is back in
the room the next pass tells it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from pydantic import SecretStr

from digest.core.lifecycle import SECTION_TITLE
from digest.matrix.channel import matrix_channel
from digest.matrix.render import CONTENT_MAX, content_bytes
from digest.services.lifecycle import pending_updates
from digest.services.posting import PostingChannel
from digest.services.subscribers import set_subscriber_paused
from digest.settings import Settings
from storage.db import Database
from storage.types import utcnow
from tests.digest.matrix.double import MatrixDouble
from tests.digest.services.chat_updates_case import V4_LINE, day1, day3, notices

ROOM = "!updates:double.test"


@pytest.fixture
async def paced_double() -> AsyncIterator[MatrixDouble]:
    server = await MatrixDouble(rate=20.0, burst=2).start()  # Synapse's bucket, 100x faster and tight
    server.add_room(ROOM)
    yield server
    await server.stop()


@pytest.fixture
async def channel(settings: Settings, db: Database, paced_double: MatrixDouble) -> AsyncIterator[PostingChannel]:
    configured = settings.model_copy(update={
        "matrix_homeserver": paced_double.url, "matrix_user_id": paced_double.user_id,
        "matrix_access_token": SecretStr(paced_double.access_token), "matrix_rate": 10.0, "matrix_burst": 1})
    built = matrix_channel(configured, db)
    yield built
    await built.aclose()


def update_events(double: MatrixDouble) -> list[dict[str, Any]]:
    return [content for content in double.posted(ROOM) if SECTION_TITLE in content["body"]]


async def test_a_new_version_is_told_once_even_after_a_lost_reply(channel: PostingChannel, db: Database,
                                                                  paced_double: MatrixDouble) -> None:
    await day1(channel.settings, db, "matrix_room", ROOM)
    assert (await channel.deliver_due(utcnow())).papers == 3
    await day3(channel.settings, db)
    paced_double.lose_replies = 2  # the update's event is stored, no answer arrives (nor to aiohttp's own repeat)
    assert (await channel.deliver_due(utcnow())).papers == 1  # the day's new paper goes on
    assert notices(db) == 0  # not acknowledged: not told yet
    await channel.deliver_due(utcnow())  # the same transaction again: the server answers with the first event
    [content] = update_events(paced_double)
    assert V4_LINE in content["body"] and "Deniable Encryption in a Quantum World" in content["body"]
    assert content["format"] == "org.matrix.custom.html" and f"<strong>{SECTION_TITLE}" in content["formatted_body"]
    assert content_bytes(content) <= CONTENT_MAX
    assert notices(db) == 1
    before = len(paced_double.posted(ROOM))
    await channel.deliver_due(utcnow())
    assert len(paced_double.posted(ROOM)) == before  # the next pass posts nothing
    assert paced_double.rate_limited == 0 and paced_double.refusals == []


async def test_a_refused_send_is_not_recorded_as_told(channel: PostingChannel, db: Database,
                                                      paced_double: MatrixDouble) -> None:
    subscriber_id = await day1(channel.settings, db, "matrix_room", ROOM)
    await channel.deliver_due(utcnow())
    await day3(channel.settings, db)
    paced_double.rooms[ROOM].members.discard(paced_double.user_id)  # kicked: 403 M_FORBIDDEN, the room paused
    report = await channel.deliver_due(utcnow())
    assert report.statuses == {"paused": 1} and "not in room" in report.failures[0]
    assert update_events(paced_double) == [] and notices(db) == 0
    assert [note.kind for note in pending_updates(db, subscriber_id)] == ["new-version"]

    paced_double.rooms[ROOM].members.add(paced_double.user_id)  # invited and joined again, then resumed
    set_subscriber_paused(db, subscriber_id, False)
    await channel.deliver_due(utcnow())
    await channel.deliver_due(utcnow())
    assert len(update_events(paced_double)) == 1 and notices(db) == 1
    assert paced_double.rate_limited == 0
