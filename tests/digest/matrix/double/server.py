"""A local Matrix homeserver double: the Client-Server API endpoints matrix-nio calls, on 127.0.0.1.

The real `nio.AsyncClient` is pointed at it (homeserver URL = `double.url`) and runs unmodified.
Endpoints (https://spec.matrix.org/v1.11/client-server-api/): GET /account/whoami, GET /sync (long
poll, answered as soon as something is queued), POST /join/{roomId}, PUT
/rooms/{roomId}/send/{eventType}/{txnId}. Rules enforced, each as the spec words it:
  - https://spec.matrix.org/v1.11/client-server-api/#using-access-tokens: an unknown token → 401
    M_UNKNOWN_TOKEN.
  - https://spec.matrix.org/v1.11/client-server-api/#put_matrixclientv3roomsroomidsendeventtypetxnid:
    only a member may send (403 M_FORBIDDEN "User … not in room …"); the txnId makes a retry
    idempotent: the same (device, txnId) returns the first event's id and posts nothing.
  - https://spec.matrix.org/v1.11/client-server-api/#size-limits: an event over 65,536 bytes as canonical
    JSON → 413 M_TOO_LARGE (the envelope a server adds is counted here as ENVELOPE_BYTES).
  - https://spec.matrix.org/v1.11/client-server-api/#rate-limiting: 429 M_LIMIT_EXCEEDED with
    `retry_after_ms`; the bucket mirrors Synapse's default `rc_message` (0.2/s, burst 10) unless changed.
  - joining needs an invite (403 M_FORBIDDEN "You are not invited to this room.").
Failure injection: `lose_replies` (the event is stored, the connection drops unanswered; aiohttp
repeats an idempotent PUT once on a dropped kept-alive connection, so losing both answers takes 2).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.local_server import serve

EVENT_MAX = 65_536
ENVELOPE_BYTES = 1_200  # event_id, room_id, sender, origin_server_ts, hashes, signatures, auth/prev events


@dataclass
class Room:
    id: str
    members: set[str] = field(default_factory=set)
    invited: set[str] = field(default_factory=set)
    power: dict[str, int] = field(default_factory=dict)  # m.room.power_levels `users`
    events: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Bucket:
    """Synapse's leaky bucket: `burst` actions at once, refilled at `rate` per second."""

    rate: float = 0.2
    burst: int = 10
    level: float = 0.0
    at: float = 0.0

    def take(self, now: float) -> float:
        """0 when admitted, else milliseconds until it would be."""
        self.level = max(0.0, self.level - (now - self.at) * self.rate)
        self.at = now
        if self.level + 1 > self.burst:
            return (self.level + 1 - self.burst) / self.rate * 1000
        self.level += 1
        return 0.0


@dataclass
class MatrixDouble:
    user_id: str = "@paperbell:double.test"
    access_token: str = "syt_double_token"
    device_id: str = "PAPERBELL"
    rate: float = 0.2
    burst: int = 10
    rooms: dict[str, Room] = field(default_factory=dict)
    lose_replies: int = 0
    forced_429: list[int] = field(default_factory=list)  # retry_after_ms of the next sends
    rate_limited: int = 0
    refusals: list[tuple[int, str]] = field(default_factory=list)
    sends: int = 0  # PUT send requests seen, retries included

    def __post_init__(self) -> None:
        self.bucket = Bucket(self.rate, self.burst)
        self._txns: dict[tuple[str, str], str] = {}  # (device, txnId) -> event id
        self._ids = itertools.count(1)
        self._queue: list[tuple[str, str, dict[str, Any]]] = []  # ("invite"|"event", room id, event)
        self._queued = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> MatrixDouble:
        app = web.Application()
        prefix = "/_matrix/client/v3"
        app.router.add_get(prefix + "/account/whoami", self._whoami)
        app.router.add_get(prefix + "/sync", self._sync)
        app.router.add_post(prefix + "/join/{room}", self._join)
        app.router.add_put(prefix + "/rooms/{room}/send/{type}/{txn}", self._send)
        app.router.add_get(prefix + "/rooms/{room}/state/{type}/{key:.*}", self._state)
        app.router.add_get(prefix + "/rooms/{room}/state/{type}", self._state)  # an empty state key, as nio sends it
        self._runner, self.port = await serve(app)
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # -- the world -------------------------------------------------------------------------------
    def add_room(self, room_id: str, *, joined: bool = True) -> Room:
        room = self.rooms[room_id] = Room(room_id)
        if joined:
            room.members.add(self.user_id)
        return room

    def invite(self, room_id: str, by: str = "@ada:double.test") -> None:
        room = self.rooms.setdefault(room_id, Room(room_id, members={by}))
        room.invited.add(self.user_id)
        event = {"type": "m.room.member", "state_key": self.user_id, "sender": by,
                 "content": {"membership": "invite"}}
        self._push("invite", room_id, event)

    def user_says(self, room_id: str, text: str, sender: str = "@ada:double.test") -> None:
        event = self._event(room_id, sender, "m.room.message", {"msgtype": "m.text", "body": text})
        self.rooms[room_id].events.append(event)
        self._push("event", room_id, event)

    def user_reacts(self, room_id: str, event_id: str, key: str, sender: str = "@ada:double.test") -> None:
        """An m.reaction annotating `event_id` (https://spec.matrix.org/v1.11/client-server-api/#event-annotations-and-reactions)."""
        content = {"m.relates_to": {"rel_type": "m.annotation", "event_id": event_id, "key": key}}
        event = self._event(room_id, sender, "m.reaction", content)
        self.rooms[room_id].events.append(event)
        self._push("event", room_id, event)

    def posted(self, room_id: str) -> list[dict[str, Any]]:
        return [e["content"] for e in self.rooms[room_id].events if e["sender"] == self.user_id]

    def _event(self, room_id: str, sender: str, kind: str, content: dict[str, Any]) -> dict[str, Any]:
        return {"event_id": f"$e{next(self._ids)}", "room_id": room_id, "sender": sender, "type": kind,
                "origin_server_ts": int(time.time() * 1000), "content": content}

    def _push(self, what: str, room_id: str, event: dict[str, Any]) -> None:
        self._queue.append((what, room_id, event))
        self._queued.set()

    # -- the API ---------------------------------------------------------------------------------
    def _error(self, status: int, code: str, message: str, **extra: Any) -> web.Response:
        self.refusals.append((status, code))
        return web.json_response({"errcode": code, "error": message, **extra}, status=status)

    def _authorized(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        return header == f"Bearer {self.access_token}" or request.query.get("access_token") == self.access_token

    def _unknown_token(self) -> web.Response:
        return self._error(401, "M_UNKNOWN_TOKEN", "Unknown access token", soft_logout=False)

    async def _whoami(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return self._unknown_token()
        return web.json_response({"user_id": self.user_id, "device_id": self.device_id})

    async def _sync(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return self._unknown_token()
        timeout = int(request.query.get("timeout", "0")) / 1000
        if not self._queue and timeout > 0:
            self._queued.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._queued.wait(), timeout)
        queued, self._queue = self._queue, []
        invite: dict[str, Any] = {}
        join: dict[str, Any] = {}
        for what, room_id, event in queued:
            if what == "invite":
                invite.setdefault(room_id, {"invite_state": {"events": []}})["invite_state"]["events"].append(event)
            else:
                timeline = join.setdefault(room_id, {"timeline": {"events": [], "limited": False}})["timeline"]
                timeline["events"].append(event)
        return web.json_response({"next_batch": f"s{next(self._ids)}", "rooms": {"invite": invite, "join": join,
                                                                                "leave": {}}})

    async def _state(self, request: web.Request) -> web.Response:
        """GET /rooms/{roomId}/state/m.room.power_levels/: members must be in the room to read it."""
        if not self._authorized(request):
            return self._unknown_token()
        room = self.rooms.get(request.match_info["room"])
        if room is None or self.user_id not in room.members:
            return self._error(403, "M_FORBIDDEN", "You don't have permission to access that.")
        if request.match_info["type"] != "m.room.power_levels":
            return self._error(404, "M_NOT_FOUND", "Event not found.")
        return web.json_response({"users": room.power, "users_default": 0, "events_default": 0, "state_default": 50})

    async def _join(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return self._unknown_token()
        room = self.rooms.get(request.match_info["room"])
        if room is None or self.user_id not in room.invited | room.members:
            return self._error(403, "M_FORBIDDEN", "You are not invited to this room.")
        room.members.add(self.user_id)
        return web.json_response({"room_id": room.id})

    async def _send(self, request: web.Request) -> web.StreamResponse:
        self.sends += 1
        if not self._authorized(request):
            return self._unknown_token()
        room_id, txn = request.match_info["room"], request.match_info["txn"]
        known = self._txns.get((self.device_id, txn))
        if known is not None:  # the same transaction again: the first event, nothing posted
            return self._answer(request, known)
        room = self.rooms.get(room_id)
        if room is None or self.user_id not in room.members:
            return self._error(403, "M_FORBIDDEN", f"User {self.user_id} not in room {room_id}")
        content = await request.json()
        event = self._event(room_id, self.user_id, request.match_info["type"], content)
        size = len(json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode()) + ENVELOPE_BYTES
        if size > EVENT_MAX:
            return self._error(413, "M_TOO_LARGE", "Event too large")
        wait_ms = self.forced_429.pop(0) if self.forced_429 else self.bucket.take(time.monotonic())
        if wait_ms:
            self.rate_limited += 1
            return self._error(429, "M_LIMIT_EXCEEDED", "Too Many Requests", retry_after_ms=int(wait_ms) + 1)
        room.events.append(event)
        self._txns[(self.device_id, txn)] = event["event_id"]
        return self._answer(request, event["event_id"])

    def _answer(self, request: web.Request, event_id: str) -> web.Response:
        if self.lose_replies > 0:  # stored, but the answer never arrives
            self.lose_replies -= 1
            assert request.transport is not None
            request.transport.abort()
            return web.Response()
        return web.json_response({"event_id": event_id})
