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

from digest.query import QueryError
from digest.services.chat_commands import (
    Target,
    describe_schedule,
    schedule_here,
    search,
    subscribe_here,
    subscriptions_here,
    unsubscribe_here,
    vote_here,
)
from digest.services.errors import ServiceError
from digest.settings import Settings
from digest.telegram.html import MESSAGE_MAX, clip_html, escape
from digest.telegram.render import paper_html
from storage.db import Database
from storage.models import SubscriberKind

KIND = SubscriberKind.TELEGRAM_CHAT.value
_COMMAND = re.compile(r"^/(?P<name>[a-z_]{1,32})(?:@(?P<bot>\w{1,64}))?(?:\s+(?P<args>.*))?$", re.DOTALL)
HELP = ("<b>paperbell</b> posts new papers matching your queries here.\n"
        "/subscribe <i>query</i>: e.g. <code>/subscribe diffusion AND protein</code>\n"
        "/list: this chat's queries · /unsubscribe <i>number</i> · /search <i>query</i>: stored papers now\n"
        "/schedule <i>instant</i> | <i>daily 8</i> | <i>weekly 8</i>: posts as matched, or a digest (hour, UTC)")


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


class Commands:
    """The command handlers; `is_admin(chat_id, user_id)` asks Telegram (getChatMember) in groups."""

    def __init__(self, settings: Settings, db: Database, is_admin: Callable[[int, int], Awaitable[bool]]) -> None:
        self.settings, self.db, self.is_admin = settings, db, is_admin

    async def answer(self, said: Said, bot_username: str) -> str | None:
        """The HTML reply to a message, or None when it was not a command for this bot."""
        parsed = parse(said.text, bot_username)
        if parsed is None:
            return None
        name, args = parsed
        handler = {"subscribe": self.subscribe, "list": self.list, "unsubscribe": self.unsubscribe,
                   "search": self.search, "schedule": self.schedule}.get(name)
        if handler is None:
            return HELP  # /start, /help and anything unknown
        if handler not in (self.search, self.list) and not await self._may_manage(said):
            return "Only this group's administrators can change its paperbell subscriptions."
        try:
            return clip_html(await handler(_target(said), args), MESSAGE_MAX)
        except (ServiceError, QueryError) as exc:
            return f"⚠️ {escape(str(exc))}"

    async def _may_manage(self, said: Said) -> bool:
        if said.chat_type in ("private", "channel") or said.user_id is None:
            return True
        return await self.is_admin(said.chat_id, said.user_id)

    async def subscribe(self, target: Target, query: str) -> str:
        if not query:
            return "Send <code>/subscribe</code> with a query, e.g. <code>/subscribe diffusion AND protein</code>."
        done = await self.db.run(subscribe_here, self.db, self.settings, target, query)
        lines = [f"✅ Subscribed (#{done.number}): <code>{escape(query)}</code>. Matching papers are posted here."]
        if done.backfilled:
            lines.append(f"{done.backfilled} recent matches come with the next post.")
        if done.resumed:
            lines.append("Posting here had been paused; it is on again.")
        lines.append("/list shows this chat's queries.")
        return "\n".join(lines)

    async def list(self, target: Target, args: str) -> str:
        subscriber, rows = await self.db.run(subscriptions_here, self.db, target)
        if not rows:
            return "No subscriptions in this chat yet: send <code>/subscribe</code> <i>query</i>."
        lines = [f"#{row.id}: <code>{escape(row.query)}</code>" for row in rows]
        assert subscriber is not None
        state = f"\n⏸ paused: {escape(subscriber.pause_reason or '')}" if subscriber.paused else ""
        when = f"\nPosted: {escape(describe_schedule(subscriber))} (/schedule changes it)."
        return "This chat's queries:\n" + "\n".join(lines) + state + when + "\n/unsubscribe <i>number</i> removes one."

    async def unsubscribe(self, target: Target, args: str) -> str:
        if not args.lstrip("#").isdigit():
            return "Send <code>/unsubscribe</code> with a number from /list, e.g. <code>/unsubscribe 3</code>."
        removed = await self.db.run(unsubscribe_here, self.db, target, int(args.lstrip("#")))
        if removed is None:
            return "No subscriptions in this chat: nothing to remove."
        return f"🗑 Removed #{removed.id}: <code>{escape(removed.query)}</code>."

    async def schedule(self, target: Target, words: str) -> str:
        subscriber = await self.db.run(schedule_here, self.db, target, words)
        if subscriber is None:
            return "Subscribe first: <code>/subscribe</code> <i>query</i>."
        return f"🕗 This chat now gets {escape(describe_schedule(subscriber))}."

    async def search(self, target: Target, query: str) -> str:
        if not query:
            return "Send <code>/search</code> with a query, e.g. <code>/search diffusion</code>."
        result = await search(self.settings, self.db, query)
        if not result.items:
            return f"No stored paper matches <code>{escape(query)}</code>."
        count = f"{result.count}{'' if result.complete else '+'}"
        blocks = [paper_html(item, number=n, summary_max=300) for n, item in enumerate(result.items, start=1)]
        return (f"🔎 {count} stored papers match <code>{escape(query)}</code>; the strongest:\n\n"
                + "\n\n".join(blocks) + "\n\n/subscribe with the same query to get new ones here.")

    async def vote(self, chat_id: int, user_id: int, paper_id: int, vote: int) -> str:
        """A 👍/👎 press under a post: the chat's vote by this member (pressed again: withdrawn). ≤ 200 characters."""
        target = Target(KIND, str(chat_id), voter=str(user_id))
        answer: str = await self.db.run(vote_here, self.db, target, paper_id, vote, channel="telegram")
        return answer[:200]  # https://core.telegram.org/bots/api#answercallbackquery: text, 0-200 characters


def _target(said: Said) -> Target:
    return Target(KIND, str(said.chat_id), said.title, str(said.user_id) if said.user_id is not None else None)
