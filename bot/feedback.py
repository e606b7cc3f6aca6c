"""Persistent 👍/👎 buttons on posted papers: a `discord.ui.DynamicItem` any bot process understands.

Registered by bot.client's setup hook (`add_dynamic_items`), so a press on a message posted before a
restart still works: the custom id (digest.discord.components) carries the paper and the
direction, the interaction says who and where. The callback validates, calls
digest.discord.votes in a worker thread and answers ephemerally with one line.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import discord

from digest.discord.components import CUSTOM_ID_TEMPLATE
from digest.discord.render import clip
from digest.discord.votes import discord_vote
from digest.services.errors import ServiceError

log = logging.getLogger(__name__)


class VoteButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=CUSTOM_ID_TEMPLATE):
    def __init__(self, paper_id: int, direction: str, label: str | None = None) -> None:
        super().__init__(discord.ui.Button(
            label=label or ("👍" if direction == "up" else "👎"), style=discord.ButtonStyle.secondary,
            custom_id=f"pb:vote:{paper_id}:{direction}",
        ))
        self.paper_id = paper_id
        self.direction = direction

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> VoteButton:
        return cls(int(match["paper"]), match["direction"], getattr(item, "label", None))

    async def callback(self, interaction: discord.Interaction) -> None:
        client: Any = interaction.client
        db = client.db
        await interaction.response.defer(ephemeral=True, thinking=True)  # answer first: the vote may retrain
        try:
            text = await client.run_db(
                discord_vote, db, user_id=str(interaction.user.id), channel_id=str(interaction.channel_id),
                in_dm=interaction.guild_id is None, paper_id=self.paper_id, vote=1 if self.direction == "up" else -1,
            )
        except ServiceError as exc:
            text = str(exc)
        except Exception:
            log.exception("discord: vote on paper %s failed", self.paper_id)
            text = "Your vote could not be recorded; the error was logged. Try again later."
        await interaction.followup.send(clip(text, 2000), ephemeral=True)
