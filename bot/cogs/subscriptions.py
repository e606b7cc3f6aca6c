"""Member commands for their own subscriptions: /subscribe, /unsubscribe, /subscriptions, /pause, /resume.

Thin: each command validates, calls digest.services (subscribers, preview, guilds) in a worker thread
and answers ephemerally. A member only ever sees and changes their own subscriptions
(digest.services.guilds.member_subscription); refusals (ServiceError) are shown as is by the tree.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import QueryRate
from bot.errors import Refused
from bot.replies import preview_lines, subscription_line
from bot.views import paginate, send_pages
from digest.services import guilds
from digest.services.feedback import vote_counts
from digest.services.preview import preview_query
from digest.services.subscribers import (
    add_subscription,
    remove_subscription,
    set_subscriber_paused,
    set_subscription_paused,
    validate_query,
)
from storage.models import SubscriberKind

if TYPE_CHECKING:
    from bot.client import PaperBot


class Subscriptions(commands.Cog):
    def __init__(self, bot: PaperBot) -> None:
        self.bot = bot
        self.rate = QueryRate()

    # --- helpers ---------------------------------------------------------------------------
    async def take_query(self, interaction: discord.Interaction) -> None:
        """Count a query against the member's per-minute budget (server setting, else the default)."""
        guild_id = str(interaction.guild_id) if interaction.guild_id else None
        per_minute = self.bot.settings.discord_queries_per_minute
        if guild_id:
            limits = await self.bot.db.run(guilds.guild_limits, self.bot.db, self.bot.settings, guild_id)
            per_minute = limits.queries_per_minute
        self.rate.take(guild_id, interaction.user.id, per_minute)

    async def _own(self, interaction: discord.Interaction, subscription_id: int) -> int:
        guild_id = str(interaction.guild_id) if interaction.guild_id else None
        subscription = await self.bot.db.run(
            guilds.member_subscription, self.bot.db, guild_id, str(interaction.user.id), subscription_id
        )
        return subscription.subscriber_id

    async def own_autocomplete(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[int]]:
        guild_id = str(interaction.guild_id) if interaction.guild_id else None
        mine = await self.bot.db.run(guilds.member_subscriptions, self.bot.db, guild_id, str(interaction.user.id))
        wanted = current.lower().lstrip("#")
        choices = [
            app_commands.Choice(name=f"#{s.id} {s.query}"[:100], value=int(s.id or 0))
            for s in mine
            if wanted in f"{s.id} {s.query}".lower()
        ]
        return choices[:25]

    # --- commands --------------------------------------------------------------------------
    @app_commands.command(name="subscribe", description="Get new papers matching a query (DM, or here if allowed)")
    @app_commands.describe(query='e.g. "diffusion model" -survey', deliver="dm (default) or here (this channel)")
    async def subscribe(
        self, interaction: discord.Interaction, query: str, deliver: Literal["dm", "here"] = "dm"
    ) -> None:
        bot, db, settings = self.bot, self.bot.db, self.bot.settings
        text = validate_query(settings, query)  # the pointed parser message, before anything else
        await self.take_query(interaction)
        guild_id = str(interaction.guild_id) if interaction.guild_id else None
        user_id = str(interaction.user.id)
        if deliver == "here":
            if guild_id is None:
                raise Refused("`deliver:here` only works in a server channel; use `deliver:dm`.")
            limits = await db.run(guilds.guild_limits, db, settings, guild_id)
            if str(interaction.channel_id) not in limits.member_channels:
                raise Refused("Members may not subscribe this channel: its admins have not allowed it "
                              "(`/admin limits here_channel:`). Use `deliver:dm`.")
        await db.run(guilds.check_member_limit, db, settings, guild_id, user_id)
        await interaction.response.defer(ephemeral=True, thinking=True)
        preview = await db.run(preview_query, db, settings, text, days=7, limit=3)
        if deliver == "here":
            kind, address = SubscriberKind.DISCORD_CHANNEL.value, str(interaction.channel_id)
            name = getattr(interaction.channel, "name", None)
        else:
            kind, address, name = SubscriberKind.DISCORD_USER.value, user_id, str(interaction.user)
        subscriber = await db.run(guilds.discord_subscriber, db, settings, kind, address, guild_id, name)
        subscription = await db.run(
            add_subscription, db, settings, subscriber.id, text, guilds.created_by_member(user_id)
        )
        where = "in your DMs" if deliver == "dm" else f"in <#{address}>"
        await interaction.followup.send(
            f"Saved subscription **#{subscription.id}** `{text}` — new papers arrive {where} "
            f"({subscriber.schedule}).\n{preview_lines(preview)}",
            ephemeral=True,
        )
        bot.dispatch("paperbell_subscribed", subscription)

    @app_commands.command(name="unsubscribe", description="Delete one of your subscriptions")
    async def unsubscribe(self, interaction: discord.Interaction, subscription: int) -> None:
        owner = await self._own(interaction, subscription)
        removed = await self.bot.db.run(remove_subscription, self.bot.db, subscription, owner_id=owner)
        await interaction.response.send_message(f"Removed **#{removed.id}** `{removed.query}`.", ephemeral=True)

    @app_commands.command(name="subscriptions", description="Your subscriptions in this server and your DMs")
    async def subscriptions(self, interaction: discord.Interaction) -> None:
        guild_id = str(interaction.guild_id) if interaction.guild_id else None
        db = self.bot.db
        mine = await db.run(guilds.member_subscriptions, db, guild_id, str(interaction.user.id))
        owners = await db.run(guilds.subscribers_by_id, db, sorted({s.subscriber_id for s in mine}))
        lines = [subscription_line(s, owners.get(s.subscriber_id)) for s in mine]
        own = await db.run(guilds.discord_subscriber_or_none, db, SubscriberKind.DISCORD_USER.value,
                           str(interaction.user.id))
        votes = f" · {(await db.run(vote_counts, db, own.id)).describe()}" if own and own.id else ""  # issue 16
        await send_pages(interaction, paginate(lines, f"Your subscriptions ({len(lines)}){votes}"))

    @app_commands.command(name="pause", description="Pause one subscription, or all your DMs when none is given")
    async def pause(self, interaction: discord.Interaction, subscription: int | None = None) -> None:
        await self._set_paused(interaction, subscription, True)

    @app_commands.command(name="resume", description="Resume one subscription, or your DMs when none is given")
    async def resume(self, interaction: discord.Interaction, subscription: int | None = None) -> None:
        await self._set_paused(interaction, subscription, False)

    async def _set_paused(self, interaction: discord.Interaction, subscription: int | None, paused: bool) -> None:
        db, word = self.bot.db, "Paused" if paused else "Resumed"
        if subscription is None:
            found = await db.run(guilds.discord_subscriber_or_none, db, SubscriberKind.DISCORD_USER.value,
                                 str(interaction.user.id))
            if found is None:
                raise Refused("You have no DM subscriptions yet; try /subscribe.")
            await db.run(set_subscriber_paused, db, found.id, paused, "paused by you" if paused else None)
            await interaction.response.send_message(f"{word} all deliveries to your DMs.", ephemeral=True)
            return
        owner = await self._own(interaction, subscription)
        changed = await db.run(set_subscription_paused, db, subscription, paused, owner_id=owner)
        await interaction.response.send_message(f"{word} **#{changed.id}** `{changed.query}`.", ephemeral=True)

    unsubscribe.autocomplete("subscription")(own_autocomplete)
    pause.autocomplete("subscription")(own_autocomplete)
    resume.autocomplete("subscription")(own_autocomplete)


async def setup(bot: PaperBot) -> None:
    await bot.add_cog(Subscriptions(bot))
