"""Ephemeral answers with Previous/Next buttons, and a "Share to channel" button on results worth sharing.

Only the member who ran the command can press them; pages are rendered up front (plain strings), so
a button press never touches the database. Paged: /subscriptions, /admin subscriptions, /search and
/digest. Shareable (a public copy of the page shown, posted by the bot where the command was run, if
the bot may post there): /search, /paper and /more-like.
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
    def __init__(self, owner_id: int, pages: list[list[discord.Embed]], timeout: float = 300, *,
                 content: str | None = None, shareable: bool = False) -> None:
        super().__init__(timeout=timeout)
        self.owner_id = owner_id
        self.content = content
        if len(pages) <= 1:
            self.remove_item(self.previous)
            self.remove_item(self.next)
        if not shareable:
            self.remove_item(self.share)
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

    @discord.ui.button(label="Share to channel", style=discord.ButtonStyle.primary, custom_id="pager:share")
    async def share(self, interaction: discord.Interaction, _button: discord.ui.Button[Pager]) -> None:
        await interaction.response.send_message(await self._share(interaction), ephemeral=True)

    async def _share(self, interaction: discord.Interaction) -> str:
        """Post a public copy of the page shown; the answer says what happened."""
        channel = interaction.channel
        if interaction.guild_id is None or not isinstance(channel, discord.abc.Messageable):
            return "Sharing works in a server channel; here only you can see the answer anyway."
        allowed = interaction.app_permissions
        in_thread = isinstance(channel, discord.Thread)
        if not ((allowed.send_messages_in_threads if in_thread else allowed.send_messages) and allowed.embed_links):
            return "I can't post in this channel (I need Send Messages and Embed Links here); nothing was shared."
        intro = f"{interaction.user.mention} shared:"
        text = intro if not self.content or self.index else f"{intro}\n{self.content}"
        copy = clip_message({"content": text, "embeds": [e.to_dict() for e in self.pages[self.index]]})
        try:
            await channel.send(content=copy.get("content"), embeds=[discord.Embed.from_dict(e) for e in copy["embeds"]],
                               allowed_mentions=discord.AllowedMentions.none())
        except discord.HTTPException as error:  # e.g. slowmode or a permission taken away meanwhile
            return f"Discord refused the post ({error.status} {error.code}); nothing was shared."
        return "Shared in this channel."


async def send_pages(interaction: discord.Interaction, pages: list[discord.Embed]) -> None:
    """One embed per page; see `send_embed_pages`."""
    await send_embed_pages(interaction, [[page] for page in pages])


async def send_embed_pages(interaction: discord.Interaction, pages: list[list[discord.Embed]],
                           content: str | None = None, *, shareable: bool = False) -> None:
    """The first page (as the response or, after a defer, the follow-up), with buttons when there are more
    pages or the answer may be shared."""
    wanted = len(pages) > 1 or shareable
    view = Pager(interaction.user.id, pages, content=content, shareable=shareable) if wanted else None
    await answer(interaction, content, embeds=pages[0], view=view)
