"""A local Telegram Bot API double: `POST /bot<token>/<method>` on 127.0.0.1, for end-to-end tests and the bench.

The real python-telegram-bot client is pointed at it (`Bot(token, base_url=double.base_url)`) and runs
unmodified. Methods: getMe, sendMessage, answerCallbackQuery, getUpdates (long polling, answered as
soon as an update is queued), deleteWebhook. Answers have Telegram's shape
(https://core.telegram.org/bots/api#making-requests): `{"ok": true, "result": …}` or
`{"ok": false, "error_code": N, "description": "…", "parameters": {"retry_after": s}}`.
Refusals (rules.py for message contents and pacing): 401 for a wrong token, 400 "chat not found",
403 "bot was blocked by the user" (private chats), "bot was kicked from the group chat" (groups),
"bot is not a member of the channel chat" (channels). Failure injection: `lose_replies` (the message is
posted, then the connection drops before the answer: an unknown outcome for the client), `force_429`.
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

from tests.digest.telegram.double.rules import Refusal, Windows, check_message
from tests.local_server import serve

BOT_ID = 7000000001


@dataclass
class Chat:
    id: int
    type: str  # private | group | supergroup | channel
    title: str = ""
    blocked: bool = False  # a user blocked the bot (private chats)
    kicked: bool = False  # the bot was removed (groups, channels)
    admins: set[int] = field(default_factory=set)  # user ids of the group's administrators
    migrated_to: int | None = None  # a group upgraded to this supergroup

    def payload(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "type": self.type}
        if self.type == "private":
            out["first_name"] = self.title or "Ada"
        else:
            out["title"] = self.title or f"chat {self.id}"
        return out


@dataclass
class TelegramDouble:
    token: str = "123456:TEST-double-token"
    scale: float = 1.0  # shrinks the pacing windows (tests); the bench runs at 1.0
    chats: dict[int, Chat] = field(default_factory=dict)
    sent: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # chat id -> messages posted
    answered: list[dict[str, Any]] = field(default_factory=list)  # answerCallbackQuery calls
    refusals: list[tuple[int, str]] = field(default_factory=list)  # (status, description) answered
    lose_replies: int = 0  # the next N sendMessage calls post, then drop the connection unanswered
    forced_429: list[int] = field(default_factory=list)  # retry_after of the next sendMessage calls
    rate_limited: int = 0  # 429s answered (forced ones included)
    webhook: str | None = None  # a webhook set earlier (by another deployment, say): getUpdates then refuses

    def __post_init__(self) -> None:
        self.windows = Windows(self.scale)
        self._ids = itertools.count(1)
        self._update_ids = itertools.count(1)
        self._updates: list[dict[str, Any]] = []
        self._queued = asyncio.Event()
        self.delivered = asyncio.Event()  # set by every accepted sendMessage (tests wait on it, never sleep)
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    async def start(self) -> TelegramDouble:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner, self.port = await serve(app)
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # -- the world ------------------------------------------------------------------------------
    def add_chat(self, chat_id: int, kind: str = "private", title: str = "") -> Chat:
        self.chats[chat_id] = Chat(chat_id, kind, title)
        return self.chats[chat_id]

    def user_says(self, chat_id: int, text: str, *, user_id: int = 42) -> None:
        """A member sends `text` (a command) in a chat; the bot sees it in its next getUpdates."""
        chat = self.chats[chat_id]
        message = {"message_id": next(self._ids), "date": int(time.time()), "chat": chat.payload(), "text": text,
                   "from": {"id": user_id, "is_bot": False, "first_name": "Ada"}}
        if text.startswith("/"):
            command = text.split()[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        self._queue({"message": message} if chat.type != "channel" else {"channel_post": message})

    def press(self, chat_id: int, message_id: int, data: str, *, user_id: int = 42) -> str:
        """A member presses an inline button under message `message_id`; returns the callback query id."""
        query_id = f"cq{next(self._ids)}"
        message = {"message_id": message_id, "date": int(time.time()), "chat": self.chats[chat_id].payload()}
        self._queue({"callback_query": {"id": query_id, "from": {"id": user_id, "is_bot": False, "first_name": "Ada"},
                                        "chat_instance": str(chat_id), "message": message, "data": data}})
        return query_id

    def queue_raw(self, update: dict[str, Any]) -> None:
        """Any update as Telegram could send it (stickers, edits, joins): for poison-case tests."""
        self._queue(update)

    def texts(self, chat_id: int) -> list[str]:
        return [m["text"] for m in self.sent.get(chat_id, [])]

    def _queue(self, update: dict[str, Any]) -> None:
        self._updates.append({"update_id": next(self._update_ids), **update})
        self._queued.set()

    # -- the API ----------------------------------------------------------------------------------
    async def _params(self, request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            return dict(await request.json())
        form = await request.post()
        params: dict[str, Any] = {}
        for key, value in form.items():
            text = str(value)
            try:  # python-telegram-bot form-encodes nested objects as JSON strings
                params[key] = json.loads(text) if text[:1] in "{[" else text
            except ValueError:
                params[key] = text
        return params

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:  # https://core.telegram.org/bots/api#authorizing-your-bot
            return self._error(Refusal(401, "Unauthorized"))
        method = request.match_info["method"]
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return self._error(Refusal(404, "Not Found"))
        params = await self._params(request)
        try:
            result = await handler(params, request)
        except Refusal as refusal:
            return self._error(refusal)
        if result is _LOST:
            assert request.transport is not None
            request.transport.abort()  # posted, but the client never hears so
            return web.Response()
        return web.json_response({"ok": True, "result": result})

    def _error(self, refusal: Refusal) -> web.Response:
        self.refusals.append((refusal.status, refusal.description))
        body: dict[str, Any] = {"ok": False, "error_code": refusal.status, "description": refusal.description}
        if refusal.parameters:
            body["parameters"] = refusal.parameters
        return web.json_response(body, status=refusal.status)

    async def _m_getMe(self, params: dict[str, Any], request: web.Request) -> Any:
        return {"id": BOT_ID, "is_bot": True, "first_name": "paperbell", "username": "paperbell_bot",
                "can_join_groups": True, "can_read_all_group_messages": False, "supports_inline_queries": False}

    async def _m_deleteWebhook(self, params: dict[str, Any], request: web.Request) -> Any:
        self.webhook = None
        return True

    async def _m_getUpdates(self, params: dict[str, Any], request: web.Request) -> Any:
        if self.webhook is not None:  # https://core.telegram.org/bots/api#getupdates: not while a webhook is set
            raise Refusal(409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook "
                               "to delete the webhook first")
        offset = int(params.get("offset") or 0)
        self._updates = [u for u in self._updates if u["update_id"] >= offset]  # offset confirms earlier ones
        if not self._updates and float(params.get("timeout") or 0) > 0:
            self._queued.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._queued.wait(), float(params["timeout"]))
        return self._updates[: int(params.get("limit") or 100)]

    async def _m_getChatMember(self, params: dict[str, Any], request: web.Request) -> Any:
        """https://core.telegram.org/bots/api#getchatmember: a member's status (the fields PTB reads for each)."""
        chat = self._chat(params.get("chat_id"))
        user = {"id": int(params["user_id"]), "is_bot": False, "first_name": "Ada"}
        if int(params["user_id"]) not in chat.admins:
            return {"status": "member", "user": user}
        rights = ("can_be_edited", "is_anonymous", "can_manage_chat", "can_delete_messages",
                  "can_manage_video_chats", "can_restrict_members", "can_promote_members", "can_change_info",
                  "can_invite_users", "can_post_stories", "can_edit_stories", "can_delete_stories")
        return {"status": "administrator", "user": user, **{name: name != "is_anonymous" for name in rights}}

    async def _m_answerCallbackQuery(self, params: dict[str, Any], request: web.Request) -> Any:
        self.answered.append(params)
        return True

    async def _m_sendMessage(self, params: dict[str, Any], request: web.Request) -> Any:
        chat = self._chat(params.get("chat_id"))
        if self.forced_429:
            self.rate_limited += 1
            wait = self.forced_429.pop(0)
            raise Refusal(429, f"Too Many Requests: retry after {wait}", {"retry_after": wait})
        shown = check_message(params)
        try:
            self.windows.admit(chat.id, chat.type in ("group", "supergroup"), time.monotonic())
        except Refusal:
            self.rate_limited += 1
            raise
        message = {"message_id": next(self._ids), "date": int(time.time()), "chat": chat.payload(),
                   "text": shown, "sent_html": params.get("text"), "reply_markup": params.get("reply_markup")}
        self.sent.setdefault(chat.id, []).append(message)
        self.delivered.set()
        if self.lose_replies > 0:
            self.lose_replies -= 1
            return _LOST
        return {k: v for k, v in message.items() if k != "sent_html" and v is not None}

    def _chat(self, chat_id: object) -> Chat:
        """The chat a send goes to, or Telegram's refusal for it (https://core.telegram.org/bots/api#sendmessage)."""
        try:
            chat = self.chats.get(int(str(chat_id)))
        except ValueError:
            chat = None
        if chat is None:
            raise Refusal(400, "Bad Request: chat not found")
        if chat.migrated_to is not None:  # https://core.telegram.org/bots/api#responseparameters
            raise Refusal(400, "Bad Request: group chat was upgraded to a supergroup chat",
                          {"migrate_to_chat_id": chat.migrated_to})
        if chat.blocked:
            raise Refusal(403, "Forbidden: bot was blocked by the user")
        if chat.kicked:
            where = {"group": "the group chat", "supergroup": "the supergroup chat"}.get(chat.type)
            raise Refusal(403, f"Forbidden: bot was kicked from {where}" if where
                          else "Forbidden: bot is not a member of the channel chat")
        return chat


_LOST = object()
