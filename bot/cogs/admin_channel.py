"""/admin commands for a channel's look and record: `template`, `cap`, `log`, `copy`.

Mixed into bot.cogs.admin.Admin (the /admin group), like bot.cogs.admin_targets. What an admin types
is checked by the services (digest.discord.targets for the template, colour and cap: one-line reasons;
digest.discord.channel_admin for the log and copies, scoped to this server). Replies are ephemeral;
the log is paged within Discord's embed limits.
"""

from __future__ import annotations

import re

import discord
from discord import app_commands

from bot.checks import require_guild
from bot.cogs.admin_targets import AdminPart, AnyChannel
from bot.errors import Refused
from bot.replies import answer
from bot.views import paginate, send_pages
from digest.discord.channel_admin import COPY_TARGETS_MAX, LogEntry, copy_channel_settings, delivery_log
from digest.discord.message_template import PLACEHOLDERS, TEMPLATE_MAX
from digest.discord.render import clip, escape_markdown
from digest.discord.targets import DAILY_CAP_MAX, set_target

TemplateText = app_commands.Range[str, 1, TEMPLATE_MAX]
ColorText = app_commands.Range[str, 1, 7]  # "#1e90ff"
ChannelList = app_commands.Range[str, 1, 1000]  # "#papers-2 #papers-3" (Discord sends <#id> mentions)
CHANNEL_REF = re.compile(r"<#(\d{1,20})>|\b(\d{15,20})\b")
MARKS = {"sent": "✅ sent", "failed": "❌ failed", "pending": "↻ will retry"}


def log_line(entry: LogEntry) -> str:
    """One ledger row for /admin log: when, where, what happened to which paper, and why."""
    when = discord.utils.format_dt(entry.at, "f") if entry.at else "—"
    title = escape_markdown(clip(" ".join(entry.title.split()), 80))  # a source's title never becomes markup
    line = f"{when} <#{entry.channel_id}> {MARKS.get(entry.status, entry.status)} · {title}"
    if entry.reason and entry.status != "sent":
        line += f"\n  ↳ {escape_markdown(clip(entry.reason, 200))}"
    return line


def channel_ids(text: str) -> list[str]:
    """Channel mentions (or bare ids) in what the admin typed, in order, without repeats."""
    found = [a or b for a, b in CHANNEL_REF.findall(text)]
    if not found:
        raise Refused("Name the channels to copy to as mentions, e.g. `to: #papers-2 #papers-3`.")
    return list(dict.fromkeys(found))


class ChannelAdminCommands(AdminPart):
    """A channel's template, cap, log and copies (joins the /admin group of bot.cogs.admin.Admin)."""

    @app_commands.command(name="template", description="A channel's own text for each paper, and embed colour")
    @app_commands.describe(channel="A channel or forum with subscriptions",
                           text="Per paper, e.g. {title} by {authors}: {tldr} {link} (also {matched} {query} "
                                "{categories})",
                           colour="Embed colour as six hex digits, e.g. #1e90ff",
                           reset="Back to the built-in text and colour")
    async def template(self, interaction: discord.Interaction, channel: AnyChannel, text: TemplateText | None = None,
                       colour: ColorText | None = None, reset: bool = False) -> None:
        subscriber_id = await self._channel_subscriber_id(require_guild(interaction), channel.id)
        changes: dict[str, object] = {"template": None, "embed_color": None} if reset else {}
        if text is not None:
            changes["template"] = text
        if colour is not None:
            changes["embed_color"] = colour
        if not changes:
            raise Refused("Give a `text`, a `colour`, or `reset:True`. Placeholders: "
                          + ", ".join("{" + p + "}" for p in PLACEHOLDERS) + ".")
        options = await self.bot.run_db(set_target, self.bot.db, subscriber_id, **changes)
        await answer(interaction, f"{channel.mention}: {options.describe()}. "
                                  "Preview it on any paper with `/admin test paper:`.")

    @app_commands.command(name="cap", description="At most this many papers a day in a channel; the rest as one list")
    @app_commands.describe(channel="A channel or forum with subscriptions",
                           papers="Papers a day posted in full; the rest go as one “N more papers” message",
                           off="Remove the cap")
    async def cap(self, interaction: discord.Interaction, channel: AnyChannel,
                  papers: app_commands.Range[int, 1, DAILY_CAP_MAX] | None = None, off: bool = False) -> None:
        subscriber_id = await self._channel_subscriber_id(require_guild(interaction), channel.id)
        if papers is None and not off:
            raise Refused("Give `papers` (1-1000 a day), or `off:True` to remove the cap.")
        options = await self.bot.run_db(set_target, self.bot.db, subscriber_id, daily_cap=None if off else papers)
        await answer(interaction, f"{channel.mention}: {options.describe()}.")

    @app_commands.command(name="log", description="The latest deliveries and failures, with reasons and times")
    @app_commands.describe(channel="Only this channel's deliveries")
    async def log(self, interaction: discord.Interaction, channel: AnyChannel | None = None) -> None:
        guild_id = require_guild(interaction)
        found = await self.bot.run_db(delivery_log, self.bot.db, guild_id, str(channel.id) if channel else None)
        lines = [f"⏸ <#{address}> paused: {clip(reason, 200)} (fix it, then `/admin resume`)"
                 for address, reason in found.paused]
        lines += [log_line(entry) for entry in found.entries]
        where = channel.mention if channel else "this server"
        await send_pages(interaction, paginate(lines, f"Delivery log of {where} (latest {len(found.entries)})"))

    @app_commands.command(name="copy", description="Give other channels one channel's look and schedule")
    @app_commands.rename(source="from")
    @app_commands.describe(source="The channel whose settings are copied",
                           to=f"Up to {COPY_TARGETS_MAX} channels with subscriptions, e.g. #papers-2 #papers-3")
    async def copy(self, interaction: discord.Interaction, source: AnyChannel, to: ChannelList) -> None:
        guild_id = require_guild(interaction)
        changed = await self.bot.run_db(copy_channel_settings, self.bot.db, guild_id, str(source.id),
                                        channel_ids(to))
        await answer(interaction, f"Copied the style, template, colour, cap, role mention and schedule of "
                                  f"{source.mention} to {', '.join(f'<#{c}>' for c in changed)}.")
