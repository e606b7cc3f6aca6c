"""Autocomplete callbacks for command options: paper ids, IANA time zones, a server's subscriptions, people.

Discord shows at most 25 choices, each name 1-100 characters; an autocomplete answer must come within
3 s like any interaction, so each callback does one small query on the bot's quick pool.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any
from zoneinfo import available_timezones

import discord
from discord import app_commands

from digest.discord import guilds
from digest.query.people import name_problem
from digest.services.authors import AUTOCOMPLETE_SCAN, find_candidates
from digest.services.errors import ServiceError
from digest.services.paper_lookup import suggest_papers
from digest.services.subscribers import list_subscriptions

MAX_CHOICES = 25


def _name(text: str) -> str:
    return " ".join(text.split())[:100] or "?"


@lru_cache(maxsize=1)
def _zones() -> tuple[str, ...]:
    return tuple(sorted(available_timezones()))


async def time_zones(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
    wanted = current.strip().lower().replace(" ", "_")
    found = [z for z in _zones() if wanted in z.lower()]
    return [app_commands.Choice(name=z, value=z) for z in found[:MAX_CHOICES]]


async def paper_ids(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
    bot: Any = interaction.client
    rows = await bot.run_db(suggest_papers, bot.db, current.strip()[:64], MAX_CHOICES)
    return [app_commands.Choice(name=_name(label), value=key) for key, label in rows]


async def people(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
    """Who the typed name may be (for /follow author:): "Yoshua Bengio · 12 papers · with …" → the
    `author:` clause text of that person (a short, stable value: names and ORCIDs, at most 100 characters)."""
    bot: Any = interaction.client
    typed = " ".join(current.split())
    if len(typed) < 3 or name_problem(typed) is not None:
        return []  # nothing to look up yet; a refusal is said when the command runs
    try:
        found = await bot.run_db(find_candidates, bot.db, typed, MAX_CHOICES, AUTOCOMPLETE_SCAN)
    except ServiceError:
        return []
    return [app_commands.Choice(name=_name(c.describe()), value=c.clause_text) for c in found]


async def guild_subscriptions(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[int]]:
    """This server's subscriptions (for /admin remove, pause, resume)."""
    bot: Any = interaction.client
    if interaction.guild_id is None:
        return []
    rows = await bot.run_db(list_subscriptions, bot.db, guild_id=str(interaction.guild_id))
    return _subscription_choices(rows, current)


async def own_subscriptions(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[int]]:
    """The member's own subscriptions (for /unsubscribe, /pause, /resume)."""
    bot: Any = interaction.client
    guild_id = str(interaction.guild_id) if interaction.guild_id else None
    rows = await bot.run_db(guilds.member_subscriptions, bot.db, guild_id, str(interaction.user.id))
    return _subscription_choices(rows, current)


def _subscription_choices(rows: list[Any], current: str) -> list[app_commands.Choice[int]]:
    wanted = current.lower().lstrip("#")
    return [
        app_commands.Choice(name=_name(f"#{s.id} {s.query}"), value=int(s.id or 0))
        for s in rows if wanted in f"{s.id} {s.query}".lower()
    ][:MAX_CHOICES]
