"""A local Slack double: the Web API methods paperbell calls and incoming webhooks, with Slack's rules.

slack-sdk's `AsyncWebClient` (base_url) and `AsyncWebhookClient` (url) talk to it unmodified. Enforced:
  - auth (https://api.slack.com/authentication/token-types#bot): `Authorization: Bearer <bot token>`,
    else `{"ok": false, "error": "invalid_auth"}` (Web API errors are HTTP 200 with ok=false).
  - chat.postMessage (https://api.slack.com/methods/chat.postMessage#errors): unknown channel →
    `channel_not_found`, app not a member → `not_in_channel`, archived → `is_archived`; neither text
    nor blocks → `no_text`; text over 40,000 characters → `msg_too_long`.
  - Block Kit (https://api.slack.com/reference/block-kit/blocks): at most 50 blocks, a section's text
    at most 3,000 characters, a header's at most 150, an actions block at most 25 elements, a button's
    text at most 75 and value at most 2,000 → `invalid_blocks`.
  - rate limits (https://api.slack.com/apis/rate-limits, chat.postMessage "Special": about one message
    per second per channel, short bursts allowed): a bucket of `burst` per channel refilled at `per_second`;
    beyond it HTTP 429, `Retry-After`, error `ratelimited`. conversations.history is Tier 3
    (https://api.slack.com/methods/conversations.history: 50+ per minute), not limited here.
  - message metadata (https://api.slack.com/metadata/using) kept and returned by conversations.history
    with include_all_metadata.
  - message responses to a button press's `response_url` (/actions/…), recorded in `responses`.
  - incoming webhooks (https://api.slack.com/messaging/webhooks#handling_errors): unknown URL → 404
    `no_service`, archived → 410 `channel_is_archived`, bad blocks → 400 `invalid_blocks`; else "ok".
Failure injection: `lose_replies` (posted, then the connection drops before the answer), `forced_429`.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

MAX_BLOCKS, SECTION, HEADER, TEXT = 50, 3000, 150, 40_000


def block_errors(blocks: Any) -> str | None:
    """Why Slack would refuse these blocks, or None."""
    if not isinstance(blocks, list) or len(blocks) > MAX_BLOCKS:
        return "invalid_blocks"
    for block in blocks:
        kind = block.get("type") if isinstance(block, dict) else None
        text = (block.get("text") or {}).get("text", "") if isinstance(block, dict) else ""
        if kind == "section" and not 0 < len(text) <= SECTION:
            return "invalid_blocks"
        if kind == "header" and not 0 < len(text) <= HEADER:
            return "invalid_blocks"
        if kind == "actions":
            elements = block.get("elements") or []
            if len(elements) > 25 or any(len(e["text"]["text"]) > 75 or len(e.get("value", "")) > 2000
                                         for e in elements):
                return "invalid_blocks"
        if kind not in ("section", "header", "actions", "context", "divider"):
            return "invalid_blocks"
    return None


@dataclass
class SlackDouble:
    token: str = "xoxb-test-token"
    burst: int = 3
    per_second: float = 1.0
    channels: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # channel id → messages posted
    not_member: set[str] = field(default_factory=set)
    archived: set[str] = field(default_factory=set)
    webhooks: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # "T…/B…/secret" → posts
    responses: list[dict[str, Any]] = field(default_factory=list)  # bodies POSTed to response_urls
    lose_replies: int = 0
    forced_429: int = 0
    retry_after: int = 1  # seconds in a 429's Retry-After (Slack sends whole seconds)
    limited: int = 0  # 429s answered by the buckets (unplanned for a paced client)
    refusals: list[str] = field(default_factory=list)
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict)
    _runner: web.AppRunner | None = None
    url: str = ""
    _ts: float = 0.0

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/api/chat.postMessage", self._post_message)
        app.router.add_route("*", "/api/conversations.history", self._history)
        app.router.add_post("/services/{path:.+}", self._webhook)
        app.router.add_post("/actions/{path:.+}", self._action_response)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def _take(self, key: str) -> bool:
        now = time.monotonic()
        tokens, at = self._buckets.get(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - at) * self.per_second)
        if tokens < 1:
            self._buckets[key] = (tokens, now)
            return False
        self._buckets[key] = (tokens - 1, now)
        return True

    def _limited(self, key: str) -> bool:
        if self.forced_429:
            self.forced_429 -= 1
            return True
        if not self._take(key):
            self.limited += 1
            return True
        return False

    def _lose_reply(self, request: web.Request) -> bool:
        """Posted, but the connection drops before the answer (when a lost reply is asked for)."""
        if not self.lose_replies:
            return False
        self.lose_replies -= 1
        assert request.transport is not None
        request.transport.close()
        return True

    def _refuse(self, error: str) -> web.Response:
        self.refusals.append(error)
        return web.json_response({"ok": False, "error": error})

    async def _args(self, request: web.Request) -> dict[str, Any]:
        if request.method == "GET":
            return dict(request.query)
        if request.content_type == "application/json":
            return dict(await request.json())
        return dict(await request.post())

    async def _known_channel(self, request: web.Request) -> tuple[dict[str, Any], str] | web.Response:
        """(arguments, channel id) of an authorised call naming a known channel, else Slack's refusal."""
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return self._refuse("invalid_auth")
        args = await self._args(request)
        channel = str(args.get("channel", ""))
        return (args, channel) if channel in self.channels else self._refuse("channel_not_found")

    async def _post_message(self, request: web.Request) -> web.StreamResponse:
        known = await self._known_channel(request)
        if isinstance(known, web.Response):
            return known
        args, channel = known
        if channel in self.archived:
            return self._refuse("is_archived")
        if channel in self.not_member:
            return self._refuse("not_in_channel")
        if self._limited(channel):
            return web.json_response({"ok": False, "error": "ratelimited"}, status=429,
                                     headers={"Retry-After": str(self.retry_after)})
        blocks = args.get("blocks")
        if isinstance(blocks, str):
            blocks = json.loads(blocks)
        if not args.get("text") and not blocks:
            return self._refuse("no_text")
        if len(str(args.get("text", ""))) > TEXT:
            return self._refuse("msg_too_long")
        if blocks is not None and (error := block_errors(blocks)):
            return self._refuse(error)
        self._ts = max(self._ts + 0.000001, time.time())
        message = {"type": "message", "ts": f"{self._ts:.6f}", "text": args.get("text"), "blocks": blocks,
                   "metadata": args.get("metadata")}
        self.channels[channel].append(message)
        if self._lose_reply(request):
            return web.Response()
        return web.json_response({"ok": True, "channel": channel, "ts": message["ts"], "message": message})

    async def _history(self, request: web.Request) -> web.Response:
        known = await self._known_channel(request)
        if isinstance(known, web.Response):
            return known
        args, channel = known
        oldest = float(args.get("oldest") or 0)
        metadata = str(args.get("include_all_metadata", "")).lower() in ("1", "true")
        messages = [{**m, "metadata": m["metadata"] if metadata else None}
                    for m in reversed(self.channels[channel]) if float(m["ts"]) > oldest]
        return web.json_response({"ok": True, "messages": messages[: int(args.get("limit") or 100)],
                                  "has_more": False, "response_metadata": {"next_cursor": ""}})

    async def _action_response(self, request: web.Request) -> web.Response:
        """A message response (https://api.slack.com/interactivity/handling#message_responses)."""
        body = await request.json()
        if not body.get("text") and not body.get("blocks"):
            return web.Response(status=400, text="invalid_payload")
        self.responses.append(body)
        return web.Response(text="ok")

    async def _webhook(self, request: web.Request) -> web.StreamResponse:
        path = request.match_info["path"]
        if path not in self.webhooks:
            return web.Response(status=404, text="no_service")
        if path in self.archived:
            return web.Response(status=410, text="channel_is_archived")
        if self._limited(path):
            return web.Response(status=429, text="rate_limited", headers={"Retry-After": str(self.retry_after)})
        body = await request.json()
        if not body.get("text") and not body.get("blocks"):
            return web.Response(status=400, text="invalid_payload")
        if body.get("blocks") is not None and block_errors(body["blocks"]):
            return web.Response(status=400, text="invalid_blocks")
        self.webhooks[path].append(body)
        if self._lose_reply(request):
            return web.Response()
        return web.Response(text="ok")
