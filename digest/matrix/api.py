"""The Client-Server API client: matrix-nio's `AsyncClient` logged in with a bot's access token, errors sorted.

matrix-nio is imported inside the functions that use it, so commands that never talk to Matrix do not
load it. nio's own retry loops are off (`max_limit_exceeded=0`, `max_timeouts=0`): a 429 or a timeout
comes back here, so the shared delivery loop decides (and a worker is never held by a long wait).
Errors (https://spec.matrix.org/v1.11/client-server-api/#standard-error-response), sorted into the three
failure kinds every channel shares:
  - refused (this event can never be sent): M_TOO_LARGE, M_BAD_JSON, M_NOT_JSON, M_INVALID_PARAM.
  - unreachable (the bot cannot post in this room; the subscriber is paused with the reason): M_FORBIDDEN
    (not in the room, or no power to post), M_NOT_FOUND, M_UNKNOWN on a room.
  - transient: M_LIMIT_EXCEEDED (`retry_after_ms`), 5xx, timeouts, a dropped connection (an unknown
    outcome: the retry reuses the transaction id, so the server returns the first event instead of
    posting again), and M_UNKNOWN_TOKEN (every room would fail alike: nobody is paused for it; the
    reason names PAPERBELL_MATRIX_ACCESS_TOKEN).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from digest.services.channels import FailureKind

_REFUSED = frozenset({"M_TOO_LARGE", "M_BAD_JSON", "M_NOT_JSON", "M_INVALID_PARAM"})
_UNREACHABLE = frozenset({"M_FORBIDDEN", "M_NOT_FOUND", "M_UNKNOWN", "M_GUEST_ACCESS_FORBIDDEN"})


class MatrixError(Exception):
    """The homeserver's `{errcode, error}` answer to one request."""

    def __init__(self, errcode: str, message: str, retry_after_ms: int | None = None) -> None:
        super().__init__(f"{errcode}: {message}")
        self.errcode, self.message, self.retry_after_ms = errcode, message, retry_after_ms


def classify(error: BaseException) -> FailureKind:
    if isinstance(error, MatrixError):
        if error.errcode in _REFUSED:
            return FailureKind.REFUSED
        if error.errcode in _UNREACHABLE:
            return FailureKind.UNREACHABLE
    return FailureKind.TRANSIENT


def reason(error: BaseException) -> str:
    """One line for the operator: what the homeserver said and what to do next (the loop adds "Matrix: ")."""
    if isinstance(error, MatrixError):
        if error.errcode == "M_UNKNOWN_TOKEN":
            return "the access token was refused: check PAPERBELL_MATRIX_ACCESS_TOKEN (and PAPERBELL_MATRIX_USER_ID)"
        if error.errcode == "M_FORBIDDEN":
            return f"{error.message} (invite the bot to the room again, or give it power to post)"[:300]
        if error.errcode == "M_LIMIT_EXCEEDED":
            return f"rate limited, retry after {(error.retry_after_ms or 0) / 1000:.1f} s"
        return str(error)[:300]
    return f"{type(error).__name__}: {error}"[:300]


def _raise_for(response: Any) -> None:
    from nio import ErrorResponse

    if isinstance(response, ErrorResponse):
        raise MatrixError(str(response.status_code or "M_UNKNOWN"), str(response.message or ""),
                          getattr(response, "retry_after_ms", None))


@dataclass
class Said:
    """A text message a member sent in a room the bot is in, or their reaction (`reacts_to`: the event)."""

    room_id: str
    sender: str
    body: str  # the text, or the reaction's key ("👍")
    event_id: str
    reacts_to: str | None = None


class MatrixClient:
    """One bot account: `start()` checks the token (whoami), `send` posts one event under its txnId."""

    def __init__(self, homeserver: str, user_id: str, access_token: str, *, device_id: str = "PAPERBELL",
                 timeout: float = 20.0) -> None:
        self.homeserver, self.user_id, self.access_token = homeserver.rstrip("/"), user_id, access_token
        self.device_id, self.timeout = device_id, timeout
        self._client: Any = None
        self._since: str | None = None

    @property
    def client(self) -> Any:
        if self._client is None:
            from nio import AsyncClient, AsyncClientConfig

            config = AsyncClientConfig(max_limit_exceeded=0, max_timeouts=0, request_timeout=self.timeout,
                                       store_sync_tokens=False, encryption_enabled=False)
            self._client = AsyncClient(self.homeserver, self.user_id, device_id=self.device_id, config=config)
            self._client.restore_login(self.user_id, self.device_id, self.access_token)
        return self._client

    async def start(self) -> str:
        """Check the token (GET /account/whoami); returns the bot's user id as the server knows it.

        That id is the one used from then on (PAPERBELL_MATRIX_USER_ID may be left unset).
        """
        response = await self.client.whoami()
        _raise_for(response)
        self.user_id = self.client.user_id = str(response.user_id)
        return self.user_id

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()

    async def send(self, room_id: str, content: dict[str, Any], *, txn_id: str) -> str:
        """PUT one m.room.message under `txn_id` (the same for a retry of the same papers); returns its event id."""
        response = await self.client.room_send(room_id, "m.room.message", content, tx_id=txn_id)
        _raise_for(response)
        return str(response.event_id)

    async def join(self, room_id: str) -> None:
        _raise_for(await self.client.join(room_id))

    async def power_level(self, room_id: str, user_id: str) -> int:
        """The member's power level in the room (m.room.power_levels; the room's default when not listed)."""
        response = await self.client.room_get_state_event(room_id, "m.room.power_levels", "")
        _raise_for(response)
        content = response.content
        users = content.get("users") if isinstance(content.get("users"), dict) else {}
        level = users.get(user_id, content.get("users_default", 0))
        return level if isinstance(level, int) else 0

    async def sync_once(self, timeout_ms: int = 30_000) -> tuple[list[str], list[Said]]:
        """One /sync: the rooms the bot is invited to, and the text messages others sent since the last one."""
        from nio import ReactionEvent, RoomMessageText

        response = await self.client.sync(timeout=timeout_ms, since=self._since, full_state=False)
        _raise_for(response)
        first = self._since is None
        self._since = response.next_batch
        invites = list(response.rooms.invite)
        said = []
        for room_id, room in response.rooms.join.items():
            for event in room.timeline.events:
                if first or event.sender == self.user_id:
                    continue  # history before this process, and the bot's own events, are no commands
                if isinstance(event, RoomMessageText):
                    said.append(Said(room_id, event.sender, event.body, event.event_id))
                elif isinstance(event, ReactionEvent):
                    said.append(Said(room_id, event.sender, event.key, event.event_id, reacts_to=event.reacts_to))
        return invites, said
