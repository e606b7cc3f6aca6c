"""Subscribing from inside Telegram: commands in private chats, groups and channels, votes from the buttons."""

from __future__ import annotations

import pytest

from digest.services import feedback
from digest.services.matching import run_match_cycle
from digest.services.subscribers import find_subscriber, list_subscriptions
from digest.settings import Settings
from digest.telegram.api import TelegramClient
from digest.telegram.channel import telegram_channel
from digest.telegram.commands import parse
from digest.telegram.listener import TelegramListener
from storage.db import Database
from storage.types import utcnow
from tests.bot.conftest import add_papers
from tests.digest.telegram.double import TelegramDouble


@pytest.fixture
def listener(tg_settings: Settings, db: Database, client: TelegramClient) -> TelegramListener:
    return TelegramListener(tg_settings, db, client)


async def said(double: TelegramDouble, listener: TelegramListener, chat_id: int, text: str, user_id: int = 42) -> str:
    before = len(double.sent.get(chat_id, []))
    double.user_says(chat_id, text, user_id=user_id)
    assert await listener.poll_once(timeout=1) == 1
    replies = double.texts(chat_id)[before:]
    return replies[0] if replies else ""


@pytest.mark.parametrize(("text", "parsed"), [
    ("/subscribe diffusion", ("subscribe", "diffusion")), ("/list@paperbell_bot", ("list", "")),
    ("/list@other_bot", None), ("hello", None), ("/search  a\nb ", ("search", "a\nb")),
])
def test_commands_for_this_bot_only(text: str, parsed: tuple[str, str] | None) -> None:
    assert parse(text, "paperbell_bot") == parsed


async def test_subscribe_in_a_private_chat_then_posts_and_votes(
        tg_settings: Settings, db: Database, double: TelegramDouble, client: TelegramClient,
        listener: TelegramListener) -> None:
    double.webhook = "https://old.example.org/hook"  # left by an earlier setup: the listener removes it first
    double.add_chat(4242)
    reply = await said(double, listener, 4242, "/subscribe diffusion")
    assert "Subscribed (#" in reply and "diffusion" in reply
    assert "#" in await said(double, listener, 4242, "/list")
    add_papers(db)
    run_match_cycle(db, tg_settings)
    report = await telegram_channel(tg_settings, db, client).deliver_due(utcnow())
    assert report.papers == 2
    post = double.sent[4242][-1]
    up = post["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    double.press(4242, post["message_id"], up)
    await listener.poll_once(timeout=1)
    assert "👍 recorded" in double.answered[-1]["text"]
    subscriber = find_subscriber(db, "telegram_chat", "4242")
    assert subscriber is not None and feedback.vote_counts(db, subscriber.id or 0).up == 1
    double.press(4242, post["message_id"], up)  # pressed again: withdrawn
    await listener.poll_once(timeout=1)
    assert "withdrawn" in double.answered[-1]["text"]


async def test_in_a_group_only_administrators_manage_subscriptions(
        db: Database, double: TelegramDouble, listener: TelegramListener) -> None:
    double.add_chat(-100777, "supergroup", "Lab").admins.add(1)
    assert "administrators" in await said(double, listener, -100777, "/subscribe diffusion", user_id=2)
    assert find_subscriber(db, "telegram_chat", "-100777") is None
    assert "Subscribed" in await said(double, listener, -100777, "/subscribe@paperbell_bot diffusion", user_id=1)
    subscriber = find_subscriber(db, "telegram_chat", "-100777")
    assert subscriber is not None and subscriber.display_name == "Lab"
    assert "daily digest at 08:00 UTC" in await said(double, listener, -100777, "/schedule daily 8", user_id=1)
    assert "administrators" in await said(double, listener, -100777, "/schedule instant", user_id=2)
    assert "hour must be 0-23" in await said(double, listener, -100777, "/schedule daily 25", user_id=1)
    assert "Posted: a daily digest" in await said(double, listener, -100777, "/list", user_id=2)  # anyone may look
    [row] = list_subscriptions(db, subscriber_id=subscriber.id)
    assert "Removed" in await said(double, listener, -100777, f"/unsubscribe {row.id}", user_id=1)


@pytest.mark.parametrize(("text", "answer"), [
    ("/subscribe", "Add a query"), ("/subscribe (((", "invalid query"), ("/subscribe " + "x " * 3000, "⚠️"),
    ("/unsubscribe abc", "Add a number"), ("/unsubscribe 99999", "No subscriptions"), ("/search", "Add a query"),
    ("/start", "/subscribe"), ("/schedule hourly", "instant, daily"), ("/schedule daily 25", "Subscribe first"),
    ("/schedule daily", "Subscribe first"),
])
async def test_bad_input_gets_a_one_line_reason_and_changes_nothing(
        db: Database, double: TelegramDouble, listener: TelegramListener, text: str, answer: str) -> None:
    double.add_chat(9)
    reply = await said(double, listener, 9, text)
    assert answer in reply
    assert find_subscriber(db, "telegram_chat", "9") is None or "Subscribed" not in reply


async def test_markup_in_a_query_is_shown_as_text(double: TelegramDouble, listener: TelegramListener) -> None:
    double.add_chat(9)
    assert "Subscribed (#1): <b>&." in await said(double, listener, 9, "/subscribe <b>&")  # the double parsed the HTML
    assert "#1: <b>&" in await said(double, listener, 9, "/list")


async def test_search_shows_the_strongest_stored_papers(db: Database, double: TelegramDouble,
                                                        listener: TelegramListener) -> None:
    double.add_chat(9)
    add_papers(db)
    reply = await said(double, listener, 9, "/search diffusion")
    assert "stored papers match" in reply and "Diffusion models for protein design" in reply


async def test_a_foreign_button_and_a_blocked_reply_stay_their_own(double: TelegramDouble,
                                                                   listener: TelegramListener) -> None:
    double.add_chat(9)
    double.press(9, 1, "pb:v:1:x")
    double.add_chat(10).blocked = True
    double.user_says(10, "/list")
    double.user_says(9, "/list")
    assert await listener.poll_once(timeout=1) == 3
    assert double.answered[-1]["text"] == "This button is not paperbell's."
    assert "No subscriptions" in double.texts(9)[-1]  # answered although the blocked chat's reply failed


async def test_updates_that_are_no_commands_are_skipped_and_the_next_is_answered(
        double: TelegramDouble, listener: TelegramListener) -> None:
    chat = {"id": 9, "type": "private", "first_name": "Ada"}
    user = {"id": 42, "is_bot": False, "first_name": "Ada"}
    double.add_chat(9)
    double.queue_raw({"message": {"message_id": 1, "date": 0, "chat": chat, "from": user,
                                  "photo": [{"file_id": "x", "file_unique_id": "y", "width": 1, "height": 1}]}})
    double.queue_raw({"edited_message": {"message_id": 2, "date": 0, "chat": chat, "text": "/subscribe x"}})
    double.queue_raw({"callback_query": {"id": "cq", "from": user, "chat_instance": "9", "data": "pb:v:1:u"}})
    double.queue_raw({"message": {"message_id": 3, "date": 0, "chat": chat, "from": user, "text": "/" + "x" * 5000}})
    double.user_says(9, "/list")
    assert await listener.poll_once(timeout=1) == 5
    assert len(double.texts(9)) == 1 and "No subscriptions" in double.texts(9)[0]  # only /list was a command
    assert double.answered[-1]["text"] == "This button is not paperbell's."  # a press without its message
