"""The Telegram channel behind the `Channel` protocol: the shared posting loop over `TelegramPlatform`.

Built by the composition root (digest.runtime.channels) when `PAPERBELL_TELEGRAM_TOKEN` is set.
Lost replies: the Bot API takes no idempotency key and a bot cannot read a chat's history, so when
a send's outcome is unknown (a timeout, a dropped connection after the request left) the shared loop
pins those papers together and the retry posts that same message again; `find_sent` cannot look.
Duplicates are so bounded: at most one extra copy of one message per lost reply, never a different
mix of papers, and never for a send Telegram answered (refusals and 429s are known not posted).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from digest.core.assembly import Digest, DigestItem
from digest.services.channels import FailureKind
from digest.services.digest_extras import DigestExtras
from digest.services.posting import PostingChannel, PostRejected, Rendered, RetryLater, TargetUnreachable
from digest.telegram import render
from digest.telegram.api import TelegramClient, classify, reason
from digest.telegram.html import escape
from digest.telegram.settings import TelegramSettings
from digest.telegram.spec import CHAT
from storage.db import Database
from storage.models import Subscriber


class TelegramPlatform:
    """Posts to Telegram chats (private chats, groups, supergroups, channels) through one bot."""

    kinds: tuple[str, ...] = (CHAT,)
    label = "Telegram"

    def __init__(self, settings: TelegramSettings, client: TelegramClient | None = None) -> None:
        if client is None:
            if settings.telegram_token is None:
                raise ValueError("PAPERBELL_TELEGRAM_TOKEN is not set")
            client = TelegramClient(settings.telegram_token.get_secret_value(), settings.telegram_api_url)
        self.client = client

    def render_instant(self, subscriber: Subscriber, item: DigestItem) -> Any:
        return render.message(render.paper_html(item), [item.paper_id])

    def render_digest(self, subscriber: Subscriber, digest: Digest) -> list[Rendered]:
        return [(delivery_ids, body) for delivery_ids, _, body in render.digest_messages(digest, subscriber.schedule)]

    def render_updates(self, subscriber: Subscriber, extras: DigestExtras) -> Any | None:
        lines = extras.chat_lines(lambda heading: f"<b>{heading}</b>", escape)  # `message` clips the HTML last
        return render.message("\n".join(lines), []) if lines else None

    async def send(self, subscriber: Subscriber, body: Any, *, key: str) -> str:
        try:
            return await self.client.send(subscriber.address, body)
        except Exception as exc:
            raise _known(exc) from exc

    async def find_sent(self, subscriber: Subscriber, body: Any, *, key: str, since: datetime) -> str | None:
        return None  # a bot cannot read a chat's history: see the module docstring for the bound

    async def notify_paused(self, subscriber: Subscriber, reason: str) -> None:
        return None  # blocked, kicked or unknown chat: Telegram lets nobody there be told

    async def aclose(self) -> None:
        await self.client.close()


def _known(error: Exception) -> Exception:
    """python-telegram-bot's error as the posting loop's: refused, unreachable, retry later, or unknown.

    A 429 arrives here already as `RetryLater` with Telegram's `retry_after` (the pacer's, digest.services.pacing).
    """
    from telegram.error import InvalidToken

    kind = classify(error)
    if kind is FailureKind.REFUSED:
        return PostRejected(reason(error))
    if kind is FailureKind.UNREACHABLE:
        return TargetUnreachable(reason(error))
    if isinstance(error, InvalidToken):
        return RetryLater(reason(error))  # answered: known not posted, and no chat's fault
    return error  # timeouts, dropped connections: the outcome is unknown (the loop pins the papers)


def telegram_channel(settings: TelegramSettings, db: Database, client: TelegramClient | None = None) -> PostingChannel:
    """The Telegram channel on these settings (`PAPERBELL_TELEGRAM_TOKEN` must be set unless given a client)."""
    return PostingChannel(settings, db, TelegramPlatform(settings, client), "telegram")
