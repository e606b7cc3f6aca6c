"""Member commands to look things up: /search (the best stored matches, paged) and /paper (one paper).

Thin: digest.services.search finds, ranks and summarizes; this cog renders with
digest.discord.render, ephemerally (a search concerns one person). Both defer first: the
search runs on the bot's heavy pool (bounded, off the event loop) and summaries may take seconds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.autocomplete import paper_ids
from bot.checks import PaperRef, QueryText, query_cooldown
from bot.replies import answer, defer, warning_lines
from bot.views import send_embed_pages
from digest.discord.render import paper_embed
from digest.services.search import describe_paper, rank_stored, summarized
from digest.services.subscribers import validate_query

if TYPE_CHECKING:
    from bot.client import PaperBot

SHOWN = 5  # papers per page (one message of embeds)
PAGES = 3  # pages a member can turn through


class Search(commands.Cog):
    def __init__(self, bot: PaperBot) -> None:
        self.bot = bot

    @app_commands.command(name="search", description="The best stored papers for a query")
    @app_commands.describe(query='A query in paperbell\'s language, e.g. ti:mamba "state space" -survey')
    @query_cooldown
    async def search(self, interaction: discord.Interaction, query: QueryText) -> None:
        bot, db, settings = self.bot, self.bot.db, self.bot.settings
        text = validate_query(settings, query)  # a pointed refusal as the initial response
        await defer(interaction)
        result, papers = await bot.run_heavy(rank_stored, settings, db, text, shown=SHOWN * PAGES,
                                             candidates=settings.discord_search_candidates, now=bot.clock())
        result = await summarized(settings, db, result, papers)
        warnings = "".join(f"{line}\n" for line in warning_lines(result.warnings))
        if not result.items:
            await answer(interaction, f"{warnings}No stored paper matches `{text}`.")
            return
        embeds = [discord.Embed.from_dict(paper_embed(item)) for item in result.items]
        pages = [embeds[i : i + SHOWN] for i in range(0, len(embeds), SHOWN)]
        of = f"{result.count}{'+' if not result.complete else ''}"
        await send_embed_pages(interaction, pages, f"{warnings}Best {len(embeds)} of {of} stored matches for `{text}`:",
                               shareable=True)

    @app_commands.command(name="paper", description="One stored paper by arXiv id or DOI")
    @app_commands.describe(id="arXiv id, abs URL or DOI, e.g. 2410.17243")
    @app_commands.autocomplete(id=paper_ids)
    async def paper(self, interaction: discord.Interaction, id: PaperRef) -> None:
        await defer(interaction)  # the summarizer may take seconds; Discord wants an answer within 3
        found, item = await describe_paper(self.bot.settings, self.bot.db, id)
        embed = discord.Embed.from_dict(paper_embed(item, sources=found.sources))
        await send_embed_pages(interaction, [[embed]], shareable=True)


async def setup(bot: PaperBot) -> None:
    await bot.add_cog(Search(bot))
