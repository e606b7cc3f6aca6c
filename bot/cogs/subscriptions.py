"""Member commands for their own subscriptions: /subscribe, /unsubscribe, /subscriptions (with what the
ranking learned), /pause, /resume, /forget-votes.

`/subscriptions` lists them; with `edit:` and `query:` it first replaces one subscription's query (pending
papers the new query no longer matches are then not sent: digest.services.claim_check).

Thin: each command validates what needs no database, defers (the initial response, well within
Discord's 3 s), then calls digest.services (subscribers, preview, guilds) on the bot's quick pool and
follows up ephemerally. A member only ever sees and changes their own subscriptions
(digest.discord.guilds.member_subscription); refusals (ServiceError) are shown as is by the tree.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.autocomplete import own_subscriptions
from bot.checks import QueryText, UpdateKinds, query_cooldown
from bot.errors import Refused
from bot.replies import answer, defer, health_words, preview_lines, subscription_line
from bot.views import paginate, send_pages
from digest.core.matchable import BACKFILL_MAX_DAYS
from digest.discord import guilds
from digest.services.feedback import vote_counts
from digest.services.learned import reset_learning, what_it_learned
from digest.services.lifecycle import set_update_kinds
from digest.services.preview import preview_query
from digest.services.query_health import health_by_id
from digest.services.subscribers import (
    edit_query,
    remove_subscription,
    set_subscriber_paused,
    set_subscription_paused,
    subscribe,
    validate_query,
)
from digest.services.trending import TRENDING_QUERY, describe, is_trending
from storage.models import SubscriberKind
from storage.types import utcnow

if TYPE_CHECKING:
    from bot.client import PaperBot

SUBSCRIPTION = "One of your subscriptions (start typing its number or query)"


class Subscriptions(commands.Cog):
    def __init__(self, bot: PaperBot) -> None:
        self.bot = bot

    async def _own(self, interaction: discord.Interaction, subscription_id: int) -> int:
        guild_id = str(interaction.guild_id) if interaction.guild_id else None
        subscription = await self.bot.run_db(
            guilds.member_subscription, self.bot.db, guild_id, str(interaction.user.id), subscription_id
        )
        return subscription.subscriber_id

    async def _check_here(self, interaction: discord.Interaction, guild_id: str | None) -> None:
        if guild_id is None:
            raise Refused("`deliver:here` only works in a server channel; use `deliver:dm`.")
        limits = await self.bot.run_db(guilds.guild_limits, self.bot.db, self.bot.settings, guild_id)
        if str(interaction.channel_id) not in limits.member_channels:
            raise Refused("Members may not subscribe this channel: its admins have not allowed it "
                          "(`/admin limits here_channel:`). Use `deliver:dm`.")

    @app_commands.command(name="subscribe",
                          description="Get the day's trending papers, or new papers matching a query (DM or here)")
    @app_commands.describe(query='A query, e.g. "diffusion model" -survey; leave empty for the day\'s trending papers',
                           top="Without a query: trending papers a day (default 10)",
                           deliver="dm (default): to your DMs; here: to this channel, if its admins allow it",
                           backfill="Days of stored matches in your first digest (0: only new; default: server's)")
    @query_cooldown
    async def subscribe(
        self, interaction: discord.Interaction, query: QueryText | None = None, deliver: Literal["dm", "here"] = "dm",
        backfill: app_commands.Range[int, 0, BACKFILL_MAX_DAYS] | None = None,
        top: app_commands.Range[int, 1, 100] | None = None,
    ) -> None:
        bot, settings = self.bot, self.bot.settings
        trending = is_trending(query)
        # the pointed parser message, before anything else
        text = TRENDING_QUERY if trending else validate_query(settings, query or "")
        guild_id = str(interaction.guild_id) if interaction.guild_id else None
        user_id = str(interaction.user.id)
        await defer(interaction)
        if deliver == "here":
            await self._check_here(interaction, guild_id)
        await bot.run_db(guilds.check_member_limit, bot.db, settings, guild_id, user_id)
        preview = None if trending else await bot.run_heavy(preview_query, bot.db, settings, text, days=7, limit=3)
        if deliver == "here":
            kind, address = SubscriberKind.DISCORD_CHANNEL.value, str(interaction.channel_id)
            name = getattr(interaction.channel, "name", None)
        else:
            kind, address, name = SubscriberKind.DISCORD_USER.value, user_id, str(interaction.user)
        subscriber = await bot.run_db(guilds.discord_subscriber, bot.db, settings, kind, address, guild_id, name)
        added = await bot.run_db(
            subscribe, bot.db, settings, subscriber.id, text, guilds.created_by_member(user_id), backfill_days=backfill,
            top_n=top,
        )
        subscription = added.subscription
        where = "in your DMs" if deliver == "dm" else f"in <#{address}>"
        first = (f"{added.backfilled} already stored match{'es' if added.backfilled != 1 else ''} from the last "
                 f"{added.backfill_days} days will be in the first digest." if added.backfill_days
                 else "Only papers that arrive from now on will be delivered.")
        if preview is None:
            label = describe(subscription.query, subscription.max_items)
            await answer(interaction, f"Saved subscription **#{subscription.id}** `{label}` — they arrive {where} "
                                      f"({subscriber.schedule}, from {subscriber.digest_hour:02d}:00 "
                                      f"{subscriber.timezone}), ranked by Hugging Face upvotes and readers' 👍.")
        else:
            await answer(interaction, f"Saved subscription **#{subscription.id}** `{text}` — new papers arrive "
                                      f"{where} ({subscriber.schedule}). {first}\n{preview_lines(preview)}")
        bot.dispatch("paperbell_subscribed", subscription)

    @app_commands.command(name="unsubscribe", description="Delete one of your subscriptions")
    @app_commands.describe(subscription=SUBSCRIPTION)
    @app_commands.autocomplete(subscription=own_subscriptions)
    async def unsubscribe(self, interaction: discord.Interaction, subscription: int) -> None:
        await defer(interaction)
        owner = await self._own(interaction, subscription)
        removed = await self.bot.run_db(remove_subscription, self.bot.db, subscription, owner_id=owner)
        await answer(interaction, f"Removed **#{removed.id}** `{describe(removed.query, removed.max_items)}`.")

    @app_commands.command(name="subscriptions", description="Your subscriptions in this server and your DMs")
    @app_commands.describe(edit="One of your subscriptions whose query to replace (give query: too)",
                           query="The new query for the subscription given in edit:",
                           updates="With edit: say when a sent paper changes: new-version, published, code, all, none")
    @app_commands.autocomplete(edit=own_subscriptions)
    async def subscriptions(self, interaction: discord.Interaction, edit: int | None = None,
                            query: QueryText | None = None, updates: UpdateKinds | None = None) -> None:
        if edit is not None or query is not None or updates is not None:
            await self._edit(interaction, edit, query, updates)
            return
        await defer(interaction)
        guild_id = str(interaction.guild_id) if interaction.guild_id else None
        bot = self.bot
        mine = await bot.run_db(guilds.member_subscriptions, bot.db, guild_id, str(interaction.user.id))
        owners = await bot.run_db(guilds.subscribers_by_id, bot.db, sorted({s.subscriber_id for s in mine}))
        health = await bot.run_db(health_by_id, bot.db, mine, utcnow())
        lines = [subscription_line(s, owners.get(s.subscriber_id)) + health_words(health.get(s.id or 0))
                 for s in mine]
        own = await bot.run_db(guilds.discord_subscriber_or_none, bot.db, SubscriberKind.DISCORD_USER.value,
                               str(interaction.user.id))
        votes = f" · {(await bot.run_db(vote_counts, bot.db, own.id)).describe()}" if own and own.id else ""
        learned = await bot.run_db(what_it_learned, bot.db, own.id) if own and own.id else []
        if learned:  # what puts papers first in their "Top picks for you", in plain words
            lines.insert(0, f"Ranked first for you: {' · '.join(learned)} (/forget-votes resets it)")
        await send_pages(interaction, paginate(lines, f"Your subscriptions ({len(lines)}){votes}"))

    async def _edit(self, interaction: discord.Interaction, edit: int | None, query: str | None,
                    updates: str | None = None) -> None:
        if edit is None or not (query or updates is not None):
            raise Refused("To change a subscription give both `edit:` (which one) and `query:` (the new query) "
                          "or `updates:` (new-version, published, code, all or none).")
        text = validate_query(self.bot.settings, query) if query else None  # the parser's message, before anything
        await defer(interaction)
        owner = await self._own(interaction, edit)
        said = ""
        if updates is not None:  # lifecycle alerts for the papers this subscription delivered
            stored = await self.bot.run_db(set_update_kinds, self.bot.db, edit, updates, owner_id=owner)
            said = (f"Updates on {stored.replace(',', ', ')} for papers **#{edit}** sent you, in your next digest."
                    if stored else f"No lifecycle updates for **#{edit}**.")
        if text is None:
            await answer(interaction, said)
            return
        changed = await self.bot.run_db(edit_query, self.bot.db, self.bot.settings, edit, text, owner_id=owner)
        await answer(interaction, f"Changed **#{changed.id}** to `{changed.query.replace('`', 'ˋ')}`. "
                                  "Pending papers the new query does not match will not be sent." + (
                                      f"\n{said}" if said else ""))

    @app_commands.command(name="forget-votes",
                          description="Forget your 👍/👎: your DMs go back to the order without votes")
    async def forget_votes(self, interaction: discord.Interaction) -> None:
        await defer(interaction)
        own = await self.bot.run_db(guilds.discord_subscriber_or_none, self.bot.db, SubscriberKind.DISCORD_USER.value,
                                    str(interaction.user.id))
        forgotten = await self.bot.run_db(reset_learning, self.bot.db, own.id) if own and own.id else 0
        await answer(interaction, f"Forgot {forgotten} of your votes; your digests come in the order without votes "
                                  "until you vote again." if forgotten else "You have no votes to forget.")

    @app_commands.command(name="pause", description="Pause one subscription, or all your DMs when none is given")
    @app_commands.describe(subscription=SUBSCRIPTION + "; leave empty to pause all your DMs")
    @app_commands.autocomplete(subscription=own_subscriptions)
    async def pause(self, interaction: discord.Interaction, subscription: int | None = None) -> None:
        await self._set_paused(interaction, subscription, True)

    @app_commands.command(name="resume", description="Resume one subscription, or your DMs when none is given")
    @app_commands.describe(subscription=SUBSCRIPTION + "; leave empty to resume all your DMs")
    @app_commands.autocomplete(subscription=own_subscriptions)
    async def resume(self, interaction: discord.Interaction, subscription: int | None = None) -> None:
        await self._set_paused(interaction, subscription, False)

    async def _set_paused(self, interaction: discord.Interaction, subscription: int | None, paused: bool) -> None:
        bot, word = self.bot, "Paused" if paused else "Resumed"
        await defer(interaction)
        if subscription is None:
            found = await bot.run_db(guilds.discord_subscriber_or_none, bot.db, SubscriberKind.DISCORD_USER.value,
                                     str(interaction.user.id))
            if found is None:
                raise Refused("You have no DM subscriptions yet; try /subscribe.")
            await bot.run_db(set_subscriber_paused, bot.db, found.id, paused, "paused by you" if paused else None)
            await answer(interaction, f"{word} all deliveries to your DMs.")
            return
        owner = await self._own(interaction, subscription)
        changed = await bot.run_db(set_subscription_paused, bot.db, subscription, paused, owner_id=owner)
        await answer(interaction, f"{word} **#{changed.id}** `{changed.query}`.")


async def setup(bot: PaperBot) -> None:
    await bot.add_cog(Subscriptions(bot))
