"""The Discord double speaks enough of the real protocol for an unmodified discord.Client (tests/bot)."""

from __future__ import annotations

import asyncio

import discord
import yarl
from discord import app_commands
from discord.gateway import DiscordWebSocket

from bot.client import point_at_api
from tests.bot.discord_double import DiscordDouble


class PingClient(discord.Client):
    def __init__(self, guild_id: int) -> None:
        super().__init__(intents=discord.Intents.default(), guild_ready_timeout=0.05)
        self.tree = app_commands.CommandTree(self)
        self.guild_id = guild_id
        self.guilds_seen: list[int] = []

        @self.tree.command(name="ping", description="pong")
        async def ping(interaction: discord.Interaction, word: str) -> None:
            await interaction.response.send_message(f"pong {word}", ephemeral=True)

    async def setup_hook(self) -> None:

        _, url, _ = await self.http.get_bot_gateway()
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(url)
        guild = discord.Object(self.guild_id)
        self.tree.copy_global_to(guild=guild)
        await self.tree.sync(guild=guild)

    async def on_guild_available(self, guild: discord.Guild) -> None:
        self.guilds_seen.append(guild.id)


async def test_real_client_connects_and_answers_an_interaction(double: DiscordDouble) -> None:
    guild_id = double.add_guild()
    channel_id = double.add_channel(guild_id, "papers")
    user_id = double.add_member(guild_id, "ada")
    point_at_api(double.api_base)
    client = PingClient(int(guild_id))
    runner = asyncio.create_task(client.start(double.token))
    try:
        await asyncio.wait_for(client.wait_until_ready(), 10)
        assert client.guilds_seen == [int(guild_id)]
        assert client.get_channel(int(channel_id)) is not None
        token = await double.run_command(guild_id, channel_id, user_id, "ping", word="hi")
        reply = await double.reply_to(token)
        assert reply["type"] == 4 and reply["data"]["content"] == "pong hi" and reply["data"]["flags"] & 64
        assert double.gateway.identifies == 1
        assert double.gateway.heartbeats >= 1  # discord.py beats right after HELLO; the ACK gives a latency
        assert client.latency != float("inf")
        registered = double.commands[guild_id]
        assert [c["name"] for c in registered] == ["ping"] and registered[0]["options"][0]["name"] == "word"
    finally:
        await client.close()
        await asyncio.gather(runner, return_exceptions=True)
