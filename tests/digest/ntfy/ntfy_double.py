"""A local ntfy server double: the JSON publish API and the poll API on 127.0.0.1, with ntfy's limits.

The real `httpx` client of digest.ntfy talks to it unmodified (`PAPERBELL_NTFY_URL`). What it enforces,
each as ntfy does (server/server.go, server/errors.go of binwiederhier/ntfy):
  - POST / with a JSON body (https://docs.ntfy.sh/publish/#publish-as-json): at most 2 × 4,096 bytes
    (413 41303), valid JSON object (400 40024), topic matching ^[-_A-Za-z0-9]{1,64}$ (400 40009).
  - a message of at most 4,096 bytes (https://docs.ntfy.sh/publish/#limitations); longer becomes an
    attachment, refused with 400 40014 because this server has no attachment cache (the default,
    https://docs.ntfy.sh/config/#attachments).
  - at most three actions (https://docs.ntfy.sh/publish/#action-buttons): 400 40018.
  - access control (https://docs.ntfy.sh/config/#access-control): topics in `denied` answer 403 40301.
  - the visitor request bucket (https://docs.ntfy.sh/config/#rate-limiting): `burst` requests, then one
    per `replenish` seconds; beyond that 429 42901, without Retry-After (ntfy sends none).
  - GET /<topic>/json?poll=1&since=<unix> (https://docs.ntfy.sh/subscribe/api/#poll-for-messages):
    the cached messages as newline-delimited JSON.
Failure injection: `lose_replies` (the message is stored, the connection is dropped before the
answer), `force_429`.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

TOPIC = re.compile(r"^[-_A-Za-z0-9]{1,64}$")
MESSAGE_LIMIT = 4096
JSON_LIMIT = 2 * MESSAGE_LIMIT


def _error(status: int, code: int, text: str) -> web.Response:
    return web.json_response({"code": code, "http": status, "error": text}, status=status)


@dataclass
class NtfyDouble:
    """State of the fake ntfy server plus its aiohttp app."""

    burst: int = 60
    replenish: float = 5.0
    denied: set[str] = field(default_factory=set)
    messages: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    lose_replies: int = 0
    forced_429: int = 0
    refusals: list[tuple[int, int]] = field(default_factory=list)  # (status, code) answered
    requests: int = 0
    limited: int = 0  # 429s answered because of the bucket (not forced)
    _tokens: float = 0.0
    _refilled: float = 0.0
    url: str = ""
    _runner: web.AppRunner | None = None

    async def start(self) -> str:
        app = web.Application(client_max_size=1024 * 1024)
        app.router.add_post("/", self._publish)
        app.router.add_get("/{topic}/json", self._poll)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self._tokens, self._refilled = float(self.burst), time.monotonic()
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def all_messages(self) -> list[dict[str, Any]]:
        return [m for topic in self.messages.values() for m in topic]

    def _take_token(self) -> bool:
        now = time.monotonic()
        self._tokens = min(float(self.burst), self._tokens + (now - self._refilled) / self.replenish)
        self._refilled = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True

    def _refuse(self, status: int, code: int, text: str) -> web.Response:
        self.refusals.append((status, code))
        return _error(status, code, text)

    async def _publish(self, request: web.Request) -> web.StreamResponse:
        self.requests += 1
        if self.forced_429:
            self.forced_429 -= 1
            return self._refuse(429, 42901, "limit reached: too many requests")
        if not self._take_token():
            self.limited += 1
            return self._refuse(429, 42901, "limit reached: too many requests")
        raw = await request.content.read(JSON_LIMIT + 1)
        if len(raw) > JSON_LIMIT:
            return self._refuse(413, 41303, "JSON body too large")
        try:
            body = json.loads(raw)
        except ValueError:
            return self._refuse(400, 40024, "invalid request: request body must be valid JSON")
        if not isinstance(body, dict) or not TOPIC.match(str(body.get("topic", ""))):
            return self._refuse(400, 40009, "invalid request: topic invalid")
        if body["topic"] in self.denied:
            return self._refuse(403, 40301, "forbidden")
        if len(str(body.get("message", "")).encode()) > MESSAGE_LIMIT:
            return self._refuse(400, 40014, "invalid request: attachments not allowed")
        if len(body.get("actions") or []) > 3:
            return self._refuse(400, 40018, "invalid request: actions invalid")
        message = {"id": secrets.token_urlsafe(9)[:12], "time": int(time.time()), "event": "message",
                   **{k: body[k] for k in ("topic", "title", "message", "tags", "priority", "click", "actions")
                      if k in body}}
        self.messages.setdefault(body["topic"], []).append(message)
        if self.lose_replies:
            self.lose_replies -= 1
            assert request.transport is not None
            request.transport.close()  # stored, but the publisher never hears so
            return web.Response(status=200)
        return web.json_response(message)

    async def _poll(self, request: web.Request) -> web.Response:
        since = int(request.query.get("since", "0") or 0)
        lines = [json.dumps(m) for m in self.messages.get(request.match_info["topic"], []) if m["time"] >= since]
        return web.Response(text="".join(line + "\n" for line in lines), content_type="application/x-ndjson")
