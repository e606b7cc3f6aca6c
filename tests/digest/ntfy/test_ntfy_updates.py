"""Lifecycle updates through the shared loop on ntfy: one notification after a received paper's v4 appears,
never twice, and a refused post records nothing as told (the next pass tells it)."""

from __future__ import annotations

from digest.core.lifecycle import SECTION_TITLE
from digest.ntfy.channel import ntfy_channel
from digest.services.lifecycle import pending_updates
from digest.services.subscribers import set_subscriber_paused
from digest.settings import Settings
from storage.db import Database
from storage.types import utcnow
from tests.digest.ntfy.ntfy_double import NtfyDouble
from tests.digest.services.chat_updates_case import V4_LINE, day1, day3, notices

TOPIC = "lab-updates"


def update_posts(double: NtfyDouble) -> list[dict[str, object]]:
    return [m for m in double.messages.get(TOPIC, []) if SECTION_TITLE in str(m.get("message", ""))]


async def test_a_new_version_is_told_once_in_its_own_notification(ntfy_settings: Settings, db: Database,
                                                                  double: NtfyDouble) -> None:
    await day1(ntfy_settings, db, "ntfy_topic", TOPIC)
    channel = ntfy_channel(ntfy_settings, db)
    assert (await channel.deliver_due(utcnow())).papers == 3
    assert update_posts(double) == []
    await day3(ntfy_settings, db)
    report = await channel.deliver_due(utcnow())
    assert report.papers == 1  # the day's new paper; the update is its own post beside it
    [post] = update_posts(double)
    assert V4_LINE in str(post["message"]) and "Deniable Encryption in a Quantum World" in str(post["message"])
    assert post["title"] == "paperbell: updates" and len(str(post["message"]).encode()) <= 4096
    assert notices(db) == 1
    before = len(double.all_messages())
    await channel.deliver_due(utcnow())
    assert len(double.all_messages()) == before  # the second pass posts nothing


async def test_a_refused_post_is_not_recorded_as_told(ntfy_settings: Settings, db: Database,
                                                      double: NtfyDouble) -> None:
    subscriber_id = await day1(ntfy_settings, db, "ntfy_topic", TOPIC)
    channel = ntfy_channel(ntfy_settings, db)
    await channel.deliver_due(utcnow())
    await day3(ntfy_settings, db)
    double.denied.add(TOPIC)  # 403: the update post (and the paper's) refused
    await channel.deliver_due(utcnow())
    assert update_posts(double) == [] and notices(db) == 0
    assert [note.kind for note in pending_updates(db, subscriber_id)] == ["new-version"]

    double.denied.discard(TOPIC)
    set_subscriber_paused(db, subscriber_id, False)
    await channel.deliver_due(utcnow())
    await channel.deliver_due(utcnow())
    assert len(update_posts(double)) == 1 and notices(db) == 1
