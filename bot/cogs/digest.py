"""Member commands /digest (what is pending for you, right now) and /help (the query language in one screen).

Thin: digest.discord.delivery.pending_digest renders without claiming, so /digest never
changes what the next scheduled delivery sends; every pending message is a page (Previous/Next).
/digest defers first (it reads the ledger and may summarize); the pause note is put before the header,
so clipping (last, in `answer`) can only shorten the header, never drop the note.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.replies import answer, defer
from bot.views import send_embed_pages
from digest.discord import guilds
from digest.discord.delivery import pending_digest
from digest.discord.render import render_text
from storage.models import SubscriberKind

if TYPE_CHECKING:
    from bot.client import PaperBot


class Digest(commands.Cog):
    def __init__(self, bot: PaperBot) -> None:
        self.bot = bot

    @app_commands.command(name="digest", description="What is waiting for you, right now")
    async def digest(self, interaction: discord.Interaction) -> None:
        bot = self.bot
        await defer(interaction)
        subscriber = await bot.run_db(
            guilds.discord_subscriber_or_none, bot.db, SubscriberKind.DISCORD_USER.value, str(interaction.user.id)
        )
        if subscriber is None:
            await answer(interaction, "You have no subscriptions yet; try /subscribe.")
            return
        count, messages = await pending_digest(bot.settings, bot.db, subscriber, bot.clock())
        paused = f"⏸️ Deliveries are paused: {subscriber.pause_reason or 'paused'} — /resume to restart." \
            if subscriber.paused else ""
        if count == 0:
            await answer(interaction, " ".join(filter(None, ["Nothing is waiting for you.", paused])))
            return
        header = "\n".join(filter(None, [paused, messages[0].get("content")]))  # the pause note first: clipping
        pages = [[discord.Embed.from_dict(e) for e in m.get("embeds", [])] for m in messages]  # cuts the end
        await send_embed_pages(interaction, pages, header or None)

    @app_commands.command(name="help", description="How to write a query, and the commands")
    async def help(self, interaction: discord.Interaction) -> None:
        settings = self.bot.settings
        text = render_text("help.md.j2", max_length=settings.query_max_length, max_clauses=settings.query_max_clauses)
        await answer(interaction, text)


async def setup(bot: PaperBot) -> None:
    await bot.add_cog(Digest(bot))
