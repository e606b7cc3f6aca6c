"""Run-time checks shared by the cogs: who counts as a server admin, and the per-member query rate.

The query rate uses discord.py's own cooldown mechanism (`app_commands.checks.dynamic_cooldown`).

`/admin` commands are registered with `default_permissions(manage_guild)`, but Discord lets server
owners override that, so the bot checks again at run time: Manage Server (or Administrator), or the
server's admin role (set with `/admin limits admin_role:`), or the role named by
`PAPERBELL_DISCORD_ADMIN_ROLE`.
"""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands

from bot.errors import Refused
from digest.discord.guilds import GuildLimits, guild_limits
from digest.settings import Settings

# Text options carry a `max_length`, so Discord's client stops an over-long value before it is sent.
# Queries: the default `query_max_length`; a longer setting is still capped here (a query is a line).
QueryText = app_commands.Range[str, 1, 500]
PaperRef = app_commands.Range[str, 1, 200]  # an arXiv id, abs URL or DOI
TimeText = app_commands.Range[str, 1, 20]  # "08:00" or "monday 08:00"
ZoneText = app_commands.Range[str, 1, 64]  # IANA names are at most ~32 characters
UrlText = app_commands.Range[str, 1, 2048]
UpdateKinds = app_commands.Range[str, 1, 60]  # "new-version,published,code", "all" or "none"


def is_admin(interaction: discord.Interaction, settings: Settings, limits: GuildLimits) -> bool:
    permissions = interaction.permissions
    if permissions.manage_guild or permissions.administrator:
        return True
    member = interaction.user
    if not isinstance(member, discord.Member):
        return False
    for role in member.roles:
        if limits.admin_role_id and str(role.id) == limits.admin_role_id:
            return True
        if settings.discord_admin_role and role.name == settings.discord_admin_role:
            return True
    return False


def require_guild(interaction: discord.Interaction) -> str:
    if interaction.guild_id is None:
        raise Refused("This command only works in a server.")
    return str(interaction.guild_id)


async def _query_cooldown(interaction: discord.Interaction) -> app_commands.Cooldown:
    """The member's query budget: this server's `queries_per_minute`, else the configured default."""
    bot: Any = interaction.client
    per_minute = bot.settings.discord_queries_per_minute
    if interaction.guild_id is not None:
        limits = await bot.run_db(guild_limits, bot.db, bot.settings, str(interaction.guild_id))
        per_minute = limits.queries_per_minute
    return app_commands.Cooldown(per_minute, 60.0)


def _member_key(interaction: discord.Interaction) -> tuple[int | None, int]:
    return interaction.guild_id, interaction.user.id


# ONE decorator instance (one cooldown mapping) on /search and /subscribe: they share the budget.
# discord.py runs it as a check before the command body, so a refusal is the initial response.
query_cooldown = app_commands.checks.dynamic_cooldown(_query_cooldown, key=_member_key)
