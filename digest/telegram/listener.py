"""The bot's ear: long polling with getUpdates, each update answered on its own (one bad update stays its own).

https://core.telegram.org/bots/api#getupdates: `offset` confirms everything before it, so an update is
handled at most once per process even across polls; a failure while handling one is logged and the
next goes on. Messages and channel posts go to `digest.telegram.commands`; button presses
(callback queries) are answered with answerCallbackQuery within Telegram's window, with a short text.
Run by the composition root next to the sender loop when `PAPERBELL_TELEGRAM_TOKEN` is set.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from digest.services.listening import poll_until
from digest.telegram.api import TelegramClient, reason
from digest.telegram.commands import Commands, Said
from digest.telegram.keyboard import parse_callback
from digest.telegram.settings import TelegramSettings
from storage.db import Database

log = logging.getLogger(__name__)
ALLOWED_UPDATES = ["message", "channel_post", "callback_query"]
ADMIN_STATUSES = frozenset({"creator", "administrator"})


class TelegramListener:
    """Polls updates for one bot and answers them through `Commands`."""

    def __init__(self, settings: TelegramSettings, db: Database, client: TelegramClient) -> None:
        self.client = client
        self.commands = Commands(settings, db, self._is_admin)
        self.offset: int | None = None
        self.username = ""

    async def _is_admin(self, chat_id: int, user_id: int) -> bool:
        member = await self.client.bot.get_chat_member(chat_id, user_id)
        return str(member.status) in ADMIN_STATUSES

    async def poll_once(self, timeout: int = 30) -> int:
        """One getUpdates (waiting up to `timeout` s for something); returns how many updates were handled."""
        if not self.username:  # the token checked, and getUpdates allowed (409 Conflict while a webhook is set)
            self.username = await self.client.start()
            await self.client.bot.delete_webhook(drop_pending_updates=False)
        updates = await self.client.bot.get_updates(offset=self.offset, timeout=timeout,
                                                    allowed_updates=ALLOWED_UPDATES)
        for update in updates:
            self.offset = update.update_id + 1
            try:
                await self.handle(update)
            except Exception as exc:  # one update's failure (a blocked chat, a bad query) stays its own
                log.warning("telegram: update %s not answered: %s", update.update_id, reason(exc))
        return len(updates)

    async def handle(self, update: Any) -> None:
        if update.callback_query is not None:
            await self._pressed(update.callback_query)
            return
        message = update.message or update.channel_post
        if message is None or not message.text:
            return
        chat = message.chat
        said = Said(chat.id, str(chat.type), chat.title or chat.username or "",
                    message.from_user.id if message.from_user else None, message.text)
        answer = await self.commands.answer(said, self.username)
        if answer is not None:
            await self.client.reply(chat.id, answer)

    async def _pressed(self, query: Any) -> None:
        parsed = parse_callback(query.data)
        chat = query.message.chat if query.message is not None else None
        if parsed is None or chat is None:
            await query.get_bot().answer_callback_query(query.id, text="This button is not paperbell's.")
            return
        paper_id, vote = parsed
        text = await self.commands.vote(chat.id, query.from_user.id, paper_id, vote)
        await query.get_bot().answer_callback_query(query.id, text=text)

    async def run(self, stop: asyncio.Event) -> None:
        """Poll until `stop` is set (digest.services.listening: back-off on failures, prompt stop), then close."""
        try:
            await poll_until(stop, self.poll_once, "telegram", reason)
        finally:
            await self.client.close()
