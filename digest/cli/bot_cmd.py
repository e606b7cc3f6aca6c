"""`paperbell bot …`: Discord bot maintenance. `bot sync` registers the slash commands.

Global registration happens only here (Discord rate-limits it and it takes a while to spread), never
on every start; with `--guild ID` the commands go to one server at once (development).
"""

from __future__ import annotations

import typer

from digest.cli.context import fail, open_app

bot_app = typer.Typer(help="Discord bot maintenance.", no_args_is_help=True)


@bot_app.command("sync")
def sync(
    guild: int | None = typer.Option(None, "--guild", help="Register in this server only (instant, for testing)."),
) -> None:
    """Register the bot's slash commands with Discord (globally, or in one server with --guild)."""
    import asyncio

    from digest.runtime.bot import sync_commands

    with open_app() as ctx:
        if ctx.settings.discord_token is None:
            fail("PAPERBELL_DISCORD_TOKEN is not set")
        try:
            names = asyncio.run(sync_commands(ctx.settings, ctx.db, guild))
        except Exception as exc:  # discord.py's errors: bad token, no access to the guild, network
            fail(f"could not register the commands: {exc}")
    where = f"in guild {guild}" if guild else "globally (may take up to an hour to appear everywhere)"
    typer.echo(f"registered {len(names)} commands {where}: {', '.join(sorted(names))}")


def register(app: typer.Typer) -> None:
    """Add the `bot` command group to the main app."""
    app.add_typer(bot_app, name="bot")
