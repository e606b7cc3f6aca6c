"""The forum, thread, webhook and role-mention half of the Discord double (discord-api-docs, API v10).

Mixed into `server.DiscordDouble`. What it follows:
  - Forum channels (type 15) hold only threads: `POST /channels/{forum}/messages` is 400 40058; a post is
    "Start Thread in Forum or Media Channel" (`POST /channels/{forum}/threads`: `name` 1-100, `message` a
    message body under the usual limits, `applied_tags` ≤ 5 ids of the forum's `available_tags`, required
    when the forum has the REQUIRE_TAG flag: 400 40067). It needs SEND_MESSAGES in the forum and answers
    with the thread channel (type 11) carrying its starter `message`, whose id equals the thread's.
  - "Start Thread from Message" (`POST /channels/{cid}/messages/{mid}/threads`) needs
    CREATE_PUBLIC_THREADS; the thread id equals the message id; a second thread on it is 400 160004.
  - Posting in a thread needs SEND_MESSAGES_IN_THREADS (not SEND_MESSAGES); an archived+locked thread is
    400 50083; a deleted one 404 10003.
  - Webhooks: `POST /channels/{cid}/webhooks` needs MANAGE_WEBHOOKS (403 50013), `name` 1-80 without
    "clyde"/"discord" (400 50035); `POST /webhooks/{id}/{token}?wait=true` answers the message (204
    without `wait`), with `username` (1-80) and `avatar_url` shown as the author; unknown → 404 10015;
    `components` kept for application-owned webhooks, else ignored without `with_components=true`.
  - allowed_mentions: `parse` ⊆ {roles, users, everyone}; `parse: ["roles"]` together with a `roles`
    list is 400 50035; ≤ 100 ids. A role in the content pings (lands in `mention_roles`) only when
    allowed_mentions allows it AND the role is mentionable or the author has MENTION_EVERYONE.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from aiohttp import web

from tests.bot.discord_double import payloads as p
from tests.bot.discord_double.payloads import json_response
from tests.bot.discord_double.rules import message_errors
from tests.bot.discord_double.rules_v2 import (
    MANAGE_THREADS,
    PRIVATE_THREAD,
    WEBHOOKS_PER_CHANNEL,
    archive_duration_errors,
)

if TYPE_CHECKING:
    from tests.bot.discord_double.world import Guild

FORUM, MEDIA, PUBLIC_THREAD = 15, 16, 11
REQUIRE_TAG = 1 << 4  # channel flag of forums
ROLE_MENTION = re.compile(r"<@&(\d+)>")


def webhook_components(webhook: dict[str, Any], body: dict[str, Any], with_components: str, application_id: str
                       ) -> tuple[dict[str, Any], str | None]:
    """Execute Webhook's component rule (https://discord.com/developers/docs/resources/webhook#execute-webhook):
    application-owned webhooks can always send components; other webhooks cannot send interactive ones,
    and their `components` field is ignored unless `with_components=true`."""
    if not body.get("components") or webhook.get("application_id") == application_id:
        return body, None
    if with_components.lower() != "true":
        return {k: v for k, v in body.items() if k != "components"}, None
    interactive = any(c.get("custom_id") for row in body["components"] for c in row.get("components", []))
    return body, "components: Interactive components require an application-owned webhook." if interactive else None


def mention_errors(body: dict[str, Any]) -> list[str]:
    """Problems Discord reports for `allowed_mentions` (400 50035)."""
    allowed = body.get("allowed_mentions")
    if allowed is None:
        return []
    errors = []
    parse = allowed.get("parse") or []
    if any(kind not in ("roles", "users", "everyone") for kind in parse):
        errors.append("allowed_mentions.parse: Value must be one of ('roles', 'users', 'everyone').")
    for kind in ("roles", "users"):
        if kind in parse and allowed.get(kind):
            errors.append(f"allowed_mentions.parse: {kind} is mutually exclusive with the {kind} field")
        if len(allowed.get(kind) or []) > 100:
            errors.append(f"allowed_mentions.{kind}: Must be 100 or fewer in length.")
    return errors


class ThreadsAndWebhooks:
    application_id: str
    bot_user: dict[str, Any]
    guilds: dict[str, Guild]
    messages: dict[str, list[dict[str, Any]]]

    def __init__(self) -> None:
        self.webhooks: dict[str, dict[str, Any]] = {}  # webhook id -> webhook object (with token)
        self.active_thread_limit = 1000  # per guild; a test lowers it to reach 160006

    # --- defined by the other halves ------------------------------------------------------
    def _channel(self, channel_id: str) -> dict[str, Any] | None:
        raise NotImplementedError

    def _error(self, status: int, code: int, message: str, request: web.Request) -> web.Response:
        raise NotImplementedError

    def invalid_body(self, code: int, errors: list[str], request: web.Request) -> web.Response:
        raise NotImplementedError

    route_buckets: dict[str, tuple[int, float] | None]

    def take_route(self, route: str, key: str, rule: tuple[int, float] | None) -> dict[str, str] | None:
        raise NotImplementedError

    def _retry_after(self, channel_id: str, route: str = "messages") -> float:
        raise NotImplementedError

    def _too_many(self, retry_after: float, request: web.Request, scope: str, code: int = 0) -> web.Response:
        raise NotImplementedError

    def slowmode_refusal(self, channel: dict[str, Any], request: web.Request) -> web.Response | None:
        raise NotImplementedError

    def bot_permissions_in(self, channel_id: str) -> int:
        raise NotImplementedError

    def _announce(self, event: str, data: dict[str, Any]) -> None:
        raise NotImplementedError

    # --- world ----------------------------------------------------------------------------
    def add_forum(self, guild_id: str, name: str, tags: tuple[str, ...] = (), *, require_tag: bool = False,
                  media: bool = False) -> str:
        """A forum (type 15), or a media channel (type 16: a forum whose posts lead with media)."""
        guild = self.guilds[guild_id]
        channel_id = p.snowflake()
        channel = {**p.text_channel(channel_id, name, guild_id, len(guild.channels)), "type": MEDIA if media else FORUM,
                   "available_tags": [{"id": p.snowflake(), "name": tag, "moderated": False, "emoji_id": None,
                                       "emoji_name": None} for tag in tags],
                   "flags": REQUIRE_TAG if require_tag else 0, "default_forum_layout": 0,
                   "default_sort_order": None, "default_reaction_emoji": None}
        guild.channels[channel_id] = channel
        self.messages[channel_id] = []
        self._announce("CHANNEL_CREATE", channel)
        return channel_id

    def add_thread(self, parent_id: str, name: str, *, thread_id: str | None = None,
                   applied_tags: list[str] | None = None, archive_minutes: int = 1440) -> str:
        """A public thread (type 11) under a text or forum channel; Discord announces it as THREAD_CREATE."""
        parent = self._channel(parent_id)
        assert parent is not None and parent.get("guild_id")
        thread_id = thread_id or p.snowflake()
        thread = {**p.text_channel(thread_id, name, parent["guild_id"]), "type": PUBLIC_THREAD,
                  "parent_id": parent_id, "owner_id": self.application_id, "message_count": 0, "member_count": 1,
                  "applied_tags": applied_tags or [],
                  "thread_metadata": {"archived": False, "locked": False, "auto_archive_duration": archive_minutes,
                                      "archive_timestamp": p.now_iso()}}
        thread.pop("permission_overwrites")  # threads inherit the parent's permissions
        self.guilds[parent["guild_id"]].channels[thread_id] = thread
        self.messages[thread_id] = []
        return thread_id

    def delete_channel(self, channel_id: str) -> None:
        """A channel, forum or thread deleted on Discord: later requests to it get 404 10003."""
        for guild in self.guilds.values():
            guild.channels.pop(channel_id, None)

    def delete_webhook(self, webhook_id: str) -> None:
        self.webhooks.pop(webhook_id, None)

    def set_role(self, guild_id: str, role_id: str, **changes: Any) -> None:
        """Change a role (e.g. `mentionable=True`); the client hears GUILD_ROLE_UPDATE."""
        role = next(r for r in self.guilds[guild_id].roles if r["id"] == role_id)
        role.update(changes)
        self._announce("GUILD_ROLE_UPDATE", {"guild_id": guild_id, "role": role})

    def thread_starter(self, thread_id: str) -> dict[str, Any]:
        return self.messages[thread_id][0]

    def threads_of(self, parent_id: str) -> list[dict[str, Any]]:
        return [c for g in self.guilds.values() for c in g.channels.values() if c.get("parent_id") == parent_id]

    # --- permissions ----------------------------------------------------------------------
    def permissions_for_channel(self, channel: dict[str, Any]) -> int:
        """Threads take the permissions of their parent channel."""
        return self.bot_permissions_in(channel.get("parent_id") or channel["id"])

    def pinged_roles(self, channel: dict[str, Any], body: dict[str, Any], author_can_mention_all: bool) -> list[str]:
        allowed = body.get("allowed_mentions")
        named = ROLE_MENTION.findall(body.get("content") or "")
        if allowed is not None:
            permitted = set(allowed.get("roles") or []) | (set(named) if "roles" in (allowed.get("parse") or [])
                                                           else set())
            named = [r for r in named if r in permitted]
        roles = {r["id"]: r for r in self.guilds[channel["guild_id"]].roles} if channel.get("guild_id") else {}
        return [r for r in dict.fromkeys(named)
                if r in roles and (roles[r].get("mentionable") or author_can_mention_all)]

    def body_refusal(self, body: dict[str, Any], request: web.Request) -> web.Response | None:
        code, problems = message_errors(body)
        problems += mention_errors(body)
        if problems:
            return self.invalid_body(50035 if code in (0, 50035) else code, problems, request)
        if code:
            return self.invalid_body(code, problems, request)
        return None

    def store_message(self, channel: dict[str, Any], body: dict[str, Any], *, author: dict[str, Any] | None = None,
                      webhook_id: str | None = None, message_id: str | None = None) -> dict[str, Any]:
        can_mention_all = bool(self.permissions_for_channel(channel) & p.MENTION_EVERYONE) and webhook_id is None
        message = p.message(message_id or p.snowflake(), channel["id"], author or self.bot_user, body,
                            guild_id=channel.get("guild_id"), webhook_id=webhook_id)
        message["mention_roles"] = self.pinged_roles(channel, body, can_mention_all)
        self.messages[channel["id"]].append(message)
        return message

    def thread_refusal(self, channel: dict[str, Any], request: web.Request) -> web.Response | None:
        """Refusals specific to posting in a forum or a thread (None when the post may go on)."""
        if channel["type"] in (FORUM, MEDIA):
            return self._error(400, 40058, "Cannot send a message in a forum channel", request)
        if channel["type"] not in (PUBLIC_THREAD, PRIVATE_THREAD):
            return None
        metadata = channel["thread_metadata"]
        permissions = self.permissions_for_channel(channel)
        if metadata["archived"] and metadata["locked"]:
            return self._error(400, 50083, "Thread is archived", request)
        if metadata["locked"] and not permissions & MANAGE_THREADS:
            return self._error(400, 160005, "Thread is locked", request)
        private_outsider = channel["type"] == PRIVATE_THREAD and self.bot_user["id"] not in channel.get("members", ())
        if not permissions & p.VIEW_CHANNEL or (private_outsider and not permissions & MANAGE_THREADS):
            return self._error(403, 50001, "Missing Access", request)
        if not permissions & p.SEND_MESSAGES_IN_THREADS:
            return self._error(403, 50013, "Missing Permissions", request)
        return None

    # --- routes ---------------------------------------------------------------------------
    def thread_routes(self) -> list[tuple[str, str, Any]]:
        return [
            ("POST", "/channels/{cid}/threads", self._start_forum_thread),
            ("POST", "/channels/{cid}/messages/{mid}/threads", self._start_thread_from_message),
            ("POST", "/channels/{cid}/webhooks", self._create_webhook),
            ("GET", "/channels/{cid}/webhooks", self._list_webhooks),
            ("GET", "/webhooks/{wid}", self._get_webhook),
        ]

    def webhooks_of(self, channel_id: str) -> list[dict[str, Any]]:
        return [w for w in self.webhooks.values() if w["channel_id"] == channel_id]

    def active_threads(self, guild_id: str | None) -> int:
        guild = self.guilds.get(guild_id or "")
        if guild is None:
            return 0
        return sum(1 for c in guild.channels.values()
                   if c["type"] in (PUBLIC_THREAD, PRIVATE_THREAD) and not c["thread_metadata"]["archived"])

    async def _list_webhooks(self, request: web.Request) -> web.Response:
        """GET /channels/{cid}/webhooks: needs MANAGE_WEBHOOKS (resources/webhook.mdx "Get Channel Webhooks")."""
        channel = self._channel(request.match_info["cid"])
        if channel is None:
            return self._error(404, 10003, "Unknown Channel", request)
        if not self.bot_permissions_in(channel["id"]) & p.MANAGE_WEBHOOKS:
            return self._error(403, 50013, "Missing Permissions", request)
        return json_response(self.webhooks_of(channel["id"]))

    async def _get_webhook(self, request: web.Request) -> web.Response:
        webhook = self.webhooks.get(request.match_info["wid"])
        if webhook is None or self._channel(webhook["channel_id"]) is None:
            return self._error(404, 10015, "Unknown Webhook", request)
        return json_response(webhook)

    async def _start_forum_thread(self, request: web.Request) -> web.Response:
        forum = self._channel(request.match_info["cid"])
        if forum is None:
            return self._error(404, 10003, "Unknown Channel", request)
        if forum["type"] not in (FORUM, MEDIA):
            return self._error(400, 50024, "Cannot execute action on this channel type", request)
        permissions = self.bot_permissions_in(forum["id"])
        if not permissions & p.VIEW_CHANNEL:
            return self._error(403, 50001, "Missing Access", request)
        body = await request.json()
        message = body.get("message") or {}
        if not permissions & p.SEND_MESSAGES or (message.get("embeds") and not permissions & p.EMBED_LINKS):
            return self._error(403, 50013, "Missing Permissions", request)
        name, tags = str(body.get("name") or ""), [str(t) for t in body.get("applied_tags") or []]
        problems = [] if 1 <= len(name) <= 100 else ["name: Must be between 1 and 100 in length."]
        known = {t["id"] for t in forum["available_tags"]}
        if len(tags) > 5 or not set(tags) <= known:
            problems.append("applied_tags: Must be 5 or fewer ids of this forum's available tags.")
        problems += archive_duration_errors(body)
        if problems:
            return self.invalid_body(50035, problems, request)
        moderated = {t["id"] for t in forum["available_tags"] if t.get("moderated")}
        if set(tags) & moderated and not permissions & MANAGE_THREADS:
            return self._error(403, 50013, "Missing Permissions", request)
        if self.active_threads(forum.get("guild_id")) >= self.active_thread_limit:
            return self._error(400, 160006, "Maximum number of active threads reached", request)
        slowed = self.slowmode_refusal(forum, request)  # a forum's slowmode also spaces thread creation
        if slowed is not None:
            return slowed
        headers = self.take_route("threads", forum["id"], self.route_buckets["threads"])
        if headers is None:
            return self._too_many(self._retry_after(forum["id"], "threads"), request, scope="user")
        refused = self.body_refusal(message, request)
        if refused is not None:
            return refused
        if forum["flags"] & REQUIRE_TAG and not tags:
            return self._error(400, 40067, "A tag is required to create a forum post in this channel", request)
        thread_id = self.add_thread(forum["id"], name, applied_tags=tags,
                                    archive_minutes=int(body.get("auto_archive_duration") or 1440))
        thread = self._channel(thread_id)
        assert thread is not None
        starter = self.store_message(thread, message, message_id=thread_id)
        return json_response({**thread, "message": starter}, headers=headers)

    async def _start_thread_from_message(self, request: web.Request) -> web.Response:
        channel_id, message_id = request.match_info["cid"], request.match_info["mid"]
        channel = self._channel(channel_id)
        if channel is None:
            return self._error(404, 10003, "Unknown Channel", request)
        if not any(m["id"] == message_id for m in self.messages.get(channel_id, [])):
            return self._error(404, 10008, "Unknown Message", request)
        if not self.bot_permissions_in(channel_id) & p.CREATE_PUBLIC_THREADS:
            return self._error(403, 50013, "Missing Permissions", request)
        if self._channel(message_id) is not None:
            return self._error(400, 160004, "A thread has already been created for this message", request)
        body = await request.json()
        name = str(body.get("name") or "")
        problems = [] if 1 <= len(name) <= 100 else ["name: Must be between 1 and 100 in length."]
        problems += archive_duration_errors(body)
        if problems:
            return self.invalid_body(50035, problems, request)
        if self.active_threads(channel.get("guild_id")) >= self.active_thread_limit:
            return self._error(400, 160006, "Maximum number of active threads reached", request)
        thread_id = self.add_thread(channel_id, name, thread_id=message_id)
        return json_response(self._channel(thread_id))

    async def _create_webhook(self, request: web.Request) -> web.Response:
        channel = self._channel(request.match_info["cid"])
        if channel is None:
            return self._error(404, 10003, "Unknown Channel", request)
        if not self.bot_permissions_in(channel["id"]) & p.MANAGE_WEBHOOKS:
            return self._error(403, 50013, "Missing Permissions", request)
        if len(self.webhooks_of(channel["id"])) >= WEBHOOKS_PER_CHANNEL:
            return self._error(400, 30007, "Maximum number of webhooks reached (15)", request)
        name = str((await request.json()).get("name") or "")
        if not 1 <= len(name) <= 80 or any(word in name.lower() for word in ("clyde", "discord")):
            return self.invalid_body(50035, ["name: Webhook names must be 1-80 characters and may not contain "
                                             "'clyde' or 'discord'."], request)
        webhook_id = p.snowflake()
        self.webhooks[webhook_id] = {"id": webhook_id, "type": 1, "guild_id": channel.get("guild_id"),
                                     "channel_id": channel["id"], "name": name, "avatar": None,
                                     "token": p.snowflake() + "tok", "application_id": self.application_id,
                                     "user": self.bot_user}
        return json_response(self.webhooks[webhook_id])

    async def execute_webhook(self, request: web.Request) -> web.Response:
        """POST /webhooks/{id}/{token}: a channel webhook (interaction follow-ups are routed elsewhere)."""
        webhook = self.webhooks.get(request.match_info["app"])
        if webhook is None or webhook["token"] != request.match_info["token"]:
            return self._error(404, 10015, "Unknown Webhook", request)
        channel = self._channel(webhook["channel_id"])
        if channel is None:  # the channel went, and its webhooks with it
            return self._error(404, 10015, "Unknown Webhook", request)
        if "thread_id" in request.query:  # post inside a thread of the webhook's channel
            channel = self._channel(request.query["thread_id"])
            if channel is None or channel.get("parent_id") != webhook["channel_id"]:
                return self._error(400, 10003, "Unknown Channel", request)
        headers = self.take_route("webhooks", webhook["id"], self.route_buckets["webhooks"])
        if headers is None:
            return self._too_many(self._retry_after(webhook["id"], "webhooks"), request, scope="user")
        body = await request.json()
        username = body.get("username")
        if username is not None and (not 1 <= len(username) <= 80
                                     or any(w in username.lower() for w in ("clyde", "discord"))):
            return self.invalid_body(50035, ["username: Must be between 1 and 80 in length."], request)
        refused = self.body_refusal(body, request)
        if refused is not None:
            return refused
        body, problem = webhook_components(webhook, body, request.query.get("with_components", "false"),
                                           self.application_id)
        if problem:
            return self.invalid_body(50035, [problem], request)
        author = {**p.user(webhook["id"], username or webhook["name"], bot=True),
                  "avatar": body.get("avatar_url") or webhook["avatar"]}
        message = self.store_message(channel, body, author=author, webhook_id=webhook["id"])
        if request.query.get("wait", "false").lower() != "true":
            return web.Response(status=204, headers=headers)
        return json_response(message, headers=headers)
