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

from digest.matrix.api import MatrixClient, Said
from digest.matrix.render import content, paper
from digest.matrix.settings import MatrixSettings
from digest.matrix.spec import ROOM
from digest.services.chat_commands import Target, papers_of_post, vote_here
from digest.services.chat_replies import MANAGING, Wording, reply
from storage.db import Database

KIND = ROOM
MODERATOR = 50
_COMMAND = re.compile(r"^!paperbell(?:\s+(?P<name>[a-z]{1,20}))?(?:\s+(?P<args>.*))?$", re.DOTALL | re.IGNORECASE)
WORDING = Wording(prefix="!paperbell ", place="room")
VOTES = {"👍": 1, "👎": -1}


def parse(body: str) -> tuple[str, str] | None:
    """(command, arguments) for a `!paperbell …` message, else None."""
    found = _COMMAND.match(body.strip())
    if found is None:
        return None
    return (found.group("name") or "help").lower(), (found.group("args") or "").strip()


def _notice(markup: str) -> dict[str, Any]:
    """An answer: the shared replies' HTML (lines joined by "<br>") and the same words as the plain `body`."""
    plain = html.unescape(re.sub(r"<[^>]+>", "", markup))
    return content([markup.replace("\n", "<br>")], [plain])


class MatrixCommands:
    def __init__(self, settings: MatrixSettings, db: Database, client: MatrixClient) -> None:
        self.settings, self.db, self.client = settings, db, client

    async def react(self, said: Said) -> None:
        """A 👍/👎 reaction to one of our single-paper posts is the member's vote for this room's ranking.

        Matrix has no buttons; reactions (an `m.annotation` relation,
        https://spec.matrix.org/v1.11/client-server-api/#event-annotations-and-reactions) are the closest.
        A digest event carries several papers: a reaction to it cannot say which, so it is not counted.
        Nothing is posted in answer (a reply per vote is noise).
        """
        vote = VOTES.get(said.body.replace("\ufe0f", ""))
        if vote is None or said.reacts_to is None:
            return
        target = Target(KIND, said.room_id, voter=said.sender)
        papers = await self.db.run(papers_of_post, self.db, target, said.reacts_to)
        if len(papers) == 1:
            await self.db.run(lambda: vote_here(self.db, target, papers[0], vote, channel="matrix", toggle=False))

    async def answer(self, said: Said) -> dict[str, Any] | None:
        """The m.notice content answering `said`, or None when it was no command."""
        parsed = parse(said.body)
        if parsed is None:
            return None
        name, args = parsed
        if name in MANAGING and await self.client.power_level(said.room_id, said.sender) < MODERATOR:
            return _notice("Only this room's moderators (power level 50) can change its paperbell subscriptions.")
        target = Target(KIND, said.room_id, voter=said.sender)
        return _notice(await reply(self.settings, self.db, WORDING, target, name, args,
                                   lambda item, n: paper(item, number=n, summary_max=300)[0]))
