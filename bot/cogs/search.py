"""Member commands to look things up: /search (the best stored matches as embeds) and /paper (one paper).

Thin: preview_query / find_paper do the work; results are ranked with digest.assembly's ranking and
rendered with bot.embeds, ephemerally (a search concerns one person).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.embeds import pack, paper_embed
from bot.poster import to_discord
from digest.assembly import rank_digest_items
from digest.email.items import make_item
from digest.services.paper_lookup import find_paper
from digest.services.preview import preview_query
from digest.services.subscribers import validate_query
from digest.summaries import summarize_papers

if TYPE_CHECKING:
    from bot.client import PaperBot
    from bot.cogs.subscriptions import Subscriptions

SEARCH_DAYS = 3650  # "stored papers": the whole store, not just last week
CANDIDATES = 50
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
        preview = await db.run(preview_query, db, settings, text, days=SEARCH_DAYS, limit=CANDIDATES)
        papers = [paper for paper, _ in preview.examples]
        summaries = await summarize_papers(settings, db, papers)
        items = [
            make_item(settings, 0, paper, None, text, explanation.to_dict(), summaries.get(paper.id or 0, ""))
            for paper, explanation in preview.examples
        ]
        best = rank_digest_items(items, bot.clock())[:SHOWN]
        if not best:
            await interaction.followup.send(f"No stored paper matches `{text}`.", ephemeral=True)
            return
        message = pack([paper_embed(item) for item in best],
                       content=f"Best {len(best)} of {preview.count} stored matches for `{text}`:")[0]
        await interaction.followup.send(**to_discord(message), ephemeral=True)

    @app_commands.command(name="paper", description="One stored paper by arXiv id")
    @app_commands.describe(id="arXiv id, e.g. 2410.17243")
    async def paper(self, interaction: discord.Interaction, id: str) -> None:
        db, settings = self.bot.db, self.bot.settings
        found = await db.run(find_paper, db, id)
        summaries = await summarize_papers(settings, db, [found])
        item = make_item(settings, 0, found, None, "", {}, summaries.get(found.id or 0, ""))
        message = pack([paper_embed(item, sources=found.sources)])[0]
        await interaction.response.send_message(**to_discord(message), ephemeral=True)


async def setup(bot: PaperBot) -> None:
    await bot.add_cog(Search(bot))
