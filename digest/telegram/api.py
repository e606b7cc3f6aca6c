"""The Bot API client: python-telegram-bot's `Bot` pointed at a configurable base URL, paced, errors sorted.

python-telegram-bot is imported inside the functions that use it, so commands that never talk to
Telegram do not load it. Answers are sorted into the three failure kinds every channel shares
(https://core.telegram.org/bots/api#making-requests: `ok: false` with `error_code` and `description`):
  - refused (this message can never be sent): 400 "message is too long", "can't parse entities",
    "message text is empty", "BUTTON_DATA_INVALID", …
  - unreachable (nothing reaches this chat; the subscriber is paused with the reason): 403 "bot was
    blocked by the user", "bot was kicked from the group chat", "bot is not a member of the channel
    chat"; 400 "chat not found", "not enough rights", "CHAT_WRITE_FORBIDDEN"; a group upgraded to a
    supergroup (`migrate_to_chat_id`).
  - transient: 429 (`retry_after` holds the chat in the pacer, and the send gives up as `RetryLater`),
    5xx, timeouts, a dropped connection (an unknown outcome: Telegram has no idempotency key, see
    digest.telegram.channel) and a bad token (every chat would fail alike: nobody is paused for it;
    the log names PAPERBELL_TELEGRAM_TOKEN).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from digest.services.channels import FailureKind
from digest.services.pacing import Pacer, RateLimited
from digest.telegram.pacing import pacer as telegram_pacer

T = TypeVar("T")

# 400 descriptions that mean the chat, not the message, is the problem
_CHAT_PROBLEMS = ("chat not found", "not enough rights", "chat_write_forbidden", "have no rights",
                  "need administrator rights", "chat_restricted", "peer_id_invalid", "user is deactivated")


def classify(error: BaseException) -> FailureKind:
    """Which of the three failure kinds a python-telegram-bot error is (see the module docstring)."""
    from telegram import error as tg

    if isinstance(error, (tg.Forbidden, tg.ChatMigrated)):
        return FailureKind.UNREACHABLE
    if isinstance(error, tg.BadRequest):
        text = error.message.lower()
        return FailureKind.UNREACHABLE if any(p in text for p in _CHAT_PROBLEMS) else FailureKind.REFUSED
    return FailureKind.TRANSIENT


def reason(error: BaseException) -> str:
    """One line for the operator: what Telegram said and what to do next (without the "Telegram: " prefix)."""
    from telegram import error as tg

    if isinstance(error, tg.ChatMigrated):
        return (f"the group became a supergroup with chat id {error.new_chat_id}; subscribe that id "
                "(or send /subscribe there again)")
    if isinstance(error, tg.InvalidToken):
        return "the bot token was refused: check PAPERBELL_TELEGRAM_TOKEN (from @BotFather)"
    if isinstance(error, tg.RetryAfter):
        return f"too many requests, retry after {error.retry_after} s"
    text = getattr(error, "message", None) or str(error) or type(error).__name__
    return text[:300]  # the posting loop puts "Telegram: " in front


def _markup(keyboard: dict[str, Any] | None) -> Any:
    if not keyboard:
        return None
    from telegram import InlineKeyboardButton, InlineKeyboardMarkup

    return InlineKeyboardMarkup([[InlineKeyboardButton(b["text"], callback_data=b["callback_data"]) for b in row]
                                 for row in keyboard["inline_keyboard"]])


class TelegramClient:
    """One bot: `start()` checks the token (getMe), `send` posts one paced message and returns its id."""

    def __init__(self, token: str, base_url: str, pacer: Pacer | None = None, *, timeout: float = 20.0) -> None:
        self.token, self.base_url, self.timeout = token, base_url, timeout
        self.pacer = pacer or telegram_pacer()
        self._bot: Any = None
        self._requests: tuple[Any, ...] = ()  # the bot's HTTP clients (sends, long polling)

    @property
    def unplanned(self) -> int:
        """429s met (the bench reports them: pacing should keep this at 0)."""
        return self.pacer.unplanned

    @property
    def bot(self) -> Any:
        if self._bot is None:
            from telegram import Bot
            from telegram.request import HTTPXRequest

            # sends share a pool; long polling gets its own so it never holds a send up
            self._requests = (HTTPXRequest(connection_pool_size=16, read_timeout=self.timeout),
                              HTTPXRequest(connection_pool_size=1, read_timeout=self.timeout + 40))
            self._bot = Bot(self.token, base_url=self.base_url, request=self._requests[0],
                            get_updates_request=self._requests[1])
        return self._bot

    async def start(self) -> str:
        """Check the token (getMe); returns the bot's @username."""
        await self.bot.initialize()
        return str(self.bot.username)

    async def close(self) -> None:
        """Close the bot's HTTP clients, also when it only sent (`Bot.shutdown` skips a bot never initialized)."""
        if self._bot is not None:
            await self._bot.shutdown()
        for request in self._requests:
            await request.shutdown()  # a no-op for one already closed

    async def _paced(self, chat_id: int, call: Callable[[], Awaitable[T]]) -> T:
        """`call` after the chat's pacing slot; Telegram's 429 holds the chat (digest.telegram.pacing)."""
        from telegram.error import RetryAfter

        async def request() -> T:
            try:
                return await call()
            except RetryAfter as exc:
                raise RateLimited(float(exc.retry_after), "Telegram") from exc

        return await self.pacer.send(request, str(chat_id))

    async def send(self, chat_id: str, message: dict[str, Any]) -> str:
        """Post one rendered message (digest.telegram.render) after its pacing slot; returns "chat:message"."""
        from telegram import LinkPreviewOptions

        chat = int(chat_id)
        sent = await self._paced(chat, lambda: self.bot.send_message(
            chat_id=chat, text=message["text"], parse_mode=message.get("parse_mode", "HTML"),
            link_preview_options=LinkPreviewOptions(is_disabled=True),
            reply_markup=_markup(message.get("reply_markup"))))
        return f"{chat}:{sent.message_id}"

    async def reply(self, chat_id: int, text: str) -> None:
        """A command's answer: plain HTML text, clipped by the caller, paced like every other message."""
        await self._paced(chat_id, lambda: self.bot.send_message(chat_id=chat_id, text=text, parse_mode="HTML"))
