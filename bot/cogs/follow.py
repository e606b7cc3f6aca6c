"""/follow author: — follow a person, not a string: the name's spellings, initials, accents, ORCID.

The `author` option autocompletes with the people the typed name may be (digest.services.authors:
from the stored papers, with paper counts and co-authors); each choice's value is what goes
between the quotes of an `author:"…"` clause (at most 100 characters, Discord's limit). A value
typed without picking follows the name as typed. The clause is then saved exactly as /subscribe
saves a query (same checks, preview and reply), ANDed with `query:` when one is given.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.autocomplete import people
from bot.checks import QueryText, query_cooldown
from bot.errors import Refused
from digest.query.people import MAX_NAME_LENGTH, parse_identity

if TYPE_CHECKING:
    from bot.client import PaperBot

# a choice value is at most 100 characters; a name typed by hand at most MAX_NAME_LENGTH
AuthorText = app_commands.Range[str, 1, MAX_NAME_LENGTH]


class Follow(commands.Cog):
    def __init__(self, bot: PaperBot) -> None:
        self.bot = bot

    @app_commands.command(name="follow", description="Follow an author: their papers under any spelling of the name")
    @app_commands.describe(author="Start typing a name, then pick the person (paper count, co-authors, ORCID)",
                           query="Only their papers that also match this query (optional)",
                           deliver="dm (default): to your DMs; here: to this channel, if its admins allow it")
    @app_commands.autocomplete(author=people)
    @query_cooldown
    async def follow(self, interaction: discord.Interaction, author: AuthorText, query: QueryText | None = None,
                     deliver: Literal["dm", "here"] = "dm") -> None:
        try:
            parse_identity(author)
        except ValueError as refused:
            raise Refused(f"Cannot follow this author: {refused}.") from None
        clause = f'author:"{author}"'
        text = f"{clause} ({query})" if query and query.strip() else clause
        subscriptions = self.bot.get_cog("Subscriptions")
        assert subscriptions is not None, "the subscriptions cog is loaded first (bot.client.COGS)"
        # the very code path of /subscribe: validation, member limits, preview, reply
        await subscriptions.subscribe.callback(subscriptions, interaction, text, deliver)  # type: ignore[attr-defined]


async def setup(bot: PaperBot) -> None:
    await bot.add_cog(Follow(bot))
