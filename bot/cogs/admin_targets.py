"""/admin commands for where and how a channel's papers are posted: `target`, `webhook`, `test` (on any
stored paper the admin picks, through the same autocomplete and short keys as /paper).

Mixed into bot.cogs.admin.Admin (the /admin group). Each validates what Discord can tell it (the role
may be mentioned, the bot holds the permissions the target needs), calls a service, replies. The role
check: a role pings only when it is mentionable or the bot has Mention Everyone in the channel; @everyone
itself is never accepted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.autocomplete import paper_ids
from bot.checks import PaperRef, UrlText, require_guild
from bot.errors import Refused
from bot.poster import BotPoster, classify
from bot.replies import answer
from digest.discord.sample import send_sample
from digest.discord.targets import get_target, set_target, validate_avatar_url, validate_webhook_name
from digest.services.paper_lookup import find_paper
from digest.services.subscribers import get_subscriber

if TYPE_CHECKING:
    from bot.client import PaperBot

AnyChannel = discord.TextChannel | discord.ForumChannel


def missing_permissions(interaction: discord.Interaction, channel_id: int, needs: tuple[str, ...]) -> list[str]:
    """Which of `needs` (discord.Permissions attribute names) the bot lacks in a channel (gateway cache)."""
    guild = interaction.guild
    found = guild.get_channel(channel_id) if guild is not None else None
    if guild is None or found is None or guild.me is None:
        return ["view_channel"]
    granted = found.permissions_for(guild.me)
    return [name for name in needs if not getattr(granted, name)]


def refuse_missing(interaction: discord.Interaction, channel: AnyChannel, needs: tuple[str, ...]) -> None:
    missing = missing_permissions(interaction, channel.id, needs)
    if missing:
        names = ", ".join(name.replace("_", " ").title() for name in missing)
        raise Refused(f"I can't do that in {channel.mention}: I need {names} there. Grant it, then try again.")


def check_role(interaction: discord.Interaction, channel: AnyChannel, role: discord.Role) -> None:
    if role.is_default():
        raise Refused("paperbell never mentions @everyone; pick a role.")
    if not role.mentionable and missing_permissions(interaction, channel.id, ("mention_everyone",)):
        raise Refused(f"{role.mention} can't be pinged by me: make it mentionable (Server Settings → Roles), "
                      "or give me Mention Everyone in that channel.")


class AdminPart(commands.Cog):
    """Not a cog on its own: the commands of a subclass join the /admin group of the class it is mixed into."""

    bot: PaperBot

    async def _channel_subscriber_id(self, guild_id: str, channel_id: int) -> int:
        raise NotImplementedError


class TargetCommands(AdminPart):

    @app_commands.command(name="target", description="How a channel's papers are posted: style, role, threads")
    @app_commands.describe(channel="A channel or forum with subscriptions",
                           style="full: embeds · compact: one line per paper · titles: a list of links",
                           role="A role to mention on each post or digest", no_role="Stop mentioning a role",
                           open_thread="Open a discussion thread under each post or digest",
                           thread="Post into this existing thread of the channel instead",
                           no_thread="Post in the channel itself again")
    async def target(self, interaction: discord.Interaction, channel: AnyChannel,
                     style: Literal["full", "compact", "titles"] | None = None, role: discord.Role | None = None,
                     no_role: bool = False, open_thread: bool | None = None,
                     thread: app_commands.AppCommandThread | None = None, no_thread: bool = False) -> None:
        guild_id = require_guild(interaction)
        subscriber_id = await self._channel_subscriber_id(guild_id, channel.id)
        changes: dict[str, object] = {}
        if style is not None:
            changes["style"] = style
        if role is not None:
            check_role(interaction, channel, role)
            changes["role_id"] = str(role.id)
        if no_role:
            changes["role_id"] = None
        if open_thread is not None:
            if open_thread:
                refuse_missing(interaction, channel, ("create_public_threads", "send_messages_in_threads"))
            changes["open_thread"] = open_thread
        if isinstance(channel, discord.ForumChannel):
            changes["kind"] = "forum"
        if thread is not None:
            if thread.parent_id != channel.id:
                raise Refused(f"{thread.mention} is not a thread of {channel.mention}.")
            refuse_missing(interaction, channel, ("send_messages_in_threads",))
            changes.update(kind="thread", thread_id=str(thread.id))
        elif no_thread:
            changes.update(kind="forum" if isinstance(channel, discord.ForumChannel) else "channel", thread_id=None)
        options = await self.bot.run_db(set_target, self.bot.db, subscriber_id, **changes)
        await answer(interaction, f"{channel.mention}: {options.describe()}.")

    @app_commands.command(name="webhook", description="Post a channel's papers under their own name and avatar")
    @app_commands.describe(channel="A channel with subscriptions", username="The name shown on each post",
                           avatar_url="An https:// image shown as the avatar")
    async def webhook(self, interaction: discord.Interaction, channel: discord.TextChannel,
                      username: app_commands.Range[str, 1, 80], avatar_url: UrlText | None = None) -> None:
        guild_id = require_guild(interaction)
        subscriber_id = await self._channel_subscriber_id(guild_id, channel.id)
        # refused here, before Discord sees them
        name, avatar = validate_webhook_name(username), validate_avatar_url(avatar_url)
        refuse_missing(interaction, channel, ("manage_webhooks",))
        try:
            created = await BotPoster(self.bot, self.bot.db).placer.channel_webhook(
                str(channel.id), name, str(self.bot.application_id))
        except discord.HTTPException as error:
            raise Refused(f"Discord refused the webhook: {classify(error)[1]}") from error
        options = await self.bot.run_db(set_target, self.bot.db, subscriber_id, kind="webhook",
                                        webhook_id=str(created["id"]), webhook_token=str(created["token"]),
                                        webhook_name=name, webhook_avatar=avatar)
        await answer(interaction, f"{channel.mention}: {options.describe()}.")

    @app_commands.command(name="test", description="Post one sample paper to a channel's target, as deliveries would")
    @app_commands.describe(channel="A channel or forum with subscriptions",
                           paper="Any stored paper (start typing its id); default the latest")
    @app_commands.autocomplete(paper=paper_ids)
    async def test(self, interaction: discord.Interaction, channel: AnyChannel, paper: PaperRef | None = None) -> None:
        guild_id = require_guild(interaction)
        subscriber_id = await self._channel_subscriber_id(guild_id, channel.id)
        subscriber = await self.bot.run_db(get_subscriber, self.bot.db, subscriber_id)
        options = await self.bot.run_db(get_target, self.bot.db, subscriber_id)
        picked = (await self.bot.run_db(find_paper, self.bot.db, paper)).id if paper else None
        result = await send_sample(self.bot.settings, self.bot.db, BotPoster(self.bot, self.bot.db), subscriber,
                                   picked)
        verdict = "posted" if result.ok else f"**not posted**: {result.detail}"
        await answer(interaction, f"Sample paper to {channel.mention} ({options.describe()}): {verdict}.")
