"""The interaction half of the Discord double: dispatching slash commands, autocomplete and button
presses as INTERACTION_CREATE, and serving the interaction callback and follow-up webhook endpoints.

Mixed into `server.DiscordDouble`; option payloads are built from the commands the bot registered, so
an unregistered command or option fails here as it would in a real Discord client. Discord's timing
rules hold: the initial response must come within `interaction_deadline` (3 s) of the dispatch, else
404 10062 Unknown interaction; follow-ups and edits of the original need that response first and the
token lives 15 minutes (else 404 10015 Unknown Webhook); response bodies obey the message limits.
`answered_after` records how long each first response took.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from aiohttp import web

from tests.bot.discord_double import payloads as p
from tests.bot.discord_double.payloads import json_response
from tests.bot.discord_double.rules import message_errors
from tests.bot.discord_double.rules_v2 import autocomplete_errors, channel_offered, option_value_offered

if TYPE_CHECKING:
    from tests.bot.discord_double.gateway import Gateway
    from tests.bot.discord_double.world import Guild


class InteractionDriver:
    application_id: str
    bot_user: dict[str, Any]
    users: dict[str, dict[str, Any]]
    guilds: dict[str, Guild]
    dm_channels: dict[str, dict[str, Any]]
    commands: dict[str | None, list[dict[str, Any]]]
    interactions: dict[str, dict[str, Any]]
    gateway: Gateway
    interaction_deadline: float
    token_lifetime: float

    def invalid_body(self, code: int, errors: list[str], request: web.Request) -> web.Response:
        raise NotImplementedError

    def permissions_of(self, guild_id: str, user_id: str) -> int:
        raise NotImplementedError

    async def wait_for(self, predicate: Any, timeout: float = 10.0) -> Any:
        raise NotImplementedError

    async def _flush_announcements(self) -> None:
        raise NotImplementedError

    def _error(self, status: int, code: int, message: str, request: web.Request) -> web.Response:
        raise NotImplementedError

    async def run_command(
        self, guild_id: str | None, channel_id: str, user_id: str, name: str, **options: Any
    ) -> str:
        """Dispatch a slash command as Discord would; returns the interaction token.

        `name` may be "admin subscribe" for a subcommand. Option types come from the registered
        command, so an unregistered command or option fails here like it would in a real client.
        """
        return await self._interact(2, guild_id, channel_id, user_id, name, options, focused=None)

    async def autocomplete(
        self, guild_id: str | None, channel_id: str, user_id: str, name: str, focused: str, **options: Any
    ) -> str:
        return await self._interact(4, guild_id, channel_id, user_id, name, options, focused=focused)

    async def click(self, token: str, custom_id: str, user_id: str) -> str:
        """Press a button on the message an interaction answered with; returns the new token."""
        original = self.interactions[token]
        # the message carrying the buttons: the follow-up after a deferred response, else the response
        message = (original.get("followup_messages") or [original["message"]])[-1]
        base = original["payload"]
        invoker = self.users[user_id]
        guild_id = base.get("guild_id")
        member = None
        if guild_id:
            member = p.member(invoker, self.guilds[guild_id].members[user_id]["roles"],
                              self.permissions_of(guild_id, user_id))
        new_token = f"itok-{p.snowflake()}"
        payload = p.interaction(
            interaction_id=p.snowflake(), application_id=self.application_id, kind=3,
            data={"custom_id": custom_id, "component_type": 2}, guild_id=guild_id, channel=base["channel"],
            invoker=invoker, member_payload=member, token=new_token, message_payload=message,
        )
        self.interactions[new_token] = {"payload": payload, "callback": None, "followups": [], "message": message}
        await self._flush_announcements()
        self.interactions[new_token]["created"] = time.monotonic()
        await self.gateway.dispatch("INTERACTION_CREATE", payload)
        return new_token

    async def _interact(
        self, kind: int, guild_id: str | None, channel_id: str, user_id: str, name: str,
        options: dict[str, Any], focused: str | None,
    ) -> str:
        top, _, sub = name.partition(" ")
        registered = self._find_command(guild_id, top)
        schema = registered.get("options", [])
        if sub:
            schema = next(o for o in schema if o["name"] == sub)["options"]
        resolved: dict[str, Any] = {}
        built = []
        for key, value in options.items():
            spec = next((o for o in schema if o["name"] == key), None)
            if spec is None:
                raise KeyError(f"/{name} has no option {key!r}")
            if not option_value_offered(spec, value):  # the client stops it before sending anything
                raise ValueError(f"Discord's client would not send {key}={str(value)[:40]!r} for /{name}: "
                                 "outside the option's length or value range")
            option: dict[str, Any] = {"name": key, "type": spec["type"], "value": value}
            if spec["type"] == 7:  # CHANNEL: Discord sends the id plus the resolved channel
                channel = self.guilds[guild_id or ""].channels[str(value)]
                if not channel_offered(spec, channel):  # the client never offers it: nothing is sent
                    raise ValueError(f"Discord would not offer a channel of type {channel['type']} for "
                                     f"/{name} {key}: (channel_types {spec.get('channel_types')})")
                resolved.setdefault("channels", {})[str(value)] = {**channel, "permissions": str((1 << 41) - 1)}
            if spec["type"] == 8:  # ROLE
                role = next(r for r in self.guilds[guild_id or ""].roles if r["id"] == str(value))
                resolved.setdefault("roles", {})[str(value)] = role
            if key == focused:
                option["focused"] = True
            built.append(option)
        data: dict[str, Any] = {"id": registered["id"], "name": top, "type": 1}
        data["options"] = [{"name": sub, "type": 1, "options": built}] if sub else built
        if resolved:
            data["resolved"] = resolved
        if registered.get("guild_id"):
            data["guild_id"] = registered["guild_id"]
        invoker = self.users[user_id]
        member = None
        if guild_id:
            channel = self.guilds[guild_id].channels[channel_id]
            member = p.member(invoker, self.guilds[guild_id].members[user_id]["roles"],
                              self.permissions_of(guild_id, user_id))
        else:
            channel = self.dm_channels[channel_id]
        token = f"itok-{p.snowflake()}"
        payload = p.interaction(
            interaction_id=p.snowflake(), application_id=self.application_id, kind=kind, data=data,
            guild_id=guild_id, channel=channel, invoker=invoker, member_payload=member, token=token,
        )
        self.interactions[token] = {"payload": payload, "callback": None, "followups": [], "message": None}
        await self._flush_announcements()
        self.interactions[token]["created"] = time.monotonic()
        await self.gateway.dispatch("INTERACTION_CREATE", payload)
        return token

    async def reply_to(self, token: str, timeout: float = 10.0) -> dict[str, Any]:
        """The bot's answer to an interaction: callback body, or the deferred response's edit/follow-up."""
        def done() -> dict[str, Any] | None:
            entry = self.interactions[token]
            callback = entry["callback"]
            if callback is None:
                return None
            if callback["type"] == 5:  # deferred: the real answer comes as an edit or a follow-up
                return entry["edited"] if entry.get("edited") else (entry["followups"] or [None])[0]
            return callback
        return await self.wait_for(done, timeout)

    async def answer_of(self, token: str, timeout: float = 10.0) -> dict[str, Any]:
        """The message the member sees, however it came: the response's data, or the deferred follow-up."""
        reply = await self.reply_to(token, timeout)
        if "type" in reply and "data" in reply:  # an interaction callback (response type 4/7)
            return dict(reply["data"] or {})
        return reply

    def _find_command(self, guild_id: str | None, name: str) -> dict[str, Any]:
        for scope in (guild_id, None):
            for command in self.commands.get(scope, []):
                if command["name"] == name:
                    return command
        raise KeyError(f"command /{name} is not registered (guild {guild_id})")

    # --- interaction endpoints -------------------------------------------------------------
    async def _callback(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        entry = self.interactions.get(token)
        if entry is None:
            return self._error(404, 10062, "Unknown interaction", request)
        elapsed = time.monotonic() - entry["created"]
        if elapsed > self.interaction_deadline:
            entry.setdefault("late", []).append(elapsed)
            return self._error(404, 10062, "Unknown interaction", request)
        if entry["callback"] is not None:
            return self._error(400, 40060, "Interaction has already been acknowledged.", request)
        body = await request.json()
        if body["type"] == 8 and (problems := autocomplete_errors(body)):
            return self.invalid_body(50035, problems, request)
        if body["type"] in (4, 7):
            code, problems = message_errors({"embeds": [], **(body.get("data") or {}), "components": [1]})
            if code:
                return self.invalid_body(code, problems, request)
        entry["callback"] = body
        entry["answered_after"] = elapsed
        kind = body["type"]
        payload = entry["payload"]
        interaction_info = {"id": payload["id"], "type": payload["type"],
                            "response_message_loading": kind == 5,
                            "response_message_ephemeral": bool((body.get("data") or {}).get("flags", 0) & 64)}
        result: dict[str, Any] = {"interaction": interaction_info}
        if kind in (4, 5, 7):
            message = entry["message"] if kind == 7 and entry["message"] else self._interaction_message(
                payload, body.get("data") or {})
            if kind == 7:
                message.update({k: v for k, v in (body.get("data") or {}).items() if k in ("embeds", "components",
                                                                                      "content")})
            entry["message"] = message
            interaction_info["response_message_id"] = message["id"]
            result["resource"] = {"type": kind, "message": message}
        return json_response(result)

    def _interaction_message(self, payload: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        return p.message(p.snowflake(), payload["channel_id"], self.bot_user, body,
                         guild_id=payload.get("guild_id"), webhook_id=self.application_id, interaction_type=20)

    def _webhook_entry(self, request: web.Request) -> dict[str, Any] | None:
        """The interaction behind a follow-up/edit: only once answered, only while its token lives."""
        entry = self.interactions.get(request.match_info["token"])
        if entry is None or entry["callback"] is None:
            return None
        if time.monotonic() - entry["created"] > self.token_lifetime:
            return None
        return entry

    async def _followup(self, request: web.Request) -> web.Response:
        entry = self._webhook_entry(request)
        if entry is None:
            return self._error(404, 10015, "Unknown Webhook", request)
        body = await request.json()
        code, problems = message_errors(body)
        if code:
            return self.invalid_body(code, problems, request)
        entry["followups"].append(body)
        message = self._interaction_message(entry["payload"], body)
        entry.setdefault("followup_messages", []).append(message)
        return json_response(message)

    async def _edit_webhook_message(self, request: web.Request) -> web.Response:
        entry = self._webhook_entry(request)
        if entry is None:
            return self._error(404, 10015, "Unknown Webhook", request)
        body = await request.json()
        code, problems = message_errors({"embeds": [], "components": [1], **body})
        if code == 50035:
            return self.invalid_body(code, problems, request)
        entry["edited"] = body
        message = entry["message"] or self._interaction_message(entry["payload"], body)
        message.update({k: v for k, v in body.items() if k in ("embeds", "components", "content")})
        entry["message"] = message
        return json_response(message)

    async def _get_webhook_message(self, request: web.Request) -> web.Response:
        entry = self.interactions.get(request.match_info["token"])
        if entry is None or entry["message"] is None:
            return self._error(404, 10008, "Unknown Message", request)
        return json_response(entry["message"])
