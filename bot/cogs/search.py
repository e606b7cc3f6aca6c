"""Member commands to look things up: /search (the best stored matches as embeds) and /paper (one paper).

Thin: digest.services.search finds, ranks and summarizes; this cog renders with digest.delivery.discord_render,
ephemerally (a search concerns one person).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.poster import to_discord
from digest.delivery.discord_render import pack, paper_embed
from digest.services.search import describe_paper, search_stored
from digest.services.subscribers import validate_query

if TYPE_CHECKING:
    from bot.client import PaperBot
    from bot.cogs.subscriptions import Subscriptions

SHOWN = 5


class Search(commands.Cog):
    def __init__(self, bot: PaperBot) -> None:
        self.bot = bot

    @app_commands.command(name="search", description="The best stored papers for a query")
    @app_commands.describe(query='e.g. ti:mamba "state space"')
    async def search(self, interaction: discord.Interaction, query: str) -> None:
        bot, db, settings = self.bot, self.bot.db, self.bot.settings
        text = validate_query(settings, query)
        subscriptions: Subscriptions | None = bot.get_cog("Subscriptions")  # type: ignore[assignment]
        if subscriptions is not None:  # one per-minute budget for /search and /subscribe
            await subscriptions.take_query(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        result = await search_stored(settings, db, text, shown=SHOWN, now=bot.clock())
        best = result.items
        if not best:
            await interaction.followup.send(f"No stored paper matches `{text}`.", ephemeral=True)
            return
        message = pack([paper_embed(item) for item in best],
                       content=f"Best {len(best)} of {result.count} stored matches for `{text}`:")[0]
        await interaction.followup.send(**to_discord(message), ephemeral=True)

    @app_commands.command(name="paper", description="One stored paper by arXiv id")
    @app_commands.describe(id="arXiv id, e.g. 2410.17243")
    async def paper(self, interaction: discord.Interaction, id: str) -> None:
        found, item = await describe_paper(self.bot.settings, self.bot.db, id)
        message = pack([paper_embed(item, sources=found.sources)])[0]
        await interaction.response.send_message(**to_discord(message), ephemeral=True)


async def setup(bot: PaperBot) -> None:
    await bot.add_cog(Search(bot))
