"""Paginated ephemeral lists with Previous/Next buttons (used by /subscriptions and /admin subscriptions).

Only the member who ran the command can turn the pages; pages are rendered up front (plain strings),
so a button press never touches the database. Used by /subscriptions, /admin subscriptions and /search.
"""

from __future__ import annotations

import discord

from bot.replies import answer
from digest.discord.render import clip, clip_message

PAGE_SIZE = 10


def paginate(lines: list[str], title: str) -> list[discord.Embed]:
    pages = [lines[i : i + PAGE_SIZE] for i in range(0, len(lines), PAGE_SIZE)] or [[]]
    embeds = []
    for number, chunk in enumerate(pages, start=1):
        embed = discord.Embed(title=clip(title, 256), description=clip("\n".join(chunk) or "Nothing yet.", 4096))
        if len(pages) > 1:
            embed.set_footer(text=f"page {number}/{len(pages)} · {len(lines)} in all")
        embeds.append(embed)
    return embeds


class Pager(discord.ui.View):
    def __init__(self, owner_id: int, pages: list[list[discord.Embed]], timeout: float = 300) -> None:
        super().__init__(timeout=timeout)
        self.owner_id = owner_id
        # clipped once here, so page turns (edits) obey Discord's limits like every other message
        self.pages = [[discord.Embed.from_dict(e) for e in clip_message({"embeds": [x.to_dict() for x in page]})
                       ["embeds"]] for page in pages]
        self.index = 0
        self._update_buttons()

    def _update_buttons(self) -> None:
        self.previous.disabled = self.index == 0
        self.next.disabled = self.index >= len(self.pages) - 1

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.user.id != self.owner_id:
            await interaction.response.send_message("These buttons belong to someone else's list.", ephemeral=True)
            return False
        return True

    async def _show(self, interaction: discord.Interaction, step: int) -> None:
        self.index = max(0, min(len(self.pages) - 1, self.index + step))
        self._update_buttons()
        await interaction.response.edit_message(embeds=self.pages[self.index], view=self)

    @discord.ui.button(label="Previous", style=discord.ButtonStyle.secondary, custom_id="pager:previous")
    async def previous(self, interaction: discord.Interaction, _button: discord.ui.Button[Pager]) -> None:
        await self._show(interaction, -1)

    @discord.ui.button(label="Next", style=discord.ButtonStyle.secondary, custom_id="pager:next")
    async def next(self, interaction: discord.Interaction, _button: discord.ui.Button[Pager]) -> None:
        await self._show(interaction, 1)


async def send_pages(interaction: discord.Interaction, pages: list[discord.Embed]) -> None:
    """One embed per page; see `send_embed_pages`."""
    await send_embed_pages(interaction, [[page] for page in pages])


async def send_embed_pages(interaction: discord.Interaction, pages: list[list[discord.Embed]],
                           content: str | None = None) -> None:
    """The first page (as the response or, after a defer, the follow-up), with buttons when there are more."""
    view = Pager(interaction.user.id, pages) if len(pages) > 1 else None
    await answer(interaction, content, embeds=pages[0], view=view)
