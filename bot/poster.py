"""The live bot's `Poster` for digest.discord.delivery: posts embed messages to channels and DMs.

Built by the runtime (and tests/bench) around a started `PaperBot`. Pacing, in layers:
  - a process-wide leaky bucket (`discord_global_rate` requests/s, below Discord's global 50/s) in front
    of every request this poster makes, so a burst over many channels never draws a global 429;
  - discord.py's own per-route limiter (it reads X-RateLimit-* headers and honours `retry_after`), with
    the client's `max_ratelimit_timeout` as a ceiling: a longer wait raises instead of holding the claim;
  - an invalid-request budget: 401/403/429 answers are counted over Discord's 10-minute window and the
    poster stops sending (transiently) long before Discord's 10,000 ban threshold.
Discord's answers are classified (`classify`): cannot-send → DeliveryRefused (pause the subscriber),
message refused for good → MessageRejected (quarantine its papers), anything else → transient; a
transient answer that says how long to wait (a `retry_after` over the ceiling, a channel's slowmode)
makes the delivery back off at least that long (`RetryLater`, discord.RateLimited).
"""

from __future__ import annotations

import logging
import time
from collections import deque
from typing import Any

import discord
from aiolimiter import AsyncLimiter

from digest.discord import dm_channels
from digest.discord.delivery import DeliveryRefused, MessageRejected, TransientBackoff
from digest.discord.guilds import get_guild_settings
from digest.discord.placement import Placement
from digest.discord.placer import Placer
from digest.discord.render import clip_message, render_text
from storage.models import Subscriber, SubscriberKind

log = logging.getLogger(__name__)

# Discord JSON error codes (API docs, "JSON Error Codes") meaning nothing can be sent to this target.
CANNOT_SEND = {
    10003: "the channel was deleted",  # a forum or thread too: Discord calls them channels
    10015: "the webhook was deleted",
    40067: "the forum requires a tag and none of its tags is named like a category or query",
    50008: "the channel cannot hold messages (a forum takes posts: set its target to forum)",
    40058: "the channel is a forum, which takes posts, not messages: set its target to forum",
    50024: "the channel is not a forum",
    40066: "the forum's tags can only be set by moderators: give the bot Manage Threads or unmoderate a tag",
    160005: "the thread is locked: unlock it or give the bot Manage Threads",
    160006: "the server has reached Discord's limit of active threads: archive some or pick another target",
    50083: "the thread is archived",
    10013: "the user no longer exists",
    50001: "the bot has no access to the channel",
    50007: "the member's DMs are closed to the bot",
    50013: "the bot lacks the Send Messages / Embed Links permission there",
    50033: "the member is not a valid DM recipient",
    50278: "the member's DMs are closed to the bot",
}
# Refusals of one message (kept out of the cannot-send class: the next message may pass), in plain words.
REJECTED = {
    50035: "Discord found the message malformed",
    50006: "the message was empty",
    30007: "the channel has Discord's maximum of 15 webhooks: delete one (Channel Settings → Integrations)",
    10008: "the message it belongs to was deleted",
    160004: "that message already has a thread",
}
SLOWMODE = 20016
UNKNOWN_CHANNEL = 10003
INVALID_WINDOW_S = 600.0  # Discord counts 401/403/429 answers per 10 minutes (ban at 10,000)


class RetryLater(Exception):
    """A transient refusal that says how long to wait (`retry_after` s): the delivery backs off at least that."""

    def __init__(self, reason: str, retry_after: float) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


def classify(error: discord.HTTPException) -> tuple[str, str]:
    """('pause' | 'reject' | 'retry', reason) for one failed request."""
    if error.code in CANNOT_SEND:
        return "pause", CANNOT_SEND[error.code]
    if error.code in REJECTED:
        return "reject", f"{REJECTED[error.code]} ({error.status} {error.code}: {error.text})"[:300]
    if isinstance(error, discord.Forbidden):
        return "pause", f"Discord refused (403 {error.code}: {error.text})"
    if isinstance(error, discord.NotFound):
        return "pause", f"Discord could not find the target (404 {error.code}: {error.text})"
    if error.code == SLOWMODE:  # the channel's slowmode: wait, as for a rate limit
        return "retry", f"the channel's slowmode: waiting it out ({error.status} {error.code})"
    if error.status == 401:  # every request fails alike: wait for the operator, pause no one
        return "retry", "Discord refused the bot token (401): check PAPERBELL_DISCORD_TOKEN"
    if 400 <= error.status < 500 and error.status != 429:  # 400 50035 invalid form body, 413 too large, …
        return "reject", f"Discord refused this message ({error.status} {error.code}: {error.text})"[:300]
    return "retry", f"{error.status} {error.code}: {error.text}"[:300]


class InvalidRequestBudget:
    """Counts 401/403/429 answers over Discord's window; `spent()` well before the ban threshold."""

    def __init__(self, limit: int, window: float = INVALID_WINDOW_S) -> None:
        self.limit, self.window = limit, window
        self._at: deque[float] = deque()

    def count(self) -> None:
        self._at.append(time.monotonic())

    def spent(self) -> bool:
        horizon = time.monotonic() - self.window
        while self._at and self._at[0] < horizon:
            self._at.popleft()
        return len(self._at) >= self.limit


class BotPoster:
    def __init__(self, bot: discord.Client, db: Any = None, *, rate: float | None = None,
                 invalid_limit: int | None = None) -> None:
        self.bot = bot
        self.db = db
        settings = getattr(bot, "settings", None)
        rate = rate or (settings.discord_global_rate if settings else 40.0)
        # time_period 1/rate with max_rate 1 is a strict spacing: no burst can exceed the global limit
        self.pacer = AsyncLimiter(1, 1.0 / rate)
        self.invalid = InvalidRequestBudget(invalid_limit or (settings.discord_invalid_request_budget
                                                              if settings else 1000))
        self.backoff = TransientBackoff()
        self.placer = Placer(bot.http, self.pacer)

    async def _target(self, kind: str, address: str) -> tuple[discord.PartialMessageable | discord.DMChannel, bool]:
        """Where to post, and whether it is a remembered DM channel (which may have gone since)."""
        if kind == SubscriberKind.DISCORD_CHANNEL:
            # A partial messageable posts by id: no cache lookup, no extra GET per message.
            return self.bot.get_partial_messageable(int(address)), False
        return await self._dm(address)

    async def _dm(self, user_id: str) -> tuple[discord.PartialMessageable | discord.DMChannel, bool]:
        """The member's DM channel: the remembered one (no request), else opened once and remembered."""
        if self.db is not None:
            channel_id = await self.db.run(dm_channels.stored, self.db, user_id)
            if channel_id is not None:
                return self.bot.get_partial_messageable(int(channel_id), type=discord.ChannelType.private), True
        user = self.bot.get_user(int(user_id))
        channel = user.dm_channel if user is not None else None
        if channel is None:
            async with self.pacer:
                channel = await self.bot.create_dm(discord.Object(id=int(user_id)))
        if self.db is not None:
            await self.db.run(dm_channels.remember, self.db, user_id, str(channel.id))
        return channel, False

    async def _send(self, kind: str, address: str, message: dict[str, Any], nonce: str) -> str:
        """Post as JSON through discord.py's HTTP client (its route limiter and 429 handling), as the placer
        does: no Embed, View or Message object per message. Mentions are off whatever the message says."""
        message = {**message, "allowed_mentions": {"parse": []}}
        target, remembered = await self._target(kind, address)
        try:
            # `enforce_nonce` with the part's nonce: a repeat within minutes returns the first message
            return await self.placer.message(str(target.id), message, nonce)
        except discord.NotFound as gone:
            if not remembered or gone.code != UNKNOWN_CHANNEL or self.db is None:
                raise
        # the remembered DM channel is gone: forget it and open the member's DM again, once
        await self.db.run(dm_channels.forget, self.db, address)
        target, _ = await self._target(kind, address)
        return await self.placer.message(str(target.id), message, nonce)

    async def post(self, kind: str, address: str, message: dict[str, Any], *, nonce: str,
                   placement: Placement | None = None) -> str:
        if self.invalid.spent():
            raise RuntimeError("invalid-request budget for this 10-minute window is spent; sending later")
        try:
            if placement is not None:  # forum / thread / webhook / opened thread (digest.discord.placer)
                return await self.placer.place(placement, message, nonce)
            return await self._send(kind, address, message, nonce)
        except discord.RateLimited as limited:  # longer than discord_max_ratelimit_wait; its retry_after is waited
            self.invalid.count()
            slowmode = self._slowmode_of(address)
            if not slowmode:
                raise
            reason = f"waiting {limited.retry_after:.0f} s for the channel's slowmode ({slowmode} s between messages)"
            raise RetryLater(reason, limited.retry_after) from limited
        except discord.HTTPException as error:
            if error.status in (401, 403, 429):
                self.invalid.count()
            verdict, reason = classify(error)
            if verdict == "pause":
                raise DeliveryRefused(reason) from error
            if verdict == "reject":
                raise MessageRejected(reason) from error
            if error.code == SLOWMODE:
                raise RetryLater(reason, float(self._slowmode_of(address) or 0)) from error
            raise

    def _slowmode_of(self, address: str) -> int:
        """The channel's slowmode interval (s) from the gateway cache; 0 when unknown or none."""
        channel = self.bot.get_channel(int(address)) if address.isdigit() else None
        return int(getattr(channel, "slowmode_delay", 0) or 0)

    async def notify_paused(self, subscriber: Subscriber, reason: str) -> None:
        """Channels: tell the guild's admins; members: their DMs are what failed, so the pause reason is
        shown to them by their next command (/subscriptions, /resume) instead."""
        if subscriber.kind != SubscriberKind.DISCORD_CHANNEL or not subscriber.guild_id:
            return
        text = clip_message({"content": render_text("pause_notice.md.j2", target=f"<#{subscriber.address}>",
                                                     reason=reason, kind=subscriber.kind)})["content"]
        settings = await self.db.run(get_guild_settings, self.db, subscriber.guild_id) if self.db else None
        guild = self.bot.get_guild(int(subscriber.guild_id))
        candidates: list[discord.abc.Messageable] = []
        if settings is not None and settings.notify_channel_id and settings.notify_channel_id != subscriber.address:
            candidates.append(self.bot.get_partial_messageable(int(settings.notify_channel_id)))
        if guild is not None and guild.system_channel and str(guild.system_channel.id) != subscriber.address:
            candidates.append(guild.system_channel)
        if guild is not None and guild.owner_id:
            candidates.append((await self._dm(str(guild.owner_id)))[0])
        for target in candidates:
            try:
                async with self.pacer:
                    await target.send(text, allowed_mentions=discord.AllowedMentions.none())
                return
            except discord.HTTPException as error:
                log.info("discord: pause notice not delivered to %s: %s", target, error)
