"""Paginated ephemeral lists with Previous/Next buttons (used by /subscriptions and /admin subscriptions).

Only the member who ran the command can turn the pages; pages are rendered up front (plain strings),
so a button press never touches the database.
"""

from __future__ import annotations

import discord

from digest.delivery.discord_render import clip

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
    def __init__(self, owner_id: int, pages: list[discord.Embed], timeout: float = 300) -> None:
        super().__init__(timeout=timeout)
        self.owner_id = owner_id
        self.pages = pages
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
        await interaction.response.edit_message(embed=self.pages[self.index], view=self)

    @discord.ui.button(label="Previous", style=discord.ButtonStyle.secondary, custom_id="pager:previous")
    async def previous(self, interaction: discord.Interaction, _button: discord.ui.Button[Pager]) -> None:
        await self._show(interaction, -1)

    @discord.ui.button(label="Next", style=discord.ButtonStyle.secondary, custom_id="pager:next")
    async def next(self, interaction: discord.Interaction, _button: discord.ui.Button[Pager]) -> None:
        await self._show(interaction, 1)


async def send_pages(interaction: discord.Interaction, pages: list[discord.Embed]) -> None:
    if len(pages) == 1:
        await interaction.response.send_message(embed=pages[0], ephemeral=True)
    else:
        await interaction.response.send_message(embed=pages[0], view=Pager(interaction.user.id, pages),
                                                ephemeral=True)
