"""Member commands /digest (what is pending for you, right now) and /help (the query language in one screen).

Thin: digest.services.discord_delivery.pending_digest renders without claiming, so /digest never
changes what the next scheduled delivery sends.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.poster import to_discord
from digest.delivery.discord_render import render_text
from digest.services import guilds
from digest.services.discord_delivery import pending_digest
from storage.models import SubscriberKind

if TYPE_CHECKING:
    from bot.client import PaperBot


class Digest(commands.Cog):
    def __init__(self, bot: PaperBot) -> None:
        self.bot = bot

    @app_commands.command(name="digest", description="What is waiting for you, right now")
    async def digest(self, interaction: discord.Interaction) -> None:
        db, settings = self.bot.db, self.bot.settings
        subscriber = await db.run(
            guilds.discord_subscriber_or_none, db, SubscriberKind.DISCORD_USER.value, str(interaction.user.id)
        )
        if subscriber is None:
            await interaction.response.send_message("You have no subscriptions yet; try /subscribe.", ephemeral=True)
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        count, messages = await pending_digest(settings, db, subscriber, self.bot.clock())
        if count == 0:
            note = "Nothing is waiting for you."
            if subscriber.paused:
                note += f" Deliveries are paused: {subscriber.pause_reason or 'paused'} — /resume to restart."
            await interaction.followup.send(note, ephemeral=True)
            return
        first = messages[0]
        if subscriber.paused:
            first["content"] = (first.get("content") or "") + \
                f"\n⏸️ Deliveries are paused: {subscriber.pause_reason} — /resume to restart."
        await interaction.followup.send(**to_discord(first), ephemeral=True)

    @app_commands.command(name="help", description="How to write a query, and the commands")
    async def help(self, interaction: discord.Interaction) -> None:
        settings = self.bot.settings
        text = render_text("help.md.j2", max_length=settings.query_max_length, max_clauses=settings.query_max_clauses)
        await interaction.response.send_message(text, ephemeral=True)


async def setup(bot: PaperBot) -> None:
    await bot.add_cog(Digest(bot))
