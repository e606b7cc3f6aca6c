"""End to end through the Telegram double: a match, an instant post and a digest within Telegram's limits, a
blocked bot paused with its reason, a lost reply retried (at most one copy more, never another mix)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import col, select

from digest.services.matching import run_match_cycle
from digest.services.subscribers import add_subscriber, add_subscription, get_subscriber, set_schedule
from digest.settings import Settings
from digest.telegram.api import TelegramClient
from digest.telegram.channel import telegram_channel
from digest.telegram.html import MESSAGE_MAX
from storage.db import Database
from storage.models import Delivery, DeliveryStatus
from storage.types import utcnow
from tests.bot.conftest import add_papers
from tests.digest.status_cli import status_lines
from tests.digest.telegram.double import TelegramDouble


def statuses(db: Database) -> list[str]:
    with db.session() as session:
        return [r.status for r in session.exec(select(Delivery).order_by(col(Delivery.id))).all()]


def subscribed(db: Database, settings: Settings, chat_id: int, **options: object) -> int:
    subscriber = add_subscriber(db, settings, "telegram_chat", str(chat_id), **options)  # type: ignore[arg-type]
    add_subscription(db, settings, subscriber.id or 0, "diffusion")
    return subscriber.id or 0


async def test_instant_posts_then_a_digest_within_limits(tg_settings: Settings, db: Database, double: TelegramDouble,
                                                         client: TelegramClient) -> None:
    double.add_chat(-1001234567890, "supergroup")
    subscriber_id = subscribed(db, tg_settings, -1001234567890)
    add_papers(db)
    run_match_cycle(db, tg_settings)
    channel = telegram_channel(tg_settings, db, client)
    report = await channel.deliver_due(utcnow())
    assert (report.messages, report.papers) == (2, 2)
    sent = double.sent[-1001234567890]
    assert sorted(m["text"].split("\n")[0] for m in sent) == ["Diffusion models for protein design",
                                                               "Latent diffusion with fewer steps"]
    assert all(len(m["reply_markup"]["inline_keyboard"][0]) == 2 for m in sent)
    assert set(statuses(db)) == {DeliveryStatus.SENT}
    assert (await channel.deliver_due(utcnow())).messages == 0  # nothing twice

    set_schedule(db, subscriber_id, schedule="daily", hour=0)
    add_papers(db, [(f"Diffusion paper {n} " + "ü😀" * 100, "diffusion " * 80) for n in range(14)], start=100)
    run_match_cycle(db, tg_settings)
    report = await channel.deliver_due(utcnow() + timedelta(days=1))
    assert report.papers == 14 and report.messages >= 3  # cut by the 4,096 limit and ten papers a message
    digest = double.sent[-1001234567890][2:]
    assert all(len(m["text"].encode("utf-16-le")) // 2 <= MESSAGE_MAX for m in digest)
    assert "paperbell daily digest · part 1/" in digest[0]["text"]
    assert double.refusals == [] and double.rate_limited == 0


async def test_a_blocked_bot_pauses_the_chat_with_the_reason(tg_settings: Settings, db: Database,
                                                            double: TelegramDouble, client: TelegramClient,
                                                            monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    double.add_chat(555).blocked = True
    subscriber_id = subscribed(db, tg_settings, 555)
    add_papers(db)
    run_match_cycle(db, tg_settings)
    report = await telegram_channel(tg_settings, db, client).deliver_due(utcnow())
    assert report.statuses == {"paused": 1} and report.messages == 0
    paused = get_subscriber(db, subscriber_id)
    assert paused.paused and paused.pause_reason == "Telegram: Forbidden: bot was blocked by the user"
    assert set(statuses(db)) == {DeliveryStatus.PENDING}  # kept for when the chat unblocks the bot
    shown = status_lines(tg_settings, monkeypatch, tmp_path, PAPERBELL_TELEGRAM_TOKEN=double.token)
    assert "Telegram (telegram_chat): posting; 1 target(s), 1 paused" in shown
    assert "Forbidden: bot was blocked by the user" in shown
    unset = status_lines(tg_settings, monkeypatch, tmp_path, PAPERBELL_TELEGRAM_TOKEN="")
    assert "not posting: PAPERBELL_TELEGRAM_TOKEN is not set" in unset


async def test_a_lost_reply_repeats_that_one_message_at_most(tg_settings: Settings, db: Database,
                                                            double: TelegramDouble, client: TelegramClient) -> None:
    double.add_chat(777)
    subscriber_id = subscribed(db, tg_settings, 777)
    add_papers(db)
    run_match_cycle(db, tg_settings)
    channel = telegram_channel(tg_settings, db, client)
    double.lose_replies = 1
    first = await channel.deliver_due(utcnow())
    assert first.statuses == {"retry_later": 1} and len(double.sent[777]) == 1
    second = await channel.deliver_due(utcnow() + timedelta(hours=1))
    assert (second.messages, second.papers) == (2, 2)
    texts = [m["text"] for m in double.sent[777]]
    assert len(texts) == 3 and texts[0] == texts[1]  # the bound: one copy more of the very same message
    assert set(statuses(db)) == {DeliveryStatus.SENT}
    assert get_subscriber(db, subscriber_id).send_failures == 0


async def test_a_message_telegram_refuses_fails_alone(tg_settings: Settings, db: Database, double: TelegramDouble,
                                                     client: TelegramClient) -> None:
    double.add_chat(888)
    subscribed(db, tg_settings, 888)
    add_papers(db)
    run_match_cycle(db, tg_settings)
    real_check = double._m_sendMessage
    calls = 0

    async def refuse_first(params: dict[str, object], request: object) -> object:
        nonlocal calls
        calls += 1
        if calls == 1:
            from tests.digest.telegram.double.rules import Refusal

            raise Refusal(400, "Bad Request: message is too long")
        return await real_check(params, request)  # type: ignore[arg-type]

    double._m_sendMessage = refuse_first  # type: ignore[method-assign]
    report = await telegram_channel(tg_settings, db, client).deliver_due(utcnow())
    assert report.messages == 1 and sorted(statuses(db)) == [DeliveryStatus.FAILED, DeliveryStatus.SENT]
    assert any("Message is too long" in line for line in report.failures)
