"""Matrix room commands: `!paperbell subscribe <query>`, `list`, `unsubscribe <n>`, `search <query>`, `help`.

Read from the rooms the bot has joined (digest.matrix.listener) and answered with an m.notice in the
same room, under a transaction id derived from the command's event id, so a repeated answer after a
lost reply posts nothing twice. A room is one subscriber of kind `matrix_room` (its room id), created
by its first subscription. Changing a room's subscriptions takes power level 50 (a moderator;
https://spec.matrix.org/v1.11/client-server-api/#mroompower_levels); anyone in the room may search.
The shared work is `digest.services.chat_commands`; this module only words it.
"""

from __future__ import annotations

import html
import re
from typing import Any

from markupsafe import escape

from digest.matrix.api import MatrixClient, Said
from digest.matrix.render import content, paper
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
from storage.models import SubscriberKind

KIND = SubscriberKind.MATRIX_ROOM.value
MODERATOR = 50
_COMMAND = re.compile(r"^!paperbell(?:\s+(?P<name>[a-z]{1,20}))?(?:\s+(?P<args>.*))?$", re.DOTALL | re.IGNORECASE)
HELP = ("<strong>paperbell</strong> posts new papers matching this room's queries.<br>"
        "<code>!paperbell subscribe diffusion AND protein</code> · <code>!paperbell list</code> · "
        "<code>!paperbell unsubscribe 3</code> · <code>!paperbell search diffusion</code> · "
        "<code>!paperbell schedule daily 8</code> (or instant, weekly 8; hours in UTC)")


def parse(body: str) -> tuple[str, str] | None:
    """(command, arguments) for a `!paperbell …` message, else None."""
    found = _COMMAND.match(body.strip())
    if found is None:
        return None
    return (found.group("name") or "help").lower(), (found.group("args") or "").strip()


def _notice(markup: str) -> dict[str, Any]:
    """An answer: `markup` (this module's HTML, texts escaped) and the same words as the plain `body`."""
    plain = html.unescape(re.sub(r"<[^>]+>", "", markup.replace("<br>", "\n")))
    return content([markup], [plain])


class MatrixCommands:
    def __init__(self, settings: Settings, db: Database, client: MatrixClient) -> None:
        self.settings, self.db, self.client = settings, db, client

    async def answer(self, said: Said) -> dict[str, Any] | None:
        """The m.notice content answering `said`, or None when it was no command."""
        parsed = parse(said.body)
        if parsed is None:
            return None
        name, args = parsed
        target = Target(KIND, said.room_id, voter=said.sender)
        try:
            if name == "search":
                return _notice(await self._search(args))
            if name not in ("subscribe", "list", "unsubscribe", "schedule"):
                return _notice(HELP)
            if name != "list" and await self.client.power_level(said.room_id, said.sender) < MODERATOR:
                return _notice("Only this room's moderators (power level 50) can change its paperbell subscriptions.")
            return _notice(await getattr(self, f"_{name}")(target, args))
        except (ServiceError, QueryError) as exc:
            return _notice(f"⚠️ {escape(str(exc))}")

    async def _subscribe(self, target: Target, query: str) -> str:
        if not query:
            return "Add a query: <code>!paperbell subscribe diffusion AND protein</code>"
        done = await self.db.run(subscribe_here, self.db, self.settings, target, query)
        parts = [f"✅ Subscribed (#{done.number}): <code>{escape(query)}</code>. Matching papers are posted here."]
        if done.resumed:
            parts.append("Posting here had been paused; it is on again.")
        return "<br>".join([*parts, "<code>!paperbell list</code> shows this room's queries."])

    async def _list(self, target: Target, args: str) -> str:
        subscriber, rows = await self.db.run(subscriptions_here, self.db, target)
        if not rows:
            return "No subscriptions in this room yet: <code>!paperbell subscribe</code> <em>query</em>"
        lines = [f"#{row.id}: <code>{escape(row.query)}</code>" for row in rows]
        assert subscriber is not None
        if subscriber.paused:
            lines.append(f"⏸ paused: {escape(subscriber.pause_reason or '')}")
        lines.append(f"Posted: {escape(describe_schedule(subscriber))}")
        return "This room's queries:<br>" + "<br>".join(lines)

    async def _unsubscribe(self, target: Target, args: str) -> str:
        if not args.lstrip("#").isdigit():
            return "Add a number from <code>!paperbell list</code>: <code>!paperbell unsubscribe 3</code>"
        removed = await self.db.run(unsubscribe_here, self.db, target, int(args.lstrip("#")))
        if removed is None:
            return "No subscriptions in this room: nothing to remove."
        return f"🗑 Removed #{removed.id}: <code>{escape(removed.query)}</code>"

    async def _schedule(self, target: Target, words: str) -> str:
        subscriber = await self.db.run(schedule_here, self.db, target, words)
        if subscriber is None:
            return "Subscribe first: <code>!paperbell subscribe</code> <em>query</em>"
        return f"🕗 This room now gets {escape(describe_schedule(subscriber))}."

    async def _search(self, query: str) -> str:
        if not query:
            return "Add a query: <code>!paperbell search diffusion</code>"
        result = await search(self.settings, self.db, query)
        if not result.items:
            return f"No stored paper matches <code>{escape(query)}</code>."
        count = f"{result.count}{'' if result.complete else '+'}"
        blocks = [paper(item, number=n, summary_max=300)[0] for n, item in enumerate(result.items, start=1)]
        head = f"🔎 {count} stored papers match <code>{escape(query)}</code>; the strongest:<br>"
        return head + "<br><br>".join(blocks)
