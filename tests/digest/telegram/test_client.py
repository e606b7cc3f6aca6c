"""The real python-telegram-bot client against the Bot API double: sends, refusals sorted, pacing keeps 429s away."""

from __future__ import annotations

import pytest

from digest.core.assembly import DigestItem
from digest.services.channels import FailureKind
from digest.telegram.api import TelegramClient, classify, reason
from digest.telegram.pacing import pacer
from digest.telegram.render import instant_messages
from tests.digest.telegram.double import TelegramDouble


def _message(title: str = "A <b>bold</b> & risky title") -> dict[str, object]:
    item = DigestItem(delivery_id=1, paper_id=7, subscription_id=1, query="q", title=title,
                      abs_url="https://arxiv.org/abs/2601.00001")
    return instant_messages([item])[0][2]


async def test_a_message_arrives_escaped_with_its_buttons(double: TelegramDouble, client: TelegramClient) -> None:
    double.add_chat(5)
    message_id = await client.send("5", _message())
    [sent] = double.sent[5]
    assert message_id == f"5:{sent['message_id']}"
    assert "A <b>bold</b> & risky title" in sent["text"]  # shown as text, not as markup
    assert [b["callback_data"] for b in sent["reply_markup"]["inline_keyboard"][0]] == ["pb:v:7:u", "pb:v:7:d"]


@pytest.mark.parametrize(("setup", "kind", "said"), [
    (lambda d: d.add_chat(5).__setattr__("blocked", True), FailureKind.UNREACHABLE, "blocked by the user"),
    (lambda d: d.add_chat(5, "group").__setattr__("kicked", True), FailureKind.UNREACHABLE, "kicked from the group"),
    (lambda d: d.add_chat(5, "channel").__setattr__("kicked", True), FailureKind.UNREACHABLE, "not a member"),
    (lambda d: None, FailureKind.UNREACHABLE, "Chat not found"),
    (lambda d: d.add_chat(5, "group").__setattr__("migrated_to", -1009), FailureKind.UNREACHABLE, "chat id -1009"),
    (lambda d: d.forced_429.append(3) or d.add_chat(5), FailureKind.TRANSIENT, "retry after 3"),
])
async def test_refusals_are_sorted_and_said_in_one_line(double: TelegramDouble, client: TelegramClient, setup: object,
                                                        kind: FailureKind, said: str) -> None:
    setup(double)  # type: ignore[operator]
    with pytest.raises(Exception) as caught:
        await client.send("5", _message())
    assert classify(caught.value) == kind
    assert said in reason(caught.value) and "\n" not in reason(caught.value)


@pytest.mark.parametrize(("text", "said"), [
    ("x" * 4097, "too long"), ("<blink>x</blink>", "parse entities"), ("a & b", "parse entities"), (" ", "empty"),
])
async def test_bodies_telegram_refuses_are_refused_for_that_message_only(
        double: TelegramDouble, client: TelegramClient, text: str, said: str) -> None:
    double.add_chat(5)
    with pytest.raises(Exception) as caught:
        await client.send("5", {"text": text, "parse_mode": "HTML"})
    assert classify(caught.value) == FailureKind.REFUSED and said in reason(caught.value).lower()


async def test_a_lost_reply_is_a_transient_unknown_outcome(double: TelegramDouble, client: TelegramClient) -> None:
    double.add_chat(5)
    double.lose_replies = 1
    with pytest.raises(Exception) as caught:
        await client.send("5", _message())
    assert classify(caught.value) == FailureKind.TRANSIENT and len(double.sent[5]) == 1


async def test_pacing_keeps_bursts_to_one_chat_and_a_group_free_of_429(double: TelegramDouble,
                                                                     client: TelegramClient) -> None:
    double.add_chat(5)
    double.add_chat(-100, "supergroup")
    for _ in range(6):
        await client.send("5", _message())
    for _ in range(22):  # past 20 a minute: the pacer waits for the window
        await client.send("-100", _message())
    assert double.rate_limited == 0 and len(double.sent[-100]) == 22


async def test_without_pacing_the_double_refuses_a_burst() -> None:
    double = await TelegramDouble().start()  # Telegram's own windows, unscaled
    unpaced = TelegramClient(double.token, double.base_url, pacer(0.0), timeout=5)
    double.add_chat(5)
    try:
        with pytest.raises(Exception) as caught:
            for _ in range(4):
                await unpaced.send("5", _message())
        assert classify(caught.value) == FailureKind.TRANSIENT and double.rate_limited == 1
        assert unpaced.unplanned == 1
    finally:
        await unpaced.close()
        await double.stop()


async def test_a_wrong_token_says_which_setting_to_check(double: TelegramDouble) -> None:
    bot = TelegramClient("999:wrong", double.base_url, timeout=5)
    with pytest.raises(Exception) as caught:
        await bot.start()
    assert "PAPERBELL_TELEGRAM_TOKEN" in reason(caught.value)
