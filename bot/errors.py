"""Turns application-command errors into the one-line, ephemeral reason a user sees (bot.client uses it).

Every refusal says why: service refusals (`ServiceError`) are shown as is, failed checks say what is
missing, anything unexpected gets a generic line (and is logged by the caller).
"""

from __future__ import annotations

from discord import app_commands

from digest.services.errors import ServiceError


class Refused(app_commands.CheckFailure):
    """A check failed; the message is shown to the user."""


def explain_app_command_error(error: app_commands.AppCommandError) -> tuple[str, bool]:
    """(message for the user, whether the error was expected)."""
    original = getattr(error, "original", None)
    if isinstance(original, ServiceError | Refused):
        return str(original), True
    if isinstance(error, Refused):
        return str(error), True
    if isinstance(error, app_commands.MissingPermissions):
        return "You need the Manage Server permission (or the bot's admin role) for this command.", True
    if isinstance(error, app_commands.NoPrivateMessage):
        return "This command only works in a server.", True
    if isinstance(error, app_commands.CommandOnCooldown):
        return (f"Slow down: you can run {error.cooldown.rate} queries a minute here; "
                f"try again in {error.retry_after:.0f}s."), True
    if isinstance(error, app_commands.CheckFailure):
        return "You are not allowed to use this command here.", True
    return "Something went wrong on our side; the error was logged.", False
