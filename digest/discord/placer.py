"""Posting one rendered message where a channel subscriber's target says, over discord.py's HTTP
client (its per-route rate limiter and 429 handling apply to every request here, as to `send`).

  - forum: "Start Thread in Forum or Media Channel" — a post named after the paper (or "Papers for …")
    whose starter message is the rendered message, tagged with the forum's tags named like a category
    or query; the post's id is its starter message's id;
  - thread: a message inside an existing thread (or one a digest's first part started);
  - webhook: "Execute Webhook" with `wait=true` (so the message id comes back) and the subscription's
    own username/avatar; paperbell creates its webhooks with the bot, so they are application-owned and
    may carry the vote buttons; `with_components=true` asks Discord to respect the `components` field
    (discord-api-docs, "Execute Webhook": without it the field may be ignored);
  - open_thread: after the message, "Start Thread from Message" under it; 160004 (already has a thread,
    i.e. this is a retry) counts as done, and a permanent refusal only loses the thread, not the post.
Channel and thread messages carry the part's nonce with `enforce_nonce`; Discord has no nonce for forum
posts or webhook executions, so a lost reply there can repeat that one post on retry (the bound).
"""

from __future__ import annotations

import logging
import time
from typing import Any

import discord
from aiolimiter import AsyncLimiter
from discord.http import Route

from digest.discord.placement import Placement
from digest.discord.render import clip_message
from digest.discord.styles import forum_tags

log = logging.getLogger(__name__)
TAGS_TTL_S = 300.0  # forum tags change rarely; re-read them at most every five minutes per forum
THREAD_EXISTS = 160004
# Forum posts stay in the list for a week without activity (one of Discord's 60/1440/4320/10080): a
# reading group discusses a paper over days, and Discord otherwise applies the forum's default.
FORUM_ARCHIVE_MINUTES = 10080


def body_of(message: dict[str, Any]) -> dict[str, Any]:
    """The JSON body Discord takes for a message, clipped last; mentions default to none at all.

    Components are passed on as rendered (`digest.discord.components.with_vote_buttons` decided them).
    """
    message = clip_message(message)
    body: dict[str, Any] = {"allowed_mentions": message.get("allowed_mentions") or {"parse": []}}
    for key in ("content", "embeds", "components"):
        if message.get(key):
            body[key] = message[key]
    return body


class Placer:
    """Sends to forums, threads and webhooks for `bot.poster.BotPoster` (which classifies the errors)."""

    def __init__(self, http: discord.http.HTTPClient, pacer: AsyncLimiter) -> None:
        self.http, self.pacer = http, pacer
        self._tags: dict[str, tuple[float, list[dict[str, Any]]]] = {}

    async def _request(self, route: Route, **kwargs: Any) -> Any:
        async with self.pacer:  # every request, not every placement: a forum post with tags costs two
            return await self.http.request(route, **kwargs)

    async def _available_tags(self, forum_id: str) -> list[dict[str, Any]]:
        cached = self._tags.get(forum_id)
        if cached is None or time.monotonic() - cached[0] > TAGS_TTL_S:
            channel = await self._request(Route("GET", "/channels/{channel_id}", channel_id=int(forum_id)))
            cached = (time.monotonic(), list(channel.get("available_tags") or []))
            self._tags[forum_id] = cached
        return cached[1]

    async def forum_post(self, placement: Placement, message: dict[str, Any]) -> str:
        tags = forum_tags(await self._available_tags(placement.channel_id), placement.tag_names) \
            if placement.tag_names else []
        payload = {"name": placement.title, "message": body_of(message), "applied_tags": tags,
                   "auto_archive_duration": FORUM_ARCHIVE_MINUTES}
        route = Route("POST", "/channels/{channel_id}/threads", channel_id=int(placement.channel_id))
        thread = await self._request(route, json=payload)
        return str(thread["id"])  # == the starter message's id

    async def message(self, channel_id: str, message: dict[str, Any], nonce: str) -> str:
        payload = {**body_of(message), "nonce": nonce, "enforce_nonce": True}
        route = Route("POST", "/channels/{channel_id}/messages", channel_id=int(channel_id))
        return str((await self._request(route, json=payload))["id"])

    async def webhook(self, placement: Placement, message: dict[str, Any]) -> str:
        payload = body_of(message)
        if placement.username:
            payload["username"] = placement.username
        if placement.avatar_url:
            payload["avatar_url"] = placement.avatar_url
        params = {"wait": "true"}
        if payload.get("components"):
            params["with_components"] = "true"
        if placement.thread_id:
            params["thread_id"] = placement.thread_id
        route = Route("POST", "/webhooks/{webhook_id}/{webhook_token}", webhook_id=placement.webhook_id,
                      webhook_token=placement.webhook_token)
        return str((await self._request(route, json=payload, params=params))["id"])

    async def open_thread(self, channel_id: str, message_id: str, name: str) -> None:
        route = Route("POST", "/channels/{channel_id}/messages/{message_id}/threads", channel_id=int(channel_id),
                      message_id=int(message_id))
        try:
            await self._request(route, json={"name": name, "auto_archive_duration": 1440})
        except discord.HTTPException as error:
            if error.code == THREAD_EXISTS:  # a retry of a post whose thread was already opened
                return
            if 400 <= error.status < 500 and error.status != 429:
                # The papers are posted; only their discussion thread is missing (a permission taken away
                # since /admin target checked it). Failing the part would re-post them after the nonce window.
                log.warning("discord: no thread opened under %s in %s: %s", message_id, channel_id, error)
                return
            raise

    async def place(self, placement: Placement, message: dict[str, Any], nonce: str) -> str:
        """Post as `placement` says; return the message id (= the id of a thread it started)."""
        if placement.kind == "forum" and placement.thread_id is None:
            return await self.forum_post(placement, message)
        if placement.kind == "webhook":
            message_id = await self.webhook(placement, message)
        else:
            message_id = await self.message(placement.thread_id or placement.channel_id, message, nonce)
        if placement.open_thread and placement.thread_id is None:
            await self.open_thread(placement.channel_id, message_id, placement.title)
        return message_id

    async def channel_webhook(self, channel_id: str, name: str, application_id: str) -> dict[str, Any]:
        """paperbell's webhook in a channel (needs Manage Webhooks): the one it made before, else a new one.

        Discord allows 15 webhooks per channel (30007 past that), so a repeated `/admin webhook` reuses
        the webhook this application created; the name and avatar are sent with every post anyway.
        """
        listing = Route("GET", "/channels/{channel_id}/webhooks", channel_id=int(channel_id))
        for webhook in await self._request(listing):
            if str(webhook.get("application_id")) == application_id and webhook.get("token"):
                return dict(webhook)
        route = Route("POST", "/channels/{channel_id}/webhooks", channel_id=int(channel_id))
        return dict(await self._request(route, json={"name": name}))
