"""The Matrix channel behind the `Channel` protocol: the shared posting loop over `MatrixPlatform`.

Built by the composition root (digest.runtime.channels) when `PAPERBELL_MATRIX_HOMESERVER` and
`PAPERBELL_MATRIX_ACCESS_TOKEN` are set. Lost replies post nothing twice: each event is sent under a
transaction id derived from the subscriber and its papers (the loop's post key), and the homeserver
answers a repeated PUT /rooms/{roomId}/send/m.room.message/{txnId} of the same device with the first
event's id (https://spec.matrix.org/v1.11/client-server-api/#transaction-identifiers). Servers keep
transaction ids for a while (Synapse: about 30 minutes); a retry later than that can repeat one event.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from markupsafe import escape

from digest.core.assembly import Digest, DigestItem
from digest.matrix import render
from digest.matrix.api import MatrixClient, MatrixError, classify, reason
from digest.matrix.settings import MatrixSettings
from digest.matrix.spec import ROOM
from digest.services.channels import FailureKind
from digest.services.digest_extras import DigestExtras
from digest.services.pacing import Limits, Pacer, RateLimited
from digest.services.posting import PostingChannel, PostRejected, Rendered, RetryLater, TargetUnreachable
from storage.db import Database
from storage.models import Subscriber


def txn_id(key: str) -> str:
    """The transaction id of a post: the same for a retry of the same papers to the same room."""
    return f"pb-{key}"


def limits(settings: MatrixSettings) -> Limits:
    """One bucket per bot account, as homeservers count (Synapse's rc_message): deliveries and answers alike."""
    return Limits(rate=settings.matrix_rate, burst=settings.matrix_burst, max_wait=settings.chat_max_ratelimit_wait)


async def put(client: MatrixClient, room_id: str, body: Any, txn: str) -> str:
    """Send one event; the homeserver's refusal as the posting loop's (and the pacer's) exceptions."""
    try:
        return await client.send(room_id, body, txn_id=txn)
    except MatrixError as exc:
        if exc.errcode == "M_LIMIT_EXCEEDED":
            raise RateLimited((exc.retry_after_ms or 5000) / 1000, reason(exc)) from exc
        kind = classify(exc)
        if kind is FailureKind.REFUSED:
            raise PostRejected(reason(exc)) from exc
        if kind is FailureKind.UNREACHABLE:
            raise TargetUnreachable(reason(exc)) from exc
        raise RetryLater(reason(exc)) from exc  # answered: known not posted


class MatrixPlatform:
    """Posts m.notice events with HTML to rooms the bot account has joined, paced below the server's limit."""

    kinds: tuple[str, ...] = (ROOM,)
    label = "Matrix"

    def __init__(self, settings: MatrixSettings, client: MatrixClient | None = None) -> None:
        if client is None:
            if not settings.matrix_homeserver or settings.matrix_access_token is None:
                raise ValueError("PAPERBELL_MATRIX_HOMESERVER and PAPERBELL_MATRIX_ACCESS_TOKEN must be set")
            client = MatrixClient(settings.matrix_homeserver, settings.matrix_user_id or "",
                                  settings.matrix_access_token.get_secret_value(), device_id=settings.matrix_device_id)
        self.client = client
        self.pacer = Pacer(limits(settings))

    def render_instant(self, subscriber: Subscriber, item: DigestItem) -> Any:
        return render.instant_contents([item])[0][1]

    def render_digest(self, subscriber: Subscriber, digest: Digest) -> list[Rendered]:
        return render.digest_contents(digest, subscriber.schedule)

    def render_updates(self, subscriber: Subscriber, extras: DigestExtras) -> Any | None:
        lines = extras.chat_lines()
        html = extras.chat_lines(lambda heading: f"<strong>{heading}</strong>", lambda line: str(escape(line)))
        return render.content(["<br>".join(html)], ["\n".join(lines)]) if lines else None

    async def send(self, subscriber: Subscriber, body: Any, *, key: str) -> str:
        return await self.pacer.send(lambda: self._put(subscriber.address, body, key), subscriber.address)

    async def _put(self, room_id: str, body: Any, key: str) -> str:
        return await put(self.client, room_id, body, txn_id(key))

    async def find_sent(self, subscriber: Subscriber, body: Any, *, key: str, since: datetime) -> str | None:
        return None  # the retry reuses the transaction id: the server itself answers with the first event

    async def notify_paused(self, subscriber: Subscriber, reason: str) -> None:
        return None  # the room refused the bot: nobody there can be told by it

    async def aclose(self) -> None:
        await self.client.close()


def matrix_channel(settings: MatrixSettings, db: Database, client: MatrixClient | None = None) -> PostingChannel:
    """The Matrix channel on these settings (homeserver and access token must be set unless given a client)."""
    return PostingChannel(settings, db, MatrixPlatform(settings, client), "matrix")
