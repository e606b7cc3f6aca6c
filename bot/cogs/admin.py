"""Admin commands for one server: the /admin group (channel subscriptions, schedules, limits, stats).

Registered with `default_permissions(manage_guild)` and guild-only, and checked again at run time
(bot.checks.is_admin: Manage Server, or the server's admin role), because server owners can change
who sees a command. Every service call is scoped with this guild's id, so admins of one server can
never see or touch another server's subscriptions. Every command defers first (in `interaction_check`,
before the admin lookup), so the initial response always beats Discord's 3 s; work runs on the bot's
pools. `/admin subscribe` checks that the bot can view, post and embed in the channel before saving.
`/admin stats` names each paused channel with the plain reason its refusal was classified with.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.autocomplete import guild_subscriptions, time_zones
from bot.checks import QueryText, TimeText, ZoneText, is_admin, require_guild
from bot.cogs.admin_channel import ChannelAdminCommands
from bot.cogs.admin_targets import AnyChannel, TargetCommands
from bot.errors import Refused
from bot.replies import answer, defer, preview_lines, subscription_line
from bot.views import paginate, send_pages
from digest.discord import guilds
from digest.discord.channel_admin import paused_channels
from digest.discord.targets import get_targets, set_target
from digest.services.errors import InvalidInput, NotFound
from digest.services.preview import preview_query
from digest.services.subscribers import (
    list_subscriptions,
    remove_subscription,
    set_schedule,
    set_subscriber_paused,
    set_subscription_paused,
    subscribe,
    validate_query,
)
from digest.services.trending import TRENDING_QUERY, describe, is_trending
from storage.models import SubscriberKind

if TYPE_CHECKING:
    from bot.client import PaperBot

SUBSCRIPTION = "A subscription of this server (start typing its number or query)"
LISTED_CHANNELS = 20  # /admin limits names at most this many member channels
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


def parse_time(text: str) -> tuple[int, int | None]:
    """'08:00' / '8' / 'monday 08:00' → (hour, weekday or None)."""
    parts = text.lower().split()
    weekday = None
    if len(parts) == 2 and parts[0][:3] in [d[:3] for d in WEEKDAYS]:
        weekday = [d[:3] for d in WEEKDAYS].index(parts[0][:3])
        parts = parts[1:]
    try:
        if len(parts) != 1:
            raise ValueError
        hour = int(datetime.strptime(parts[0], "%H:%M").hour) if ":" in parts[0] else int(parts[0])
    except ValueError:
        raise InvalidInput(f"time must look like 08:00 or 'monday 08:00', got {text!r}") from None
    return hour, weekday


def missing_bot_permissions(interaction: discord.Interaction, channel_id: int) -> list[str]:
    """What the bot lacks in a channel to post digests there (from the gateway's cached overwrites)."""
    guild = interaction.guild
    found = guild.get_channel(channel_id) if guild is not None else None
    if guild is None or found is None or guild.me is None:
        return ["View Channel"]
    permissions = found.permissions_for(guild.me)
    wanted = (("View Channel", permissions.view_channel), ("Send Messages", permissions.send_messages),
              ("Embed Links", permissions.embed_links))
    return [name for name, granted in wanted if not granted]


@app_commands.default_permissions(manage_guild=True)
@app_commands.guild_only()
@app_commands.allowed_contexts(guilds=True, dms=False, private_channels=False)
class Admin(TargetCommands, ChannelAdminCommands, commands.GroupCog, group_name="admin",
            group_description="Server admin commands for paperbell"):
    def __init__(self, bot: PaperBot) -> None:
        self.bot = bot
        super().__init__()

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        guild_id = require_guild(interaction)
        if interaction.type == discord.InteractionType.application_command:
            await defer(interaction)
        limits = await self.bot.run_db(guilds.guild_limits, self.bot.db, self.bot.settings, guild_id)
        if not is_admin(interaction, self.bot.settings, limits):
            raise Refused("Only this server's admins (Manage Server permission or the admin role) can do this.")
        return True

    async def _channel_subscriber_id(self, guild_id: str, channel_id: int) -> int:
        found = await self.bot.run_db(
            guilds.discord_subscriber_or_none, self.bot.db, SubscriberKind.DISCORD_CHANNEL.value, str(channel_id)
        )
        if found is None or found.guild_id != guild_id or found.id is None:
            raise NotFound(f"<#{channel_id}> has no subscriptions yet; use /admin subscribe first")
        return found.id

    @app_commands.command(name="subscribe",
                          description="Post papers matching a query, or the trending ones, to a channel")
    @app_commands.describe(channel="The channel paperbell posts the papers in",
                           query='A query, e.g. "diffusion model" -survey; leave empty for the day\'s trending papers',
                           top="Without a query: trending papers a day (default 10)",
                           style="full: embeds · compact: one line per paper · titles: a list of links")
    async def subscribe(self, interaction: discord.Interaction, channel: AnyChannel, query: QueryText | None = None,
                        style: Literal["full", "compact", "titles"] | None = None,
                        top: app_commands.Range[int, 1, 100] | None = None) -> None:
        db, settings = self.bot.db, self.bot.settings
        guild_id = require_guild(interaction)
        trending = is_trending(query)
        text = TRENDING_QUERY if trending else validate_query(settings, query or "")
        missing = missing_bot_permissions(interaction, channel.id)
        if missing:
            raise Refused(f"I can't post in {channel.mention}: I need {', '.join(missing)} there. "
                          "Grant it, then subscribe again.")
        preview = None if trending else await self.bot.run_heavy(preview_query, db, settings, text, days=7, limit=3)
        subscriber = await self.bot.run_db(guilds.discord_subscriber, db, settings,
                                           SubscriberKind.DISCORD_CHANNEL.value, str(channel.id), guild_id,
                                           channel.name)
        if subscriber.guild_id != guild_id:
            raise NotFound(f"no channel {channel.id} in this server")
        subscription = (await self.bot.run_db(subscribe, db, settings, subscriber.id, text,
                                              guilds.created_by_member(interaction.user.id), backfill_days=0,
                                              top_n=top)).subscription
        changes = {"kind": "forum"} if isinstance(channel, discord.ForumChannel) else {}  # a forum takes posts
        if style is not None:
            changes["style"] = style
        if changes:
            await self.bot.run_db(set_target, db, subscriber.id, **changes)
        if preview is None:
            await answer(interaction, f"Saved **#{subscription.id}** `{describe(text, subscription.max_items)}` → "
                                      f"{channel.mention}, from {subscriber.digest_hour:02d}:00 {subscriber.timezone} "
                                      "each day, ranked by Hugging Face upvotes and readers' 👍.")
        else:
            await answer(interaction, f"Saved **#{subscription.id}** `{text}` → {channel.mention} "
                                      f"({subscriber.schedule}).\n{preview_lines(preview)}")

    @app_commands.command(name="subscriptions", description="Every subscription in this server")
    @app_commands.describe(channel="Only this channel's subscriptions")
    async def subscriptions(self, interaction: discord.Interaction, channel: AnyChannel | None = None) -> None:
        db = self.bot.db
        guild_id = require_guild(interaction)
        rows = await self.bot.run_db(list_subscriptions, db, guild_id=guild_id)
        owners = await self.bot.run_db(guilds.subscribers_by_id, db, sorted({s.subscriber_id for s in rows}))
        if channel is not None:
            rows = [s for s in rows if (o := owners.get(s.subscriber_id)) and o.address == str(channel.id)]
        targets = await self.bot.run_db(get_targets, db, sorted(owners))
        lines = [subscription_line(s, owners.get(s.subscriber_id)) + (
                     f" · {targets[s.subscriber_id].describe()}" if s.subscriber_id in targets
                     and owners[s.subscriber_id].kind == SubscriberKind.DISCORD_CHANNEL else "")
                 for s in rows]
        await send_pages(interaction, paginate(lines, f"Subscriptions in this server ({len(lines)})"))

    @app_commands.describe(subscription=SUBSCRIPTION)
    @app_commands.autocomplete(subscription=guild_subscriptions)
    @app_commands.command(name="remove", description="Delete a subscription of this server")
    async def remove(self, interaction: discord.Interaction, subscription: int) -> None:
        removed = await self.bot.run_db(remove_subscription, self.bot.db, subscription,
                                        guild_id=require_guild(interaction))
        await answer(interaction, f"Removed **#{removed.id}** `{removed.query}`.")

    @app_commands.describe(subscription=SUBSCRIPTION)
    @app_commands.autocomplete(subscription=guild_subscriptions)
    @app_commands.command(name="pause", description="Pause a subscription of this server")
    async def pause(self, interaction: discord.Interaction, subscription: int) -> None:
        changed = await self.bot.run_db(set_subscription_paused, self.bot.db, subscription, True,
                                        guild_id=require_guild(interaction))
        await answer(interaction, f"Paused **#{changed.id}** `{changed.query}`.")

    @app_commands.describe(subscription=SUBSCRIPTION)
    @app_commands.autocomplete(subscription=guild_subscriptions)
    @app_commands.command(name="resume", description="Resume a subscription (and its channel's deliveries)")
    async def resume(self, interaction: discord.Interaction, subscription: int) -> None:
        db, guild_id = self.bot.db, require_guild(interaction)
        changed = await self.bot.run_db(set_subscription_paused, db, subscription, False, guild_id=guild_id)
        owners = await self.bot.run_db(guilds.subscribers_by_id, db, [changed.subscriber_id])
        owner = owners.get(changed.subscriber_id)
        note = ""
        if owner is not None and owner.paused and owner.kind == SubscriberKind.DISCORD_CHANNEL:
            # the channel was paused after a refusal; the admin says it is fixed
            await self.bot.run_db(set_subscriber_paused, db, owner.id, False)
            note = f" Deliveries to <#{owner.address}> restarted (were paused: {owner.pause_reason})."
        await answer(interaction, f"Resumed **#{changed.id}** `{changed.query}`.{note}")

    @app_commands.command(name="schedule", description="Post each paper as it arrives, or one digest per period")
    @app_commands.describe(channel="A channel with subscriptions", mode="instant: each paper as it arrives; "
                           "daily/weekly: one digest", time="08:00, or 'monday 08:00' for weekly",
                           timezone="IANA time zone, e.g. Europe/Berlin (start typing)")
    @app_commands.autocomplete(timezone=time_zones)
    async def schedule(
        self, interaction: discord.Interaction, channel: AnyChannel,
        mode: Literal["instant", "daily", "weekly"], time: TimeText | None = None, timezone: ZoneText | None = None,
    ) -> None:
        db, guild_id = self.bot.db, require_guild(interaction)
        subscriber_id = await self._channel_subscriber_id(guild_id, channel.id)
        hour, weekday = parse_time(time) if time else (None, None)
        changed = await self.bot.run_db(set_schedule, db, subscriber_id, schedule=mode, hour=hour, weekday=weekday,
                               timezone=timezone)
        when = "as each paper arrives" if mode == "instant" else (
            f"{'every ' + WEEKDAYS[changed.digest_weekday].title() if mode == 'weekly' else 'daily'} at "
            f"{changed.digest_hour:02d}:00 {changed.timezone}")
        await answer(interaction, f"{channel.mention} now gets papers {when}.")

    @app_commands.command(name="limits", description="Show or set this server's limits and settings")
    @app_commands.describe(
        per_member="subscriptions each member may have", per_minute="queries each member may run per minute",
        admin_role="role that may run /admin", notify_channel="where paperbell reports problems",
        here_channel="a channel members may subscribe with deliver:here", here_allowed="allow (default) or forbid it",
    )
    async def limits(
        self, interaction: discord.Interaction,
        per_member: app_commands.Range[int, 1, 500] | None = None,
        per_minute: app_commands.Range[int, 1, 120] | None = None,
        admin_role: discord.Role | None = None,
        notify_channel: discord.TextChannel | None = None,
        here_channel: discord.TextChannel | None = None,
        here_allowed: bool = True,
    ) -> None:
        db, settings, guild_id = self.bot.db, self.bot.settings, require_guild(interaction)
        await self.bot.run_db(
            guilds.update_guild_settings, db, guild_id, max_subscriptions_per_member=per_member,
            queries_per_minute=per_minute, admin_role_id=str(admin_role.id) if admin_role else None,
            notify_channel_id=str(notify_channel.id) if notify_channel else None,
            member_channel=(str(here_channel.id), here_allowed) if here_channel else None,
        )
        limits = await self.bot.run_db(guilds.guild_limits, db, settings, guild_id)
        channels = limits.member_channels
        here = ", ".join(f"<#{c}>" for c in channels[:LISTED_CHANNELS]) or "none (DM only)"
        if len(channels) > LISTED_CHANNELS:
            here += f" and {len(channels) - LISTED_CHANNELS} more"
        role = f"<@&{limits.admin_role_id}>" if limits.admin_role_id else "none"
        notify = f"<#{limits.notify_channel_id}>" if limits.notify_channel_id else "system channel"
        await answer(interaction,
            f"Subscriptions per member: **{limits.max_subscriptions_per_member}** · queries per minute: "
            f"**{limits.queries_per_minute}**\nAdmin role: {role} · problems reported to: {notify}"
            f"\nMembers may use `deliver:here` in: {here}",
        )

    @app_commands.command(name="stats", description="Papers today, deliveries, and each source's last status")
    async def stats(self, interaction: discord.Interaction) -> None:
        stats = await self.bot.run_db(guilds.guild_stats, self.bot.db, require_guild(interaction), self.bot.clock())
        deliveries = ", ".join(f"{k}: {v}" for k, v in sorted(stats.deliveries.items())) or "none yet"
        lines = [
            f"Papers ingested in the last 24 h: **{stats.papers_today}** (stored: {stats.papers_total})",
            f"This server: {stats.subscribers} subscribers, {stats.subscriptions} subscriptions",
            f"Deliveries: {deliveries}",
            "Sources:",
        ]
        for source, status, at, error in stats.sources:
            when = discord.utils.format_dt(at, "R") if at else "never"
            lines.append(f"• `{source}`: {status or '—'} ({when}){' — ' + error[:100] if error else ''}")
        if not stats.sources:
            lines.append("• none has run yet")
        if stats.last_failure:
            lines.insert(3, f"Last failed delivery: {stats.last_failure[:300]}")
        paused = await self.bot.run_db(paused_channels, self.bot.db, require_guild(interaction))
        lines[3:3] = [f"Paused: <#{address}>: {reason[:200]} (fix it, then `/admin resume`)"
                      for address, reason in paused]
        await answer(interaction, "\n".join(lines))


async def setup(bot: PaperBot) -> None:
    await bot.add_cog(Admin(bot))
