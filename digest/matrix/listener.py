"""The bot account's ear: /sync long polling; joins the rooms it is invited to, answers `!paperbell` commands.

One failure stays its own: a room that cannot be joined or answered is logged and the rest go on.
Answers are sent under a transaction id derived from the command's event id (`pb-re-<event id>`), so
a retry after a lost reply posts nothing twice. Run by the composition root next to the sender loop
when the Matrix settings are set.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from functools import partial

from digest.matrix.api import MatrixClient, reason
from digest.matrix.channel import limits, put
from digest.matrix.commands import MatrixCommands
from digest.matrix.settings import MatrixSettings
from digest.services.listening import poll_until
from digest.services.pacing import Pacer
from storage.db import Database

log = logging.getLogger(__name__)


class MatrixListener:
    def __init__(self, settings: MatrixSettings, db: Database, client: MatrixClient) -> None:
        self.client = client
        self.commands = MatrixCommands(settings, db, client)
        # answers keep below the account's rate like deliveries (a second bucket of the same size: the
        # deliveries' pacer lives in the sender loop, which may run in another process)
        self.pacer = Pacer(limits(settings))
        self.started = False

    async def poll_once(self, timeout_ms: int = 30_000) -> int:
        """One /sync: join invites, answer commands; returns how many invites and commands were handled."""
        if not self.started:  # the token checked and the bot's own id known before any event is read
            await self.client.start()
            self.started = True
        invites, said = await self.client.sync_once(timeout_ms)
        for room_id in invites:
            try:
                await self.client.join(room_id)
                log.info("matrix: joined %s", room_id)
            except Exception as exc:
                log.warning("matrix: could not join %s: %s", room_id, reason(exc))
        handled = len(invites)
        for message in said:
            try:
                if message.reacts_to is not None:
                    await self.commands.react(message)
                    continue
                answer = await self.commands.answer(message)
                if answer is not None:
                    txn = "pb-re-" + hashlib.sha256(message.event_id.encode()).hexdigest()[:32]
                    await self.pacer.send(partial(put, self.client, message.room_id, answer, txn), message.room_id)
                    handled += 1
            except Exception as exc:  # one room's failure stays its own
                log.warning("matrix: command in %s not answered: %s", message.room_id, reason(exc))
        return handled

    async def run(self, stop: asyncio.Event) -> None:
        """Poll until `stop` is set (digest.services.listening: back-off on failures, prompt stop), then close."""
        try:
            await poll_until(stop, self.poll_once, "matrix", reason)
        finally:
            await self.client.close()
