"""The gateway half of the Discord double: one websocket session per connected client.

Speaks the documented gateway flow (op 10 HELLO → op 2 IDENTIFY → READY + GUILD_CREATE; op 1 heartbeat →
op 11 ACK; op 6 RESUME → replay of missed dispatches + RESUMED). Sharding (events/gateway.mdx "Sharding"):
an IDENTIFY names `shard: [id, count]`; a shard's READY lists the guilds with `(guild_id >> 22) % count ==
id`, and a guild's events go to its shard's session (DMs to shard 0). Plain-text JSON frames: discord.py only
inflates binary frames, so zlib transport compression is optional for a server. Used by `server.py`.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from tests.bot.discord_double.rules_v2 import disallowed_intents

if TYPE_CHECKING:
    from tests.bot.discord_double.server import DiscordDouble

HELLO, IDENTIFY, HEARTBEAT, HEARTBEAT_ACK, RESUME, DISPATCH, INVALID_SESSION = 10, 2, 1, 11, 6, 0, 9


@dataclass
class GatewaySession:
    """A gateway session survives dropped sockets: RESUME replays what the client missed."""

    session_id: str
    seq: int = 0
    sent: list[dict[str, Any]] = field(default_factory=list)  # every dispatch, for replay on RESUME
    ws: web.WebSocketResponse | None = None


class Gateway:
    def __init__(self, double: DiscordDouble) -> None:
        self.double = double
        self.sessions: dict[str, GatewaySession] = {}
        self.current: GatewaySession | None = None
        self.by_shard: dict[int, GatewaySession] = {}  # the live session of each shard
        self.shard_count = 1  # what GET /gateway/bot recommends
        self.identifies = 0
        self.resumes = 0
        self.connected = asyncio.Event()  # set while a socket is READY or RESUMED
        self.heartbeat_interval_ms = 41_250
        self.replayed = 0  # dispatches re-sent on RESUME
        self.heartbeats = 0
        self.identify_payloads: list[dict[str, Any]] = []  # what each IDENTIFY asked for (intents, shard)
        self.approved_intents = 0  # privileged intents the application was approved for (none)
        # Cleared by a test to keep the client out (as during an outage) until it is set again.
        self.accepting = asyncio.Event()
        self.accepting.set()

    def shard_of(self, guild_id: str | None, count: int) -> int:
        return (int(guild_id) >> 22) % count if guild_id else 0

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Send a dispatch to the live session (of the guild's shard); while disconnected it waits for RESUME."""
        session = self.current
        if len(self.by_shard) > 1:
            count = len(self.by_shard)
            session = self.by_shard.get(self.shard_of(data.get("guild_id"), count), session)
        if session is None:
            raise RuntimeError("no gateway session yet")
        await self._send(session, event, data)

    async def _send(self, session: GatewaySession, event: str, data: dict[str, Any]) -> None:
        session.seq += 1
        frame = {"op": DISPATCH, "t": event, "s": session.seq, "d": data}
        session.sent.append(frame)
        if session.ws is not None and not session.ws.closed:
            await session.ws.send_str(json.dumps(frame))

    async def drop(self, code: int = 4000) -> None:
        """Close the live socket as Discord does on a server-side failure; the session stays resumable."""
        session = self.current
        self.connected.clear()
        if session is not None and session.ws is not None:
            ws, session.ws = session.ws, None
            await ws.close(code=code, message=b"dropped by the double")

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        await self.accepting.wait()
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.double.record("WS", "/gateway", dict(request.query), 101)
        await ws.send_str(json.dumps({"op": HELLO, "d": {"heartbeat_interval": self.heartbeat_interval_ms}}))
        session: GatewaySession | None = None
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                break
            frame = json.loads(msg.data)
            op = frame.get("op")
            if op == HEARTBEAT:
                self.heartbeats += 1
                await ws.send_str(json.dumps({"op": HEARTBEAT_ACK}))
            elif op == IDENTIFY:
                session = await self._identify(ws, frame["d"])
            elif op == RESUME:
                session = await self._resume(ws, frame["d"])
        if session is not None and session.ws is ws:
            session.ws = None
            self.connected.clear()
            self.double.poke()
        return ws

    async def _identify(self, ws: web.WebSocketResponse, data: dict[str, Any]) -> GatewaySession:
        double = self.double
        if data.get("token") != double.token:
            await ws.close(code=4004, message=b"Authentication failed.")
            raise web.HTTPUnauthorized()
        self.identify_payloads.append(data)
        if disallowed_intents(int(data.get("intents") or 0), self.approved_intents):
            await ws.close(code=4014, message=b"Disallowed intent(s).")
            raise web.HTTPForbidden()
        self.identifies += 1
        shard_id, count = data.get("shard") or [0, 1]
        session = GatewaySession(session_id=f"session-{self.identifies}")
        self.sessions[session.session_id] = session
        self.current = session
        self.by_shard[int(shard_id)] = session
        session.ws = ws
        guilds = [g for g in double.guilds if self.shard_of(g, int(count)) == int(shard_id)]
        ready = {
            "v": 10,
            "user": double.bot_user,
            "guilds": [{"id": g, "unavailable": True} for g in guilds],
            "session_id": session.session_id,
            "resume_gateway_url": double.gateway_url,
            "shard": [shard_id, count],
            "application": {"id": double.application_id, "flags": 0},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": [],
            "user_settings": {},
        }
        await self._send(session, "READY", ready)
        for guild_id in guilds:
            await self._send(session, "GUILD_CREATE", double.guild_payload(guild_id))
        self.connected.set()
        self.double.poke()
        return session

    async def _resume(self, ws: web.WebSocketResponse, data: dict[str, Any]) -> GatewaySession | None:
        session = self.sessions.get(data.get("session_id", ""))
        if session is None or data.get("token") != self.double.token:
            await ws.send_str(json.dumps({"op": INVALID_SESSION, "d": False}))
            return None
        self.resumes += 1
        session.ws = ws
        self.current = session
        last_seen = int(data.get("seq") or 0)
        for frame in session.sent:
            if frame["s"] > last_seen:
                self.replayed += 1
                await ws.send_str(json.dumps(frame))
        session.seq += 1
        resumed = {"op": DISPATCH, "t": "RESUMED", "s": session.seq, "d": {}}
        session.sent.append(resumed)
        await ws.send_str(json.dumps(resumed))
        self.connected.set()
        self.double.poke()
        return session
