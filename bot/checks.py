"""Run-time checks shared by the cogs: who counts as a server admin, and the per-member query rate.

`/admin` commands are registered with `default_permissions(manage_guild)`, but Discord lets server
owners override that, so the bot checks again at run time: Manage Server (or Administrator), or the
server's admin role (set with `/admin limits admin_role:`), or the role named by
`PAPERBELL_DISCORD_ADMIN_ROLE`.
"""

from __future__ import annotations

import time
from collections import defaultdict, deque

import discord

from bot.errors import Refused
from digest.services.errors import LimitExceeded
from digest.services.guilds import GuildLimits
from digest.settings import Settings


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


class QueryRate:
    """A sliding one-minute window per member; /search and /subscribe count against it."""

    def __init__(self) -> None:
        self._hits: dict[tuple[str | None, int], deque[float]] = defaultdict(deque)

    def take(self, guild_id: str | None, user_id: int, per_minute: int) -> None:
        now = time.monotonic()
        hits = self._hits[(guild_id, user_id)]
        while hits and hits[0] <= now - 60:
            hits.popleft()
        if len(hits) >= per_minute:
            wait = 60 - (now - hits[0])
            raise LimitExceeded(f"you can run {per_minute} queries a minute here; try again in {wait:.0f}s")
        hits.append(now)
