"""The live bot's `Poster` for digest.services.discord_delivery: posts embed messages to channels and DMs.

Built by the runtime (and tests/bench) around a started `PaperBot`. Rate limits are left to discord.py's
own limiter (it reads Discord's X-RateLimit-* headers and waits before a bucket runs dry, and honours
`retry_after` on a 429). Discord's permanent refusals become `DeliveryRefused` with a reason a person
can act on; the pause is then reported to the guild's notify channel, its system channel or its owner.
"""

from __future__ import annotations

import logging
from typing import Any

import discord

from bot.embeds import render_text
from bot.feedback import vote_view
from digest.services.discord_delivery import DeliveryRefused
from digest.services.guilds import get_guild_settings
from storage.models import Subscriber, SubscriberKind

log = logging.getLogger(__name__)

# Discord JSON error codes (API docs, "JSON Error Codes") that no retry will fix.
REFUSALS = {
    10003: "the channel was deleted",
    10013: "the user no longer exists",
    50001: "the bot has no access to the channel",
    50007: "the member's DMs are closed to the bot",
    50013: "the bot lacks the Send Messages / Embed Links permission there",
    50278: "the member's DMs are closed to the bot",
}


def refusal_reason(error: discord.HTTPException) -> str | None:
    """Why a failed request will never succeed, or None when retrying later may help."""
    if error.code in REFUSALS:
        return REFUSALS[error.code]
    if isinstance(error, discord.Forbidden):
        return f"Discord refused (403 {error.code}: {error.text})"
    if isinstance(error, discord.NotFound):
        return f"Discord could not find the target (404 {error.code}: {error.text})"
    return None


def to_discord(message: dict[str, Any]) -> dict[str, Any]:
    """A rendered message dict → keyword arguments of `Messageable.send`."""
    sent = {
        "content": message.get("content"),
        "embeds": [discord.Embed.from_dict(e) for e in message.get("embeds", [])],
        "allowed_mentions": discord.AllowedMentions.none(),
    }
    view = vote_view(message.get("components"))  # 👍/👎 buttons (issue 16)
    if view is not None:
        sent["view"] = view
    return sent


class BotPoster:
    def __init__(self, bot: discord.Client, db: Any = None) -> None:
        self.bot = bot
        self.db = db

    async def _target(self, kind: str, address: str) -> discord.abc.Messageable:
        if kind == SubscriberKind.DISCORD_CHANNEL:
            # A partial messageable posts by id: no cache lookup, no extra GET per message.
            return self.bot.get_partial_messageable(int(address))
        return await self.bot.create_dm(discord.Object(id=int(address)))

    async def post(self, kind: str, address: str, message: dict[str, Any], *, nonce: str) -> str:
        try:
            target = await self._target(kind, address)
            # discord.py sends `enforce_nonce` with a nonce: a repeat within minutes returns the first message
            sent = await target.send(**to_discord(message), nonce=nonce)
        except discord.HTTPException as error:
            reason = refusal_reason(error)
            if reason is None:
                raise
            raise DeliveryRefused(reason) from error
        return str(sent.id)

    async def notify_paused(self, subscriber: Subscriber, reason: str) -> None:
        """Channels: tell the guild's admins; members: their DMs are what failed, so the pause reason is
        shown to them by their next command (/subscriptions, /resume) instead."""
        if subscriber.kind != SubscriberKind.DISCORD_CHANNEL or not subscriber.guild_id:
            return
        text = render_text("pause_notice.md.j2", target=f"<#{subscriber.address}>", reason=reason,
                           kind=subscriber.kind)
        settings = await self.db.run(get_guild_settings, self.db, subscriber.guild_id) if self.db else None
        guild = self.bot.get_guild(int(subscriber.guild_id))
        candidates: list[discord.abc.Messageable] = []
        if settings is not None and settings.notify_channel_id and settings.notify_channel_id != subscriber.address:
            candidates.append(self.bot.get_partial_messageable(int(settings.notify_channel_id)))
        if guild is not None and guild.system_channel and str(guild.system_channel.id) != subscriber.address:
            candidates.append(guild.system_channel)
        if guild is not None and guild.owner_id:
            candidates.append(await self.bot.create_dm(discord.Object(id=guild.owner_id)))
        for target in candidates:
            try:
                await target.send(text, allowed_mentions=discord.AllowedMentions.none())
                return
            except discord.HTTPException as error:
                log.info("discord: pause notice not delivered to %s: %s", target, error)
