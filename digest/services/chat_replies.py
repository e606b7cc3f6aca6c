"""The words of the chat commands' answers, written once for every chat platform with commands.

The answers are HTML of the small subset the chat platforms with commands all render (`<b>`, `<i>`,
`<code>`; nothing inside `<code>`, which some refuse), lines separated by "\\n" (a platform renders
them as line breaks its own way, e.g. `<br>`); every text from a member or a source is
escaped. A platform gives its `Wording` (how its commands are spelled, what a chat is called there)
and its paper renderer for search results; the work itself is `digest.services.chat_commands`.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass

from digest.core.assembly import DigestItem
from digest.query import QueryError
from digest.services.chat_commands import (
    Target,
    describe_schedule,
    schedule_here,
    search,
    subscribe_here,
    subscriptions_here,
    unsubscribe_here,
)
from digest.services.errors import ServiceError
from digest.settings import Settings
from storage.db import Database

MANAGING = frozenset({"subscribe", "unsubscribe", "schedule"})  # commands that change the chat's subscriptions
PaperBlock = Callable[[DigestItem, int], str]  # (item, number) → the platform's HTML for one paper


def escape(text: str) -> str:
    return html.escape(text, quote=True)


@dataclass(frozen=True)
class Wording:
    prefix: str  # how a command starts there: "/" or "!paperbell "
    place: str  # "chat", "room"

    def cmd(self, name: str, example: str = "") -> str:
        return f"<code>{self.prefix}{name}{' ' + example if example else ''}</code>"

    def help(self) -> str:
        return (f"<b>paperbell</b> posts new papers matching this {self.place}'s queries here.\n"
                f"{self.cmd('subscribe', 'diffusion AND protein')} · {self.cmd('list')} · "
                f"{self.cmd('unsubscribe', '3')} · {self.cmd('search', 'diffusion')}\n"
                f"{self.cmd('schedule', 'daily 8')}: a daily digest at 08:00 UTC (or instant, weekly 8)")


async def reply(settings: Settings, db: Database, wording: Wording, target: Target, name: str, args: str,
                paper_block: PaperBlock) -> str:
    """The answer to command `name` (anything unknown gets the help); refusals as one line with ⚠️."""
    handler = {"subscribe": _subscribe, "list": _list, "unsubscribe": _unsubscribe, "schedule": _schedule}.get(name)
    try:
        if name == "search":
            return await _search(settings, db, wording, args, paper_block)
        if handler is None:
            return wording.help()
        return await handler(settings, db, wording, target, args)
    except (ServiceError, QueryError) as exc:
        return f"⚠️ {escape(str(exc))}"


async def _subscribe(settings: Settings, db: Database, w: Wording, target: Target, query: str) -> str:
    if not query:
        return f"Add a query: {w.cmd('subscribe', 'diffusion AND protein')}"
    done = await db.run(subscribe_here, db, settings, target, query)
    lines = [f"✅ Subscribed (#{done.number}): <code>{escape(query)}</code>. Matching papers are posted here."]
    if done.backfilled:
        lines.append(f"{done.backfilled} recent matches come with the next post.")
    if done.resumed:
        lines.append("Posting here had been paused; it is on again.")
    return "\n".join([*lines, f"{w.cmd('list')} shows this {w.place}'s queries."])


async def _list(settings: Settings, db: Database, w: Wording, target: Target, args: str) -> str:
    subscriber, rows = await db.run(subscriptions_here, db, target)
    if subscriber is None or not rows:
        return f"No subscriptions in this {w.place} yet: {w.cmd('subscribe') + ' <i>query</i>'}"
    lines = [f"#{row.id}: <code>{escape(row.query)}</code>" for row in rows]
    if subscriber.paused:
        lines.append(f"⏸ paused: {escape(subscriber.pause_reason or '')}")
    lines.append(f"Posted: {escape(describe_schedule(subscriber))} ({w.cmd('schedule')} changes it); "
                 f"{w.cmd('unsubscribe')} <i>number</i> removes one.")
    return f"This {w.place}'s queries:\n" + "\n".join(lines)


async def _unsubscribe(settings: Settings, db: Database, w: Wording, target: Target, args: str) -> str:
    if not args.lstrip("#").isdigit():
        return f"Add a number from {w.cmd('list')}: {w.cmd('unsubscribe', '3')}"
    removed = await db.run(unsubscribe_here, db, target, int(args.lstrip("#")))
    if removed is None:
        return f"No subscriptions in this {w.place}: nothing to remove."
    return f"🗑 Removed #{removed.id}: <code>{escape(removed.query)}</code>."


async def _schedule(settings: Settings, db: Database, w: Wording, target: Target, words: str) -> str:
    subscriber = await db.run(schedule_here, db, target, words)
    if subscriber is None:
        return f"Subscribe first: {w.cmd('subscribe') + ' <i>query</i>'}"
    return f"🕗 This {w.place} now gets {escape(describe_schedule(subscriber))}."


async def _search(settings: Settings, db: Database, w: Wording, query: str, paper_block: PaperBlock) -> str:
    if not query:
        return f"Add a query: {w.cmd('search', 'diffusion')}"
    result = await search(settings, db, query)
    if not result.items:
        return f"No stored paper matches <code>{escape(query)}</code>."
    count = f"{result.count}{'' if result.complete else '+'}"
    blocks = [paper_block(item, n) for n, item in enumerate(result.items, start=1)]
    return (f"🔎 {count} stored papers match <code>{escape(query)}</code>; the strongest:\n\n" + "\n\n".join(blocks)
            + f"\n\n{w.cmd('subscribe')} with the same query gets new ones here.")
