"""Lifecycle updates through the shared loop on Telegram: one message after a received paper's v4 appears,
never twice; a send Telegram refused (bot kicked) records nothing as told, and once the chat is back the
next pass tells it."""

from __future__ import annotations

from digest.core.lifecycle import SECTION_TITLE
from digest.services.lifecycle import pending_updates
from digest.services.subscribers import set_subscriber_paused
from digest.settings import Settings
from digest.telegram.api import TelegramClient
from digest.telegram.channel import telegram_channel
from digest.telegram.html import MESSAGE_MAX
from storage.db import Database
from storage.types import utcnow
from tests.digest.services.chat_updates_case import V4_LINE, day1, day3, notices
from tests.digest.telegram.double import TelegramDouble

CHAT = -1001234567890


def update_texts(double: TelegramDouble) -> list[str]:
    return [text for text in double.texts(CHAT) if SECTION_TITLE in text]


async def test_a_new_version_is_told_once_in_its_own_message(tg_settings: Settings, db: Database,
                                                             double: TelegramDouble, client: TelegramClient) -> None:
    double.add_chat(CHAT, "supergroup")
    await day1(tg_settings, db, "telegram_chat", str(CHAT))
    channel = telegram_channel(tg_settings, db, client)
    assert (await channel.deliver_due(utcnow())).papers == 3
    await day3(tg_settings, db)
    assert (await channel.deliver_due(utcnow())).papers == 1  # the day's new paper, and the update beside it
    [text] = update_texts(double)
    assert V4_LINE in text and "“Deniable Encryption in a Quantum World”" in text
    [message] = [m for m in double.sent[CHAT] if m["text"] == text]
    assert message["sent_html"].startswith("🔔 <b>") and message["reply_markup"] is None  # no vote buttons
    assert len(text.encode("utf-16-le")) // 2 <= MESSAGE_MAX
    assert notices(db) == 1
    before = len(double.sent[CHAT])
    await channel.deliver_due(utcnow())
    assert len(double.sent[CHAT]) == before  # the second pass posts nothing
    assert double.refusals == []


async def test_a_refused_send_is_not_recorded_as_told(tg_settings: Settings, db: Database, double: TelegramDouble,
                                                      client: TelegramClient) -> None:
    chat = double.add_chat(CHAT, "supergroup")
    subscriber_id = await day1(tg_settings, db, "telegram_chat", str(CHAT))
    channel = telegram_channel(tg_settings, db, client)
    await channel.deliver_due(utcnow())
    await day3(tg_settings, db)
    chat.kicked = True  # 403: the update's send refused (and the paper's: the chat is paused)
    await channel.deliver_due(utcnow())
    assert update_texts(double) == [] and notices(db) == 0
    assert [note.kind for note in pending_updates(db, subscriber_id)] == ["new-version"]
    chat.kicked = False
    set_subscriber_paused(db, subscriber_id, False)
    await channel.deliver_due(utcnow())
    await channel.deliver_due(utcnow())
    assert len(update_texts(double)) == 1 and notices(db) == 1
