"""Builders of Discord API objects (users, members, guilds, channels, messages, interactions) for the double.

Shaped after Discord's documented payloads (developer docs, API v10) closely enough that discord.py's
own parsers accept them unmodified. Used by `tests/bot/discord_double/server.py` and the tests.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

# Real snowflakes: milliseconds since the Discord epoch << 22 | a counter (discord.py reads
# `created_at` from them, e.g. for cooldowns), so ours are built the same way and strictly increase.
DISCORD_EPOCH_MS = 1_420_070_400_000
_last_snowflake = [0]

MANAGE_GUILD = 1 << 5
ADMINISTRATOR = 1 << 3
SEND_MESSAGES = 1 << 11
VIEW_CHANNEL = 1 << 10
EMBED_LINKS = 1 << 14
MENTION_EVERYONE = 1 << 17
MANAGE_WEBHOOKS = 1 << 29
CREATE_PUBLIC_THREADS = 1 << 35
SEND_MESSAGES_IN_THREADS = 1 << 38
MEMBER_PERMISSIONS = VIEW_CHANNEL | SEND_MESSAGES | (1 << 31)  # + use application commands
# what an invite with the bot's requested scopes grants its managed role
BOT_PERMISSIONS = (VIEW_CHANNEL | SEND_MESSAGES | EMBED_LINKS | (1 << 16)  # + read message history
                   | CREATE_PUBLIC_THREADS | SEND_MESSAGES_IN_THREADS)


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """JSON exactly as Discord labels it: discord.py only parses `Content-Type: application/json` (no charset)."""
    return web.Response(body=json.dumps(data).encode(), status=status,
                        headers={**(headers or {}), "Content-Type": "application/json"})


def snowflake() -> str:
    stamped = (int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22
    _last_snowflake[0] = max(stamped, _last_snowflake[0] + 1)
    return str(_last_snowflake[0])


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


def user(user_id: str, name: str, *, bot: bool = False) -> dict[str, Any]:
    return {
        "id": user_id,
        "username": name,
        "global_name": name,
        "discriminator": "0",
        "avatar": None,
        "bot": bot,
        "system": False,
        "public_flags": 0,
    }


def member(user_payload: dict[str, Any], roles: list[str], permissions: int | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "user": user_payload,
        "nick": None,
        "roles": roles,
        "joined_at": now_iso(),
        "deaf": False,
        "mute": False,
        "flags": 0,
        "pending": False,
    }
    if permissions is not None:  # only present in interaction payloads
        data["permissions"] = str(permissions)
    return data


def role(role_id: str, name: str, permissions: int, position: int = 0) -> dict[str, Any]:
    return {
        "id": role_id,
        "name": name,
        "permissions": str(permissions),
        "position": position,
        "color": 0,
        "hoist": False,
        "managed": False,
        "mentionable": False,
        "flags": 0,
    }


def text_channel(channel_id: str, name: str, guild_id: str, position: int = 0) -> dict[str, Any]:
    return {
        "id": channel_id,
        "type": 0,
        "guild_id": guild_id,
        "name": name,
        "position": position,
        "permission_overwrites": [],
        "nsfw": False,
        "topic": None,
        "parent_id": None,
        "last_message_id": None,
        "rate_limit_per_user": 0,
    }


def dm_channel(channel_id: str, recipient: dict[str, Any]) -> dict[str, Any]:
    return {"id": channel_id, "type": 1, "last_message_id": None, "recipients": [recipient]}


def guild(
    guild_id: str,
    name: str,
    owner_id: str,
    roles: list[dict[str, Any]],
    channels: list[dict[str, Any]],
    members: list[dict[str, Any]],
) -> dict[str, Any]:
    return {
        "id": guild_id,
        "name": name,
        "icon": None,
        "splash": None,
        "discovery_splash": None,
        "owner_id": owner_id,
        "afk_channel_id": None,
        "afk_timeout": 300,
        "verification_level": 0,
        "default_message_notifications": 0,
        "explicit_content_filter": 0,
        "roles": roles,
        "emojis": [],
        "stickers": [],
        "features": [],
        "mfa_level": 0,
        "application_id": None,
        "system_channel_id": None,
        "system_channel_flags": 0,
        "rules_channel_id": None,
        "vanity_url_code": None,
        "description": None,
        "banner": None,
        "premium_tier": 0,
        "preferred_locale": "en-US",
        "public_updates_channel_id": None,
        "nsfw_level": 0,
        "premium_progress_bar_enabled": False,
        # GUILD_CREATE extras
        "joined_at": now_iso(),
        "large": False,
        "unavailable": False,
        "member_count": len(members),
        "voice_states": [],
        "members": members,
        "channels": [{k: v for k, v in c.items() if k != "guild_id"} for c in channels],
        "threads": [],
        "presences": [],
        "stage_instances": [],
        "guild_scheduled_events": [],
        "soundboard_sounds": [],
    }


def message(
    message_id: str,
    channel_id: str,
    author: dict[str, Any],
    body: dict[str, Any],
    *,
    guild_id: str | None = None,
    webhook_id: str | None = None,
    interaction_type: int = 0,
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": message_id,
        "channel_id": channel_id,
        "author": author,
        "content": body.get("content") or "",
        "timestamp": now_iso(),
        "edited_timestamp": None,
        "tts": False,
        "mention_everyone": False,
        "mentions": [],
        "mention_roles": [],
        "attachments": [],
        "embeds": body.get("embeds") or [],
        "components": body.get("components") or [],
        "pinned": False,
        "type": interaction_type,
        "flags": int(body.get("flags") or 0),
    }
    if guild_id:
        data["guild_id"] = guild_id
    if webhook_id:
        data["webhook_id"] = webhook_id
    return data


def interaction(
    *,
    interaction_id: str,
    application_id: str,
    kind: int,
    data: dict[str, Any],
    guild_id: str | None,
    channel: dict[str, Any],
    invoker: dict[str, Any],
    member_payload: dict[str, Any] | None,
    token: str,
    message_payload: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An INTERACTION_CREATE payload; `member` in guilds, `user` in DMs, as Discord sends them."""
    payload: dict[str, Any] = {
        "id": interaction_id,
        "application_id": application_id,
        "type": kind,
        "data": data,
        "channel_id": channel["id"],
        "channel": channel,
        "token": token,
        "version": 1,
        "locale": "en-US",
        "app_permissions": str(MEMBER_PERMISSIONS | (1 << 14)),
        "entitlements": [],
        "authorizing_integration_owners": {"0": guild_id} if guild_id else {"1": invoker["id"]},
        "context": 0 if guild_id else 1,
        "attachment_size_limit": 10 * 1024 * 1024,
    }
    if guild_id:
        payload["guild_id"] = guild_id
        payload["guild_locale"] = "en-US"
        payload["guild"] = {"id": guild_id, "locale": "en-US", "features": []}
        payload["member"] = member_payload
    else:
        payload["user"] = invoker
    if message_payload is not None:
        payload["message"] = message_payload
    return payload
