"""/more-like PAPER: papers like one you name, and (with subscribe:True) a subscription seeded from it.

Thin: validates, calls digest.services.likes in a worker thread (resolve, preview with the chosen
threshold, subscribe with the paper recorded as your 👍), answers ephemerally. The 👍/👎 buttons
themselves are bot.feedback's persistent DynamicItem, not a command.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import PaperRef
from bot.errors import Refused
from bot.replies import defer
from bot.views import send_embed_pages
from digest.discord import guilds
from digest.discord.render import escape_markdown
from digest.feedback.similar import DEFAULT_THRESHOLD
from digest.services import likes
from storage.models import SubscriberKind

if TYPE_CHECKING:
    from bot.client import PaperBot

SHOWN = 5


class Feedback(commands.Cog):
    def __init__(self, bot: PaperBot) -> None:
        self.bot = bot

    @app_commands.command(name="more-like", description="Papers like one you name; subscribe to get more like it")
    @app_commands.describe(paper="arXiv id or DOI, e.g. 2410.17243", threshold="similarity 0-1 (default 0.05)",
                           subscribe="save a subscription seeded from this paper (DM delivery)")
    async def more_like(
        self, interaction: discord.Interaction, paper: PaperRef,
        threshold: app_commands.Range[float, 0.0, 1.0] = DEFAULT_THRESHOLD, subscribe: bool = False,
    ) -> None:
        bot, db, settings = self.bot, self.bot.db, self.bot.settings
        await defer(interaction)  # database and similarity work follow; Discord wants an answer within 3 s
        seeds = await bot.run_db(likes.resolve_seeds, db, [paper])
        if not seeds.paper_ids:
            raise Refused(seeds.missing[0] if seeds.missing else "That paper is not stored here.")
        guild_id = str(interaction.guild_id) if interaction.guild_id else None
        user_id = str(interaction.user.id)
        if subscribe:
            await bot.run_db(guilds.check_member_limit, db, settings, guild_id, user_id)
        preview = await bot.run_heavy(likes.preview_like, db, seeds.paper_ids, threshold=threshold, limit=SHOWN)
        lines = [f"**{preview.matched}** recent papers are at least {threshold:g} like it:"]
        lines += [f"• {escape_markdown(title)} `{canonical}` ({similarity:.2f})"
                  for _, canonical, title, similarity in preview.found]
        if subscribe:
            subscriber = await bot.run_db(guilds.discord_subscriber, db, settings, SubscriberKind.DISCORD_USER.value,
                                      user_id, guild_id, str(interaction.user))
            subscription, _ = await bot.run_db(likes.subscribe_like, db, settings, subscriber.id, seeds.paper_ids, None,
                                           created_by=guilds.created_by_member(user_id), channel="discord")
            lines.append(f"Saved subscription **#{subscription.id}** `{subscription.query}` (DMs); "
                         "the paper counts as your 👍, so papers like it come first.")
        await send_embed_pages(interaction, [[]], "\n".join(lines), shareable=not subscribe)


async def setup(bot: PaperBot) -> None:
    await bot.add_cog(Feedback(bot))
