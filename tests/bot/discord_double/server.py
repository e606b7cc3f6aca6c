"""A local Discord API double: REST (v10 paths) + gateway websocket on 127.0.0.1, for end-to-end bot tests.

The real discord.py client is pointed at it (`Route.BASE` = `api_base`, gateway from `GET /gateway/bot`)
and runs unmodified. Tests drive it like Discord would: `run_command` dispatches INTERACTION_CREATE
built from the commands the bot registered, then `wait_for` the bot's callback. Failure injection:
forced 429s with `retry_after`, per-channel rate-limit buckets with real `X-RateLimit-*` headers,
deleted channels, missing permissions, closed DMs (403 50007), dropped gateway connections, refused
message bodies (`refuse_bodies`). Discord's rules are enforced as Discord does (see rules.py): body
limits (400 50035), per-channel permission bits from overwrites (403 50001/50013), the global limit
(429 `global: true`), nonce deduplication within `nonce_window` seconds, command payload validation,
the 3-second initial-response deadline and follow-ups only after it (interaction endpoints are
exempt from the global limit, as on Discord). Used by tests/bot/** and bench/discord.py.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.bot.discord_double import payloads as p
from tests.bot.discord_double.driver import InteractionDriver
from tests.bot.discord_double.gateway import Gateway
from tests.bot.discord_double.payloads import json_response
from tests.bot.discord_double.rules import GlobalLimit, NonceMemory, command_errors, message_errors
from tests.bot.discord_double.rules_v2 import SLOWMODE_CODE, SLOWMODE_TEXT, Slowmode
from tests.bot.discord_double.threads import ThreadsAndWebhooks
from tests.bot.discord_double.world import Guild, WorldBuilding


@dataclass
class Recorded:
    method: str
    path: str
    body: Any
    status: int
    at: float = field(default_factory=time.monotonic)


@dataclass
class Bucket:
    limit: int
    per: float
    used: int = 0
    reset_at: float = 0.0


class DiscordDouble(WorldBuilding, ThreadsAndWebhooks, InteractionDriver):
    """State of the fake Discord plus its aiohttp server."""

    def __init__(self, token: str = "test-token") -> None:
        ThreadsAndWebhooks.__init__(self)
        self.token = token
        self.application_id = p.snowflake()
        self.bot_user = p.user(self.application_id, "paperbell", bot=True)
        self.users: dict[str, dict[str, Any]] = {}
        self.guilds: dict[str, Guild] = {}
        self.dm_channels: dict[str, dict[str, Any]] = {}  # channel id -> DM channel payload
        self.messages: dict[str, list[dict[str, Any]]] = {}  # channel id -> message payloads
        self.commands: dict[str | None, list[dict[str, Any]]] = {}  # guild id (None = global) -> commands
        self.interactions: dict[str, dict[str, Any]] = {}  # token -> {"payload", "callback", "followups"}
        self.requests: list[Recorded] = []
        self.rate_limited = 0  # 429s answered
        self.channel_errors: dict[str, tuple[int, int, str]] = {}  # channel id -> (status, code, message)
        self.closed_dms: set[str] = set()  # user ids that refuse DMs
        self.forced_429: list[tuple[re.Pattern[str], float, str]] = []
        self.message_bucket: tuple[int, float] | None = None  # (limit, per seconds) per channel
        # Per-route buckets (topics/rate-limits.mdx): "threads" per forum, "webhooks" per webhook, "dm" for
        # opening DM channels; (limit, per seconds), None = not enforced.
        self.route_buckets: dict[str, tuple[int, float] | None] = {"threads": None, "webhooks": None, "dm": None}
        # Discord's ban: 10,000 invalid (401/403/429 but shared-scope 429) requests per 10 minutes blocks the
        # bot's IP for a while (topics/rate-limits.mdx "Invalid Request Limit"); tests may lower it.
        self.invalid_ban_threshold = 10_000
        self._invalid_at: deque[float] = deque()
        self.banned = False
        self._buckets: dict[str, Bucket] = {}
        self.global_limit: GlobalLimit | None = GlobalLimit(50)  # None: no global limit
        self.global_429s = 0  # 429s with `global: true`
        self.nonces = NonceMemory(window=300.0)
        self.slowmode = Slowmode()  # channels' rate_limit_per_user (rules_v2: bots are spared)
        self.refuse_bodies: list[Callable[[dict[str, Any]], bool]] = []  # matching bodies get 400 50035
        self.interaction_deadline = 3.0  # seconds for the initial response (else 10062)
        self.token_lifetime = 15 * 60.0  # follow-ups after this get 10015
        self.invalid_requests = 0  # 401/403/429 answers (Discord bans at 10,000 per 10 min)
        self._changed = asyncio.Condition()
        self._announcements: list[tuple[str, dict[str, Any]]] = []
        self.gateway = Gateway(self)
        self._runner: web.AppRunner | None = None
        self.port = 0

    # --- lifecycle -------------------------------------------------------------------------
    async def start(self) -> DiscordDouble:
        app = web.Application(middlewares=[self._middleware])
        app.router.add_get("/gateway", self.gateway.handle)
        api = "/api/v10"
        routes = [
            ("GET", "/users/@me", self._me),
            ("GET", "/oauth2/applications/@me", self._application),
            ("GET", "/applications/@me", self._application),
            ("GET", "/gateway/bot", self._gateway_bot),
            ("GET", "/gateway", self._gateway_bot),
            ("PUT", "/applications/{app}/commands", self._put_commands),
            ("GET", "/applications/{app}/commands", self._get_commands),
            ("PUT", "/applications/{app}/guilds/{guild}/commands", self._put_commands),
            ("GET", "/applications/{app}/guilds/{guild}/commands", self._get_commands),
            ("POST", "/interactions/{iid}/{token}/callback", self._callback),
            ("POST", "/webhooks/{app}/{token}", self._webhook_post),
            ("PATCH", "/webhooks/{app}/{token}/messages/{mid}", self._edit_webhook_message),
            ("GET", "/webhooks/{app}/{token}/messages/{mid}", self._get_webhook_message),
            ("POST", "/channels/{cid}/messages", self._post_message),
            ("GET", "/channels/{cid}", self._get_channel),
            ("POST", "/users/@me/channels", self._open_dm),
            *self.thread_routes(),
        ]
        for method, path, handler in routes:
            app.router.add_route(method, api + path, handler)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def close(self) -> None:
        await self.gateway.drop(1001)
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    # --- waiting ---------------------------------------------------------------------------
    def record(self, method: str, path: str, body: Any, status: int) -> None:
        self.requests.append(Recorded(method, path, body, status))
        self.poke()

    def poke(self) -> None:
        """Something changed: waiters in `wait_for` re-check their predicate."""
        asyncio.get_running_loop().create_task(self._notify())

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 10.0) -> Any:
        """Wait until predicate() is truthy (re-checked after every request the double serves)."""
        async def _wait() -> Any:
            async with self._changed:
                while not (result := predicate()):
                    await self._changed.wait()
                return result
        return await asyncio.wait_for(_wait(), timeout)

    def force_429(self, pattern: str, retry_after: float = 0.1, scope: str = "user") -> None:
        """The next request whose 'METHOD /path' matches `pattern` gets one 429 (scope "user" or "shared")."""
        self.forced_429.append((re.compile(pattern), retry_after, scope))

    # --- HTTP ------------------------------------------------------------------------------
    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        path = request.path.removeprefix("/api/v10")
        if request.path.startswith("/api/") and self.banned:
            self.record(request.method, request.path.removeprefix("/api/v10"), None, 403)
            return web.Response(status=403, text="error code: 1015")  # Cloudflare's ban page, not JSON
        if request.path.startswith("/api/"):
            if request.headers.get("Authorization") != f"Bot {self.token}" and "/webhooks/" not in path \
                    and "/interactions/" not in path:
                return self._error(401, 0, "401: Unauthorized", request)
            key = f"{request.method} {path}"
            for index, (pattern, retry_after, scope) in enumerate(self.forced_429):
                if pattern.search(key):
                    del self.forced_429[index]
                    return self._too_many(retry_after, request, scope=scope)
            # interaction callbacks and follow-ups are not bound by the global limit (Discord docs)
            if self.global_limit is not None and "/interactions/" not in path and "/webhooks/" not in path:
                wait = self.global_limit.take()
                if wait is not None:
                    self.global_429s += 1
                    return self._too_many(wait, request, scope="global")
        response = await handler(request)
        if request.path.startswith("/api/"):
            body = await request.json() if request.can_read_body and request.content_type == "application/json" \
                else None
            if response.status in (401, 403) or (response.status == 429
                                                 and response.headers.get("X-RateLimit-Scope") != "shared"):
                self.count_invalid()
            self.record(request.method, path, body, response.status)
        return response

    def slowmode_refusal(self, channel: dict[str, Any], request: web.Request) -> web.Response | None:
        """429 20016 while the author's slowmode interval in this channel runs (rules_v2.Slowmode)."""
        left = self.slowmode.wait(channel, self.application_id, is_bot=True,
                                  permissions=self.bot_permissions_in(channel.get("parent_id") or channel["id"]))
        return None if left is None else self._too_many(left, request, scope="user", code=SLOWMODE_CODE)

    def _too_many(self, retry_after: float, request: web.Request, scope: str, code: int = 0) -> web.Response:
        self.rate_limited += 1
        if scope != "shared":  # shared-scope 429s do not count toward the invalid request limit
            self.count_invalid()
        self.record(request.method, request.path.removeprefix("/api/v10"), None, 429)
        is_global = scope == "global"
        body: dict[str, Any] = {"message": "You are being rate limited.", "retry_after": retry_after,
                                "global": is_global}
        if code:  # a documented refusal that is also a rate limit (slowmode 20016)
            body.update(message=SLOWMODE_TEXT, code=code)
        headers = {"Retry-After": str(retry_after), "X-RateLimit-Scope": scope, "Via": "1.1 google"}
        if is_global:
            headers["X-RateLimit-Global"] = "true"
        else:
            headers.update({"X-RateLimit-Remaining": "0", "X-RateLimit-Limit": "1",
                            "X-RateLimit-Reset-After": str(retry_after), "X-RateLimit-Bucket": "forced"})
        return json_response(body, status=429, headers=headers)

    def invalid_body(self, code: int, errors: list[str], request: web.Request) -> web.Response:
        """Discord's 400 for a body it refuses, with the problems listed (as `errors` does)."""
        message = "Invalid Form Body" if code == 50035 else "Cannot send an empty message"
        return json_response({"message": message, "code": code, "errors": {"_errors": errors}}, status=400,
                             headers={"Via": "1.1 google"})

    def _error(self, status: int, code: int, message: str, request: web.Request) -> web.Response:
        return json_response({"message": message, "code": code}, status=status, headers={"Via": "1.1 google"})

    async def _me(self, request: web.Request) -> web.Response:
        return json_response(self.bot_user)

    async def _application(self, request: web.Request) -> web.Response:
        return json_response({
            "id": self.application_id, "name": "paperbell", "icon": None, "description": "", "rpc_origins": [],
            "bot_public": True, "bot_require_code_grant": False, "bot": self.bot_user, "summary": "",
            "verify_key": "0" * 64, "team": None, "flags": 0, "owner": self.users.get(
                next(iter(self.users), ""), p.user(p.snowflake(), "owner")),
        })

    async def _gateway_bot(self, request: web.Request) -> web.Response:
        return json_response({"url": self.gateway_url, "shards": self.gateway.shard_count, "session_start_limit": {
            "total": 1000, "remaining": 1000, "reset_after": 0, "max_concurrency": 1}})

    async def _put_commands(self, request: web.Request) -> web.Response:
        guild_id = request.match_info.get("guild")
        payload = await request.json()
        problems = [problem for command in payload for problem in command_errors(command)]
        if len(payload) > 100:
            problems.append("Maximum number of application commands reached (100)")
        if problems:
            return self.invalid_body(50035, problems, request)
        stored = []
        for command in payload:
            stored.append({**command, "id": p.snowflake(), "application_id": self.application_id,
                           "version": p.snowflake(), "guild_id": guild_id,
                           # Discord answers with the permission bit set as a string
                           "default_member_permissions": None if command.get("default_member_permissions") is None
                           else str(command["default_member_permissions"]),
                           "options": command.get("options", [])})
        self.commands[guild_id] = stored
        return json_response(stored)

    async def _get_commands(self, request: web.Request) -> web.Response:
        return json_response(self.commands.get(request.match_info.get("guild"), []))

    def _channel(self, channel_id: str) -> dict[str, Any] | None:
        if channel_id in self.dm_channels:
            return self.dm_channels[channel_id]
        for guild in self.guilds.values():
            if channel_id in guild.channels:
                return guild.channels[channel_id]
        return None

    async def _get_channel(self, request: web.Request) -> web.Response:
        channel = self._channel(request.match_info["cid"])
        if channel is None:
            return self._error(404, 10003, "Unknown Channel", request)
        return json_response(channel)

    async def _open_dm(self, request: web.Request) -> web.Response:
        recipient = str((await request.json())["recipient_id"])
        for channel in self.dm_channels.values():
            if channel["recipients"][0]["id"] == recipient:
                return json_response(channel)
        if recipient not in self.users:
            return self._error(400, 50033, "Invalid Recipient(s)", request)
        headers = self.take_route("dm", "create", self.route_buckets["dm"])
        if headers is None:
            return self._too_many(self._retry_after("create", "dm"), request, scope="user")
        channel = p.dm_channel(p.snowflake(), self.users[recipient])
        self.dm_channels[channel["id"]] = channel
        self.messages[channel["id"]] = []
        return json_response(channel)

    async def _post_message(self, request: web.Request) -> web.Response:
        channel_id = request.match_info["cid"]
        channel = self._channel(channel_id)
        if channel_id in self.channel_errors:
            status, code, text = self.channel_errors[channel_id]
            return self._error(status, code, text, request)
        if channel is None:
            return self._error(404, 10003, "Unknown Channel", request)
        if channel["type"] == 1 and channel["recipients"][0]["id"] in self.closed_dms:
            return self._error(403, 50007, "Cannot send messages to this user", request)
        refused = self.thread_refusal(channel, request)
        if refused is not None:
            return refused
        headers = self._take_bucket(channel_id, request)
        if headers is None:
            return self._too_many(self._retry_after(channel_id), request, scope="user")
        body = await request.json()
        refused = self._permission_refusal(channel, body, request) or self.slowmode_refusal(channel, request)
        if refused is not None:
            return refused
        if any(rule(body) for rule in self.refuse_bodies) and not message_errors(body)[0]:
            return self.invalid_body(50035, ["embeds.0.url: Not a well formed URL."], request)
        refused = self.body_refusal(body, request)
        if refused is not None:
            return refused
        nonce = str(body.get("nonce") or "")
        if nonce and body.get("enforce_nonce"):  # the same author's nonce within minutes → the first message
            earlier = self.nonces.earlier(self.application_id, nonce)
            if earlier is not None:
                return json_response(earlier, headers=headers)
        message = self.store_message(channel, body)
        if nonce:
            message["nonce"] = nonce
            self.nonces.remember(self.application_id, nonce, message)
        return json_response(message, headers=headers)

    async def _webhook_post(self, request: web.Request) -> web.Response:
        """The application's own id: an interaction follow-up; any other webhook id: Execute Webhook."""
        if request.match_info["app"] == self.application_id:
            return await self._followup(request)
        return await self.execute_webhook(request)

    def _permission_refusal(self, channel: dict[str, Any], body: dict[str, Any], request: web.Request
                            ) -> web.Response | None:
        if channel.get("type") == 11:  # threads: checked by thread_refusal (Send Messages in Threads)
            return None
        permissions = self.bot_permissions_in(channel["id"])
        if not permissions & p.VIEW_CHANNEL:
            return self._error(403, 50001, "Missing Access", request)
        if not permissions & p.SEND_MESSAGES or (body.get("embeds") and not permissions & p.EMBED_LINKS):
            return self._error(403, 50013, "Missing Permissions", request)
        return None

    def _take_bucket(self, channel_id: str, request: web.Request) -> dict[str, str] | None:
        """Discord's per-channel message bucket, with the headers discord.py uses to pace itself."""
        return self.take_route("messages", channel_id, self.message_bucket)

    def take_route(self, route: str, key: str, rule: tuple[int, float] | None) -> dict[str, str] | None:
        """One request from the `route` bucket of `key`: its X-RateLimit-* headers, or None when empty."""
        if rule is None:
            return {}
        limit, per = rule
        bucket = self._buckets.setdefault(f"{route}:{key}", Bucket(limit, per))
        now = time.monotonic()
        if now >= bucket.reset_at:
            bucket.used, bucket.reset_at = 0, now + per
        if bucket.used >= limit:
            return None
        bucket.used += 1
        reset_after = max(bucket.reset_at - now, 0.001)
        return {"X-RateLimit-Limit": str(limit), "X-RateLimit-Remaining": str(limit - bucket.used),
                "X-RateLimit-Reset-After": f"{reset_after:.3f}",
                "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
                "X-RateLimit-Bucket": f"{route}-{key}"}

    def _retry_after(self, channel_id: str, route: str = "messages") -> float:
        return max(self._buckets[f"{route}:{channel_id}"].reset_at - time.monotonic(), 0.001)

    def count_invalid(self) -> None:
        """One more invalid request; past the threshold within 10 minutes, the bot is banned."""
        now = time.monotonic()
        self.invalid_requests += 1
        self._invalid_at.append(now)
        while self._invalid_at and now - self._invalid_at[0] > 600:
            self._invalid_at.popleft()
        if len(self._invalid_at) >= self.invalid_ban_threshold:
            self.banned = True
