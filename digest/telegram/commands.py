"""Telegram commands: /subscribe, /list, /unsubscribe, /search, /help, and 👍/👎 presses, answered in HTML.

Called by the update listener (digest.telegram.listener) for each message or button press; blocking
database work runs through `db.run`. A chat (private, group, supergroup or channel) is one
subscriber of kind `telegram_chat` whose address is the chat id, created by its first /subscribe.
In groups only the group's administrators manage its subscriptions (`getChatMember`,
https://core.telegram.org/bots/api#getchatmember); in a channel whoever can post is an administrator.
With privacy mode on (https://core.telegram.org/bots/features#privacy-mode) a bot in a group sees
only commands, which is all this needs. Every reply says what happened and what to do next.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from digest.services.chat_commands import Target, vote_here
from digest.services.chat_replies import MANAGING, Wording, reply
from digest.telegram.html import MESSAGE_MAX, clip_html
from digest.telegram.render import paper_html
from digest.telegram.settings import TelegramSettings
from digest.telegram.spec import CHAT
from storage.db import Database

KIND = CHAT
_COMMAND = re.compile(r"^/(?P<name>[a-z_]{1,32})(?:@(?P<bot>\w{1,64}))?(?:\s+(?P<args>.*))?$", re.DOTALL)
@dataclass(frozen=True)
class Said:
    """One command as the listener read it from an update."""

    chat_id: int
    chat_type: str  # private | group | supergroup | channel
    title: str
    user_id: int | None  # None for a channel post
    text: str


def parse(text: str, bot_username: str) -> tuple[str, str] | None:
    """(command, arguments) for a command meant for this bot, else None (other bots' and plain text)."""
    found = _COMMAND.match(text.strip())
    if found is None or (found.group("bot") and found.group("bot").lower() != bot_username.lower()):
        return None
    return found.group("name"), (found.group("args") or "").strip()


WORDING = Wording(prefix="/", place="chat")


class Commands:
    """The command handlers; `is_admin(chat_id, user_id)` asks Telegram (getChatMember) in groups."""

    def __init__(self, settings: TelegramSettings, db: Database,
                 is_admin: Callable[[int, int], Awaitable[bool]]) -> None:
        self.settings, self.db, self.is_admin = settings, db, is_admin

    async def answer(self, said: Said, bot_username: str) -> str | None:
        """The HTML reply to a message, or None when it was not a command for this bot."""
        parsed = parse(said.text, bot_username)
        if parsed is None:
            return None
        name, args = parsed
        if name in MANAGING and not await self._may_manage(said):
            return "Only this group's administrators can change its paperbell subscriptions."
        target = Target(KIND, str(said.chat_id), said.title, str(said.user_id) if said.user_id is not None else None)
        text = await reply(self.settings, self.db, WORDING, target, name, args,
                           lambda item, n: paper_html(item, number=n, summary_max=300))
        return clip_html(text, MESSAGE_MAX)

    async def _may_manage(self, said: Said) -> bool:
        if said.chat_type in ("private", "channel") or said.user_id is None:
            return True
        return await self.is_admin(said.chat_id, said.user_id)

    async def vote(self, chat_id: int, user_id: int, paper_id: int, vote: int) -> str:
        """A 👍/👎 press under a post: the chat's vote by this member (pressed again: withdrawn). ≤ 200 characters."""
        target = Target(KIND, str(chat_id), voter=str(user_id))
        answer: str = await self.db.run(vote_here, self.db, target, paper_id, vote, channel="telegram")
        return answer[:200]  # https://core.telegram.org/bots/api#answercallbackquery: text, 0-200 characters
