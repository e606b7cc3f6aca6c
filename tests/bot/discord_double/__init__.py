"""A local double of Discord's REST API and gateway for end-to-end tests of the bot (see server.py)."""

from tests.bot.discord_double.server import DiscordDouble, Recorded

__all__ = ["DiscordDouble", "Recorded"]
