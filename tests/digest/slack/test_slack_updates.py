"""Lifecycle updates through the shared loop on Slack: one post after a received paper's v4 appears, within
Block Kit's limits and the channel's pace, never twice; a send Slack refused (the app removed from the
channel) records nothing as told, and once the channel is back the next pass tells it."""

from __future__ import annotations

from typing import Any

import pytest

from digest.core.lifecycle import SECTION_TITLE
from digest.services.lifecycle import pending_updates
from digest.services.subscribers import set_subscriber_paused
from digest.settings import Settings
from digest.slack.channel import slack_channel
from storage.db import Database
from storage.types import utcnow
from tests.digest.services.chat_updates_case import V4_LINE, day1, day3, notices
from tests.digest.slack.conftest import CHANNEL
from tests.digest.slack.slack_double import SECTION, SlackDouble


@pytest.fixture
def paced(slack_settings: Settings, double: SlackDouble) -> Settings:
    """The channel's bucket tight (a burst of 2, refilled at 20/s: chat.postMessage's, 20x faster), paced at 10/s."""
    double.burst, double.per_second = 2, 20.0
    return slack_settings.model_copy(update={"slack_rate": 10.0})


def update_posts(double: SlackDouble) -> list[dict[str, Any]]:
    return [m for m in double.channels[CHANNEL] if SECTION_TITLE in m["text"]]


async def test_a_new_version_is_told_once_in_its_own_post(paced: Settings, db: Database,
                                                          double: SlackDouble) -> None:
    await day1(paced, db, "slack_channel", CHANNEL)
    channel = slack_channel(paced, db)
    try:
        assert (await channel.deliver_due(utcnow())).papers == 3
        assert update_posts(double) == []
        await day3(paced, db)
        assert (await channel.deliver_due(utcnow())).papers == 1  # the day's new paper, and the update beside it
        [post] = update_posts(double)
        [section] = post["blocks"]  # one mrkdwn section, no vote buttons
        assert section["type"] == "section" and section["text"]["type"] == "mrkdwn"
        text = section["text"]["text"]
        assert V4_LINE in text and "Deniable Encryption in a Quantum World" in text
        assert len(text) <= SECTION and f"*{SECTION_TITLE}" in text
        assert post["metadata"]["event_type"] == "paperbell_post"  # acknowledged as any post: its ts came back
        assert notices(db) == 1
        before = len(double.channels[CHANNEL])
        await channel.deliver_due(utcnow())
        assert len(double.channels[CHANNEL]) == before  # the second pass posts nothing
        assert double.refusals == [] and double.limited == 0  # within Block Kit's limits and the channel's pace
    finally:
        await channel.aclose()


async def test_a_refused_send_is_not_recorded_as_told(paced: Settings, db: Database,
                                                      double: SlackDouble) -> None:
    subscriber_id = await day1(paced, db, "slack_channel", CHANNEL)
    channel = slack_channel(paced, db)
    try:
        await channel.deliver_due(utcnow())
        await day3(paced, db)
        double.not_member.add(CHANNEL)  # the app was removed: the update's send refused, the channel paused
        report = await channel.deliver_due(utcnow())
        assert report.statuses == {"paused": 1} and "not_in_channel" in report.failures[0]
        assert update_posts(double) == [] and notices(db) == 0
        assert [note.kind for note in pending_updates(db, subscriber_id)] == ["new-version"]

        double.not_member.discard(CHANNEL)  # re-invited, then `paperbell subscribers resume`
        set_subscriber_paused(db, subscriber_id, False)
        await channel.deliver_due(utcnow())
        await channel.deliver_due(utcnow())
        assert len(update_posts(double)) == 1 and notices(db) == 1
        assert double.limited == 0
    finally:
        await channel.aclose()
